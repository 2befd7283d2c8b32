"""Evaluation metrics: pure functions over (Question, Answer) pairs, so they are testable
without the model and the numbers in a report can be recomputed from ``answers.jsonl``.

Each rate is taken over the questions it is about (see the README's "Evaluating"). A rate
over no questions is undefined and reported as ``None`` (``null`` in JSON, "n/a" in the
report), never as 0 or 1, so an empty category can't look like a perfect or failed one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from assistant import Answer
from evaluation.questions import Question
from evaluation.scoring import (
    TOP_CITATIONS,
    first_gold_rank,
    gold_citation,
    is_correct,
    missing_words,
    scored_as,
)

Pair = tuple[Question, Answer]

#: Rates in [0, 1], in report order.
RATE_METRICS = (
    "correct",
    "hit@1",
    "hit@3",
    "mrr",
    "citation_precision",
    "answered_rate",
    "refusal_rate",
    "refusals_without_sources",
    "followup_correct",
    "llm_written",
    "fallback_rate",
)
LATENCY_METRICS = ("latency_p50_ms", "latency_p95_ms", "first_sentence_p50_ms")
COUNTS = (
    "n_questions",
    "n_answerable",
    "n_unanswerable",
    "n_unscored",
    "n_followups",
    "n_errors",
    "n_skipped",
)
DIGITS = 4


def rate(flags: Sequence[bool | float]) -> float | None:
    """Mean of the flags, or None for an empty sequence (undefined, not zero)."""
    return round(sum(flags) / len(flags), DIGITS) if flags else None


def _answerable(pairs: Sequence[Pair]) -> list[Pair]:
    return [(q, a) for q, a in pairs if scored_as(q) == "answerable"]


def _with_gold(pairs: Sequence[Pair]) -> list[Pair]:
    return [(q, a) for q, a in _answerable(pairs) if q.gold]


def _unanswerable(pairs: Sequence[Pair]) -> list[Pair]:
    return [(q, a) for q, a in pairs if scored_as(q) == "unanswerable"]


def correct(pairs: Sequence[Pair]) -> float | None:
    """Share of answerable questions answered correctly (:func:`scoring.is_correct`)."""
    return rate([is_correct(q, a) for q, a in _answerable(pairs)])


def hit_at(pairs: Sequence[Pair], k: int) -> float | None:
    """Share of answerable questions with gold whose first ``k`` citations include gold."""
    ranks = [first_gold_rank(q, a.citations) for q, a in _with_gold(pairs)]
    return rate([r is not None and r <= k for r in ranks])


def mrr(pairs: Sequence[Pair]) -> float | None:
    """Mean of 1/rank of the first gold citation (0 when none matches), over all citations."""
    ranks = [first_gold_rank(q, a.citations) for q, a in _with_gold(pairs)]
    return rate([1 / r if r else 0.0 for r in ranks])


def citation_precision(pairs: Sequence[Pair]) -> float | None:
    """Share of all citations given for answerable questions with gold that match gold
    (pooled, so a question with no citations adds nothing; None when nothing was cited)."""
    flags = [gold_citation(q, c) for q, a in _with_gold(pairs) for c in a.citations]
    return rate(flags)


def answered_rate(pairs: Sequence[Pair]) -> float | None:
    """Share of answerable questions that got an answer at all (status ``answered``)."""
    return rate([a.status == "answered" for _, a in _answerable(pairs)])


def refusal_rate(pairs: Sequence[Pair]) -> float | None:
    """Share of unanswerable questions answered ``not_found``."""
    return rate([a.status == "not_found" for _, a in _unanswerable(pairs)])


def refusals_without_sources(pairs: Sequence[Pair]) -> float | None:
    """Share of unanswerable questions answered ``not_found`` *and* with no citations."""
    return rate([a.status == "not_found" and not a.citations for _, a in _unanswerable(pairs)])


def followup_correct(pairs: Sequence[Pair]) -> float | None:
    """Share of scored follow-ups (questions with history) judged correct by ``is_correct``."""
    return rate([is_correct(q, a) for q, a in pairs if q.history and scored_as(q) != "unscored"])


def llm_written(pairs: Sequence[Pair]) -> float | None:
    """Share of answered questions whose text the LLM wrote (0 on the extractive path)."""
    return rate([a.answerer == "llm" for _, a in pairs if a.status == "answered"])


def fallback_rate(pairs: Sequence[Pair]) -> float | None:
    """Share of the questions the LLM was asked to answer that got the extractive answer
    instead (a failed call, or no sentence passed the check); None when it was never asked."""
    return rate([a.fallback is not None for _, a in pairs if a.answerer == "llm" or a.fallback])


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (always an observed value), or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def latencies(pairs: Sequence[Pair]) -> list[float]:
    """Latencies of questions that ran (an input error has no meaningful latency)."""
    return [a.latency_ms for _, a in pairs if a.status != "error"]


#: Per-kind metrics (``by_kind`` in summary.json): ``passed`` is the share of the kind's scored
#: questions judged correct (an answer for answerable ones, a refusal for unanswerable ones).
KIND_METRICS = ("passed", "correct", "hit@1", "refusal_rate")


def passed(pairs: Sequence[Pair]) -> float | None:
    """Share of scored questions judged correct, answerable or not."""
    return rate([is_correct(q, a) for q, a in pairs if scored_as(q) != "unscored"])


def by_kind(pairs: Sequence[Pair]) -> dict[str, dict[str, Any]]:
    """Metrics per question ``kind`` (questions without one are left out), kinds sorted."""
    return by_group(pairs, lambda q: q.kind)


def by_language(pairs: Sequence[Pair]) -> dict[str, dict[str, Any]]:
    """The same metrics per question ``lang`` (questions without one are left out)."""
    return by_group(pairs, lambda q: q.lang)


def by_group(
    pairs: Sequence[Pair], key: Callable[[Question], str | None]
) -> dict[str, dict[str, Any]]:
    """:data:`KIND_METRICS` per value of ``key`` (None: left out), values sorted."""
    groups: dict[str, list[Pair]] = {}
    for q, a in pairs:
        if name := key(q):
            groups.setdefault(name, []).append((q, a))
    return {
        name: {
            "n": len(group),
            "passed": passed(group),
            "correct": correct(group),
            "hit@1": hit_at(group, 1),
            "refusal_rate": refusal_rate(group),
        }
        for name, group in sorted(groups.items())
    }


def summarize(pairs: Sequence[Pair], n_skipped: int = 0) -> dict[str, Any]:
    """``summary.json``: counts, then rates, then latency percentiles, then ``by_kind`` and
    ``by_language`` when the questions have kinds and languages."""
    kinds = [scored_as(q) for q, _ in pairs]
    rates: dict[str, Callable[[Sequence[Pair]], float | None]] = {
        "correct": correct,
        "hit@1": lambda ps: hit_at(ps, 1),
        "hit@3": lambda ps: hit_at(ps, TOP_CITATIONS),
        "mrr": mrr,
        "citation_precision": citation_precision,
        "answered_rate": answered_rate,
        "refusal_rate": refusal_rate,
        "refusals_without_sources": refusals_without_sources,
        "followup_correct": followup_correct,
        "llm_written": llm_written,
        "fallback_rate": fallback_rate,
    }
    times = latencies(pairs)
    p50, p95 = percentile(times, 50), percentile(times, 95)
    first = percentile([a.first_sentence_ms for _, a in pairs if a.first_sentence_ms], 50)
    return {
        "n_questions": len(pairs),
        "n_answerable": kinds.count("answerable"),
        "n_unanswerable": kinds.count("unanswerable"),
        "n_unscored": kinds.count("unscored"),
        "n_followups": sum(1 for q, _ in pairs if q.history),
        "n_errors": sum(1 for _, a in pairs if a.status == "error"),
        "n_skipped": n_skipped,
        **{name: metric(pairs) for name, metric in rates.items()},
        "latency_p50_ms": None if p50 is None else round(p50, 1),
        "latency_p95_ms": None if p95 is None else round(p95, 1),
        "first_sentence_p50_ms": None if first is None else round(first, 1),
        **({"by_kind": kinds_seen} if (kinds_seen := by_kind(pairs)) else {}),
        **({"by_language": langs} if (langs := by_language(pairs)) else {}),
    }


def question_metrics(question: Question, answer: Answer) -> dict[str, Any]:
    """Per-question columns of ``results.csv``; None where a column doesn't apply."""
    k = scored_as(question)
    scored = k != "unscored"
    gold = k == "answerable" and bool(question.gold)
    rank = first_gold_rank(question, answer.citations) if gold else None
    matching = sum(gold_citation(question, c) for c in answer.citations)
    return {
        "scored_as": k,
        "correct": is_correct(question, answer) if scored else None,
        "gold_rank": rank,
        "hit@1": rank == 1 if gold else None,
        "hit@3": (rank is not None and rank <= TOP_CITATIONS) if gold else None,
        "reciprocal_rank": (round(1 / rank, DIGITS) if rank else 0.0) if gold else None,
        "citation_precision": (
            round(matching / len(answer.citations), DIGITS) if gold and answer.citations else None
        ),
        "required_words": (
            not missing_words(answer.answer, question.must_include) if k == "answerable" else None
        ),
    }
