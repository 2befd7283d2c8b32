"""Fit and measure the grounding check's threshold on labelled sentences.

``evaluation/grounding_pairs.jsonl`` holds sentences over the summit article, each with the
passage it cites and whether that passage supports it (paraphrases and shortenings: yes;
an added or changed fact, or a true sentence citing the wrong passage: no), split in half
(``fit`` / ``heldout``). The threshold is the one that classifies the ``fit`` half best
(the highest, among equals: a wrong sentence shown costs more than a true one dropped);
precision and recall of "supported" are reported on both halves.

    .venv/bin/python -m evaluation.fit_grounding            # print the fit and the figures
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant import REPO_ROOT, SUPPORT_THRESHOLD, support

PAIRS = REPO_ROOT / "evaluation" / "grounding_pairs.jsonl"


@dataclass(frozen=True)
class Pair:
    sentence: str
    passage: str
    supported: bool
    split: str
    kind: str


ARTICLE = REPO_ROOT / "data" / "korea_china_summit.txt"


def paragraph_of(passage: str, article: str) -> str:
    """The article's paragraph holding the passage: the context a name may come from (the
    answerer gives the model the best passages, most often neighbours)."""
    return next((line for line in article.splitlines() if passage in line), "")


def load(path: Path = PAIRS) -> list[Pair]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [
        Pair(r["sentence"], r["passage"], bool(r["supported"]), r["split"], r["kind"]) for r in rows
    ]


def figures(scored: Sequence[tuple[float, bool]], threshold: float) -> dict[str, float]:
    """Precision and recall of "supported" (the check keeps a sentence) and accuracy."""
    kept = [label for score, label in scored if score >= threshold]
    true_kept = sum(kept)
    positives = sum(label for _, label in scored)
    correct = sum((score >= threshold) == label for score, label in scored)
    return {
        "precision": round(true_kept / len(kept), 3) if kept else 1.0,
        "recall": round(true_kept / positives, 3) if positives else 1.0,
        "accuracy": round(correct / len(scored), 3),
        "n": len(scored),
    }


def fit(scored: Sequence[tuple[float, bool]]) -> float:
    """The threshold with the best accuracy; the highest among equals."""
    candidates = sorted({score for score, _ in scored} | {1.01})
    return max(candidates, key=lambda t: (figures(scored, t)["accuracy"], t))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.parse_args(argv)
    pairs = load()
    article = ARTICLE.read_text(encoding="utf-8")
    scored = {
        p: support(p.sentence, [p.passage], [paragraph_of(p.passage, article)]) for p in pairs
    }
    fit_half = [(scored[p], p.supported) for p in pairs if p.split == "fit"]
    held = [(scored[p], p.supported) for p in pairs if p.split == "heldout"]
    threshold = fit(fit_half)
    print(f"pairs: {len(pairs)} ({sum(p.supported for p in pairs)} supported)")
    print(f"fitted threshold on the fit half: {threshold:.3f} (in use: {SUPPORT_THRESHOLD})")
    for name, half in (("fit", fit_half), ("heldout", held), ("all", [*fit_half, *held])):
        print(f"  {name:8} at {SUPPORT_THRESHOLD}: {figures(half, SUPPORT_THRESHOLD)}")
    for kind in sorted({p.kind for p in pairs}):
        part = [(scored[p], p.supported) for p in pairs if p.kind == kind and p.split == "heldout"]
        kept = sum(s >= SUPPORT_THRESHOLD for s, _ in part)
        print(f"  heldout {kind}: kept {kept} of {len(part)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
