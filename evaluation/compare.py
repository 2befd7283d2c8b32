"""Compare two evaluation runs: metric deltas and the questions that flipped.

Works from the files a run leaves (``summary.json``, ``results.csv``), so any two output
directories can be compared later, e.g. before and after a change to retrieval.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation.metrics import COUNTS, LATENCY_METRICS, RATE_METRICS


class CompareError(ValueError):
    """An output directory without a readable summary.json / results.csv."""


@dataclass(frozen=True)
class Run:
    summary: dict[str, Any]
    #: id → correct (None when the question isn't scored), in file order.
    correct: dict[str, bool | None]


@dataclass(frozen=True)
class Comparison:
    deltas: list[tuple[str, Any, Any, float | None]]
    fixed: list[str]
    broken: list[str]


def load_run(directory: Path) -> Run:
    """A run's summary and per-question correctness, or :class:`CompareError`."""
    try:
        summary = json.loads((directory / "summary.json").read_text(encoding="utf-8"))
        with (directory / "results.csv").open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, ValueError, csv.Error) as exc:
        raise CompareError(f"{directory} is not a readable eval output directory: {exc}") from exc
    if not isinstance(summary, dict):
        raise CompareError(f"{directory / 'summary.json'} is not a JSON object")
    verdict = {"true": True, "false": False}
    return Run(summary, {r.get("id", ""): verdict.get(r.get("correct", "")) for r in rows})


def compare_runs(old: Run, new: Run) -> Comparison:
    """Deltas for every metric either run has; flips among questions scored in both."""
    deltas = []
    for name in (*COUNTS, *RATE_METRICS, *LATENCY_METRICS):
        if name not in old.summary and name not in new.summary:
            continue
        a, b = old.summary.get(name), new.summary.get(name)
        delta = (
            round(b - a, 4) if isinstance(a, int | float) and isinstance(b, int | float) else None
        )
        deltas.append((name, a, b, delta))
    both = [qid for qid in new.correct if old.correct.get(qid) is not None]
    fixed = [q for q in both if old.correct[q] is False and new.correct[q] is True]
    broken = [q for q in both if old.correct[q] is True and new.correct[q] is False]
    return Comparison(deltas, fixed, broken)


def _show(value: Any) -> str:
    if value is None:
        return "n/a"
    return f"{value:g}" if isinstance(value, float) else str(value)


def format_comparison(comparison: Comparison, old_name: str, new_name: str) -> str:
    """A plain-text table of deltas followed by the fixed and broken question ids."""
    lines = [
        f"old: {old_name}",
        f"new: {new_name}",
        f"{'metric':<26}{'old':>12}{'new':>12}{'delta':>10}",
    ]
    for name, a, b, delta in comparison.deltas:
        shown = "" if delta is None else f"{delta:+g}"
        lines.append(f"{name:<26}{_show(a):>12}{_show(b):>12}{shown:>10}")
    lines.append("")
    lines.append(f"fixed ({len(comparison.fixed)}): {', '.join(comparison.fixed) or '-'}")
    lines.append(f"broken ({len(comparison.broken)}): {', '.join(comparison.broken) or '-'}")
    return "\n".join(lines)
