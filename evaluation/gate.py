"""The pass/fail gate: ``--min METRIC=VALUE`` / ``--max METRIC=VALUE`` thresholds on summary.json.

Thresholds are parsed before anything runs, so a typo fails in a second (exit 2) rather than
after a long evaluation. An undefined metric (None: no questions of its kind) fails its
threshold: a gate can't pass on evidence that doesn't exist. Nor can it pass on a question set
with lines that couldn't be read (malformed, skipped), unless ``--allow-skipped N`` says how
many are expected: a mostly broken file must not look like a good run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from evaluation.metrics import COUNTS, LATENCY_METRICS, RATE_METRICS

GATE_METRICS = RATE_METRICS + LATENCY_METRICS + COUNTS


class GateError(ValueError):
    """A threshold that can't be understood (unknown metric, malformed value)."""


@dataclass(frozen=True)
class Threshold:
    metric: str
    bound: Literal["min", "max"]
    value: float

    def __str__(self) -> str:
        return f"--{self.bound} {self.metric}={self.value:g}"


def parse_threshold(text: str, bound: Literal["min", "max"]) -> Threshold:
    """``"correct=0.9"`` → Threshold; rates must lie in [0, 1] (90 meant as percent is an error)."""
    metric, sep, raw = text.partition("=")
    metric = metric.strip()
    if not sep or not metric:
        raise GateError(f"--{bound} {text!r}: expected METRIC=VALUE, e.g. correct=0.9")
    if metric not in GATE_METRICS:
        raise GateError(
            f"--{bound} {text!r}: unknown metric {metric!r}; known: {', '.join(GATE_METRICS)}"
        )
    try:
        value = float(raw)
    except ValueError:
        raise GateError(f"--{bound} {text!r}: {raw.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise GateError(f"--{bound} {text!r}: the value must be finite")
    if metric in RATE_METRICS and not 0.0 <= value <= 1.0:
        raise GateError(f"--{bound} {text!r}: {metric} is a rate between 0 and 1")
    return Threshold(metric, bound, value)


def misses(summary: Mapping[str, Any], thresholds: Sequence[Threshold]) -> list[str]:
    """One short reason per threshold the summary misses (empty: the gate passes)."""
    reasons = []
    for t in thresholds:
        actual = summary.get(t.metric)
        if actual is None:
            reasons.append(f"{t.metric} is undefined (no questions of its kind)")
        elif t.bound == "min" and actual < t.value:
            reasons.append(f"{t.metric} {actual:g} < {t.value:g}")
        elif t.bound == "max" and actual > t.value:
            reasons.append(f"{t.metric} {actual:g} > {t.value:g}")
    return reasons


def skipped_miss(n_skipped: int, allowed: int) -> str | None:
    """The reason a gate fails on skipped input lines, or None when there are few enough."""
    if n_skipped <= allowed:
        return None
    return (
        f"{n_skipped} input line(s) skipped (malformed; allowed: {allowed}); fix them, or "
        "pass --allow-skipped N when they are expected"
    )
