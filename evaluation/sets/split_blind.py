#!/usr/bin/env python3
"""Split the fourth to eighth blind sets once into a tune and a held-out half (stdlib only).

    python3 evaluation/sets/split_blind.py

Each blind set was measured whole once, before anyone read it. Then each was split,
by kind and a fixed seed, into ``<name>.tune.jsonl`` (read; tune data) and
``<name>.heldout.jsonl`` (reported only), so a blind measure outlives the first look. Each line
carries its own history, so it is asked the same way in either half (the lines of one
conversation may fall on both sides). Re-running gives identical files.

Not ``check_and_split.split`` (which also keeps a conversation's lines on one side): the
fourth sets' halves were made with this function and their tune halves read before that was
noticed, so re-splitting them would move questions already read into held-out; the fifth,
sixth and seventh sets are split the same way, so every blind set is split alike.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: Each blind set and the seed it was split with (the fourth's 2026, the fifth's 2027, the
#: sixth's 2028, the seventh's 2029, the eighth's 2030, the ninth's 2031).
SEEDS = {
    "summit_blind4": 2026,
    "multidoc_blind4": 2026,
    "multilingual_blind4": 2026,
    "summit_blind5": 2027,
    "multidoc_blind5": 2027,
    "summit_blind6": 2028,
    "multidoc_blind6": 2028,
    "summit_blind7": 2029,
    "multidoc_blind7": 2029,
    "summit_blind8": 2030,
    "multidoc_blind8": 2030,
    "summit_blind9": 2031,
    "multidoc_blind9": 2031,
}


def split(lines: list[str], seed: int) -> tuple[list[str], list[str]]:
    """Half of each kind (the smaller half when odd) to tune, the rest to held-out."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for line in lines:
        by_kind[json.loads(line)["kind"]].append(line)
    rng = random.Random(seed)
    tune: list[str] = []
    heldout: list[str] = []
    for kind in sorted(by_kind):
        ordered = sorted(by_kind[kind], key=lambda line: json.loads(line)["id"])
        rng.shuffle(ordered)
        half = len(ordered) // 2
        tune += ordered[:half]
        heldout += ordered[half:]
    return tune, heldout


def main() -> None:
    for name, seed in SEEDS.items():
        lines = [
            line if line.endswith("\n") else line + "\n"
            for line in (HERE / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        tune, heldout = split(lines, seed)
        (HERE / f"{name}.tune.jsonl").write_text("".join(tune), encoding="utf-8")
        (HERE / f"{name}.heldout.jsonl").write_text("".join(heldout), encoding="utf-8")
        print(f"{name}: tune {len(tune)}, heldout {len(heldout)}")


if __name__ == "__main__":
    main()
