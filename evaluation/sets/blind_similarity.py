#!/usr/bin/env python3
"""Near-copy scan for new blind question sets (standard library only).

    python3 evaluation/sets/blind_similarity.py [NEW.jsonl ...]

For every question and history turn of the new files (by default the ninth blind sets),
finds the most similar question or history turn in the reference files (the tune halves, the
dev set, the extra sets and the earlier blind sets) and prints the NEW text only, with the
score and the reference file's name, when the overlap is high. It never prints a reference
question, so a writer can reword near-copies without reading the reference sets.

Similarity: for Latin text, content words (lower case, a few stop words dropped) compared
by Jaccard and by containment of the shorter side, plus difflib's ratio on the normalised
strings; for Korean/Chinese/Japanese text, Jaccard of character bigrams. Exit status 0.
"""

from __future__ import annotations

import difflib
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from check_and_split import norm  # noqa: E402  (the evaluator's normalisation, shared)

ROOT = HERE.parent.parent
NEW = [HERE / f"{n}_blind9.jsonl" for n in ("summit", "multidoc")]
REFERENCE = [
    HERE / "summit.tune.jsonl",
    HERE / "multidoc.tune.jsonl",
    HERE / "summit_extra.tune.jsonl",
    HERE / "multidoc_extra.tune.jsonl",
    HERE / "summit_blind.jsonl",
    HERE / "multilingual.tune.jsonl",
    HERE / "multilingual_extra.tune.jsonl",
    HERE / "multilingual_blind.jsonl",
    HERE / "summit_blind4.jsonl",
    HERE / "multidoc_blind4.jsonl",
    HERE / "multilingual_blind4.jsonl",
    HERE / "summit_blind5.jsonl",
    HERE / "multidoc_blind5.jsonl",
    HERE / "summit_blind6.jsonl",
    HERE / "multidoc_blind6.jsonl",
    HERE / "summit_blind7.jsonl",
    HERE / "multidoc_blind7.jsonl",
    HERE / "summit_blind8.jsonl",
    HERE / "multidoc_blind8.jsonl",
    ROOT / "tests" / "data" / "dev_questions.jsonl",
]
STOP = set(
    "a an the of to in on at for and or is are was were be been did do does what which who "
    "how when where why it its this that there their they them with about by from as any "
    "so me i my you your can could would please per according article piece story".split()
)
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3]")
# thresholds: flag when any one is reached
JACCARD, CONTAIN, RATIO, BIGRAM = 0.5, 0.8, 0.75, 0.45


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", norm(text)) if w not in STOP}


def bigrams(text: str) -> set[str]:
    chars = "".join(c for c in norm(text) if not c.isspace() and c not in "?？!！。、,.，")
    return {chars[i : i + 2] for i in range(len(chars) - 1)}


def texts(path: Path) -> list[tuple[str, str]]:
    """(id, text) for every question and history turn of a file."""
    out = []
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            for i, t in enumerate([d.get("question", ""), *(d.get("history") or [])]):
                out.append((d.get("id", "?") + ("" if i == 0 else f" (history {i})"), t))
    return out


def score(a: str, b: str) -> tuple[float, str]:
    """The highest of the measures, scaled so 1.0 = its threshold; and which measure."""
    if CJK.search(a) or CJK.search(b):
        x, y = bigrams(a), bigrams(b)
        j = len(x & y) / len(x | y) if x | y else 0.0
        return j / BIGRAM, f"bigram {j:.2f}"
    x, y = words(a), words(b)
    best = []
    if x and y:
        best.append((len(x & y) / len(x | y) / JACCARD, f"jaccard {len(x & y) / len(x | y):.2f}"))
        small = min(len(x), len(y))
        if small >= 4:
            c = len(x & y) / small
            best.append((c / CONTAIN, f"contain {c:.2f}"))
    r = difflib.SequenceMatcher(None, norm(a), norm(b)).ratio()
    best.append((r / RATIO, f"ratio {r:.2f}"))
    return max(best)


def main(argv: list[str]) -> int:
    new_files = [Path(a) for a in argv] or NEW
    refs = [(p.name, t) for p in REFERENCE for _, t in texts(p)]
    flagged = 0
    for path in new_files:
        for oid, text in texts(path):
            best = max(((score(text, t), name) for name, t in refs), default=None)
            if best and best[0][0] >= 1.0:
                flagged += 1
                (_, how), name = best
                print(f"{path.name} {oid}: {text!r}  [{how} vs a line of {name}]")
    print(f"{flagged} new text(s) flagged")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
