"""Compare two evaluation runs: metric deltas and the questions that flipped.

Works from the files a run leaves (``summary.json``, ``results.csv``), so any two output
directories can be compared later, e.g. before and after a change to retrieval.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
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


Delta = tuple[str, Any, Any, float | None]


@dataclass(frozen=True)
class Comparison:
    deltas: list[Delta]
    fixed: list[str]
    broken: list[str]
    #: ``passed`` per question kind, as (kind, old, new, delta).
    kind_deltas: list[Delta] = field(default_factory=list)


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
    deltas = [
        _delta(name, old.summary.get(name), new.summary.get(name))
        for name in (*COUNTS, *RATE_METRICS, *LATENCY_METRICS)
        if name in old.summary or name in new.summary
    ]
    old_kinds, new_kinds = old.summary.get("by_kind") or {}, new.summary.get("by_kind") or {}
    kind_deltas = [
        _delta(kind, old_kinds.get(kind, {}).get("passed"), new_kinds.get(kind, {}).get("passed"))
        for kind in sorted(set(old_kinds) | set(new_kinds))
    ]
    both = [qid for qid in new.correct if old.correct.get(qid) is not None]
    fixed = [q for q in both if old.correct[q] is False and new.correct[q] is True]
    broken = [q for q in both if old.correct[q] is True and new.correct[q] is False]
    return Comparison(deltas, fixed, broken, kind_deltas)


def _delta(name: str, a: Any, b: Any) -> Delta:
    numbers = isinstance(a, int | float) and isinstance(b, int | float)
    return name, a, b, round(b - a, 4) if numbers else None


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
    if comparison.kind_deltas:
        lines += ["", f"{'passed, by kind':<26}{'old':>12}{'new':>12}{'delta':>10}"]
        for name, a, b, delta in comparison.kind_deltas:
            shown = "" if delta is None else f"{delta:+g}"
            lines.append(f"{name:<26}{_show(a):>12}{_show(b):>12}{shown:>10}")
    lines.append("")
    lines.append(f"fixed ({len(comparison.fixed)}): {', '.join(comparison.fixed) or '-'}")
    lines.append(f"broken ({len(comparison.broken)}): {', '.join(comparison.broken) or '-'}")
    return "\n".join(lines)
