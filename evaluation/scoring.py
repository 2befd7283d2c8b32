"""Per-question judgement, as defined in the question-set README.

A citation matches gold evidence when one contains the other after normalising (NFKC,
curly quotes straightened, whitespace folded, case-insensitive). An answer is *correct*
when it is answered, has every required word group, cites matching evidence among its
first three citations, and is at most 400 characters.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.evaluation.questions import Question
from assistant.text import normalize_for_match
from assistant.types import Answer, Citation

MAX_ANSWER_CHARS = 400
TOP_CITATIONS = 3


def evidence_matches(text: str, gold: Sequence[str]) -> bool:
    cited = normalize_for_match(text)
    return any((g := normalize_for_match(item)) and (g in cited or cited in g) for item in gold)


def first_gold_rank(citations: Sequence[Citation], gold: Sequence[str]) -> int | None:
    """1-based rank of the first citation that matches gold evidence, or None."""
    for rank, citation in enumerate(citations, start=1):
        if evidence_matches(citation.text, gold):
            return rank
    return None


def has_required_words(answer: str, must_include: Sequence[Sequence[str]]) -> bool:
    text = answer.casefold()
    return all(any(alt.casefold() in text for alt in group) for group in must_include)


def is_correct(question: Question, answer: Answer) -> bool:
    """The README's definition; for unanswerable questions: not_found with no citations."""
    if question.answerable is False:
        return answer.status == "not_found" and not answer.citations
    rank = first_gold_rank(answer.citations, question.gold) if question.gold else None
    return (
        answer.status == "answered"
        and has_required_words(answer.answer, question.must_include)
        and (not question.gold or (rank is not None and rank <= TOP_CITATIONS))
        and len(answer.answer) <= MAX_ANSWER_CHARS
    )
