"""Number an answer's citations once, outside any answerer, so answerers are interchangeable.

An answerer returns a :class:`Draft`: text whose ``[n]`` markers point at ``used[n-1]``.
Here markers are renumbered in order of first appearance, a marker that points at no used
passage is dropped, and every passage the text never cites is left out: an answer has no
decorative sources.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.types import Citation, Evidence

_MARKER = re.compile(r"\s*\[(\d+)\]")


@dataclass(frozen=True)
class Draft:
    """An answerer's output: text with ``[n]`` markers, and the evidence they refer to."""

    text: str
    used: Sequence[Evidence]
    #: Who wrote the text: ``extractive`` (also when the LLM path fell back) or ``llm``.
    answerer: str = "extractive"
    #: LLM path only: generated sentences the check dropped, and those whose [n] it corrected.
    dropped: int | None = None
    corrected: int | None = None
    #: LLM path only: ms from the start of the answer step to the first checked sentence.
    first_sentence_ms: float | None = None
    #: Why the LLM path gave the extractive answer instead (None when it didn't).
    fallback: str | None = None


def number_citations(draft: Draft) -> tuple[str, list[Citation]]:
    """The answer text with citations numbered 1, 2, … in reading order, and the citations."""
    numbers: dict[int, int] = {}
    citations: list[Citation] = []

    def renumber(match: re.Match[str]) -> str:
        index = int(match[1]) - 1
        if not 0 <= index < len(draft.used):
            return ""
        if index not in numbers:
            numbers[index] = len(numbers) + 1
            passage = draft.used[index].passage
            citations.append(
                Citation(
                    n=numbers[index],
                    source=passage.source,
                    start=passage.start,
                    end=passage.end,
                    text=passage.text,
                    score=round(draft.used[index].dense, 4),
                )
            )
        return f"{match[0][: match.start(1) - match.start(0) - 1]}[{numbers[index]}]"

    return _MARKER.sub(renumber, draft.text), citations
