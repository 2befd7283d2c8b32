"""Per-question judgement, as defined in the question-set README: the one judge.

A citation matches gold evidence when one contains the other after normalising (NFKC,
curly quotes straightened, whitespace folded, case-insensitive). An answer is *correct*
exactly when :func:`failure_reasons` finds nothing wrong: it is answered, has every required
word group, cites matching evidence among its first ``TOP_CITATIONS`` citations, and is at
most ``MAX_ANSWER_CHARS`` characters. An unanswerable question is correct when refused with
no sources.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from assistant import Answer, Citation, Passage
from evaluation.questions import Question
from vectorstore import normalize_for_match

#: The limits of a correct answer (the question-set README's definition).
MAX_ANSWER_CHARS = 400
TOP_CITATIONS = 3

Scoring = Literal["answerable", "unanswerable", "unscored"]


def scored_as(question: Question) -> Scoring:
    """``answerable=false`` → unanswerable; true, or gold/required words given → answerable;
    a bare question (nothing to judge against) is answered and reported but not scored."""
    if question.answerable is False:
        return "unanswerable"
    if question.answerable or question.gold or question.must_include:
        return "answerable"
    return "unscored"


def evidence_matches(text: str, gold: Sequence[str]) -> bool:
    cited = normalize_for_match(text)
    return any((g := normalize_for_match(item)) and (g in cited or cited in g) for item in gold)


def gold_citation(question: Question, citation: Citation) -> bool:
    """A citation of gold evidence, from the question's document when it names one."""
    if question.source is not None and citation.source != question.source:
        return False
    return evidence_matches(citation.text, question.gold)


def gold_passage(question: Question, passage: Passage) -> bool:
    """A passage that, cited, would be gold evidence (what the fits label candidates by)."""
    citation = Citation(1, passage.source, passage.start, passage.end, passage.text, 0.0)
    return gold_citation(question, citation)


def first_gold_rank(question: Question, citations: Sequence[Citation]) -> int | None:
    """1-based rank of the first citation that matches gold evidence, or None."""
    for rank, citation in enumerate(citations, start=1):
        if gold_citation(question, citation):
            return rank
    return None


def missing_words(answer: str, must_include: Sequence[Sequence[str]]) -> list[str]:
    """The required word groups the answer has no alternative of (``a | b`` each)."""
    text = answer.casefold()
    return [
        " | ".join(group)
        for group in must_include
        if not any(alt.casefold() in text for alt in group)
    ]


def failure_reasons(question: Question, answer: Answer) -> list[str]:
    """Why a scored question is judged wrong, in words a reader of the report can act on."""
    k = scored_as(question)
    if k == "unscored":
        return []
    if k == "unanswerable":
        reasons = []
        if answer.status != "not_found":
            reasons.append(f"expected not_found, got {answer.status}")
        if answer.citations:
            reasons.append(f"refusal should cite nothing, cited {len(answer.citations)}")
        return reasons
    reasons = []
    if answer.status != "answered":
        reasons.append(f"not answered ({answer.status})")
    missing = missing_words(answer.answer, question.must_include)
    if missing:
        reasons.append("missing words: " + "; ".join(missing))
    if question.gold:
        rank = first_gold_rank(question, answer.citations)
        if rank is None:
            where = f" from {question.source}" if question.source else ""
            reasons.append(f"no citation{where} matches the gold evidence")
        elif rank > TOP_CITATIONS:
            reasons.append(f"gold evidence only at citation {rank}")
    if len(answer.answer) > MAX_ANSWER_CHARS:
        reasons.append(f"answer is {len(answer.answer)} chars (max {MAX_ANSWER_CHARS})")
    return reasons


def is_correct(question: Question, answer: Answer) -> bool:
    """Correct exactly when there is no failure reason."""
    return not failure_reasons(question, answer)
