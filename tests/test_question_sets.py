"""The committed question sets are valid, and each blind set's halves are its fixed split.

A hand edit of a held-out half (or a line added to a whole file but not to its halves) would
change what the gates in ``test_heldout.py`` measure without anyone noticing; these checks
fail instead. Both run the sets' own stdlib scripts, as a writer of a new set does.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

from assistant import REPO_ROOT

SETS = REPO_ROOT / "evaluation" / "sets"


def test_every_extra_and_blind_set_passes_its_validator() -> None:
    done = subprocess.run(
        [sys.executable, str(SETS / "check_extra.py")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for name in (
        "summit_blind5.jsonl: 120 questions",
        "multidoc_blind5.jsonl: 48 questions",
        "summit_blind6.jsonl: 120 questions",
        "multidoc_blind6.jsonl: 48 questions",
        "summit_blind7.jsonl: 120 questions",
        "multidoc_blind7.jsonl: 48 questions",
    ):
        assert name in done.stdout


def test_each_blind_sets_halves_are_its_split_by_its_seed() -> None:
    spec = importlib.util.spec_from_file_location("split_blind", SETS / "split_blind.py")
    assert spec is not None and spec.loader is not None
    split_blind = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(split_blind)
    for name, seed in split_blind.SEEDS.items():
        lines = [
            line + "\n"
            for line in (SETS / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        tune, heldout = split_blind.split(lines, seed)
        assert (SETS / f"{name}.tune.jsonl").read_text(encoding="utf-8") == "".join(tune), name
        held = (SETS / f"{name}.heldout.jsonl").read_text(encoding="utf-8")
        assert held == "".join(heldout), name
        assert len(tune) + len(heldout) == len(lines)
