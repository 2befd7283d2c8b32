"""The default answerer: extractive, no LLM.

The answer is the best supporting sentence, plus a second one when it adds a topic word of
the question that the first lacks, each marked ``[n]`` and cited with exact offsets. Every
citation is used by the answer, so there are no decorative sources.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.text import ANAPHORS, stems, topic_stems, words
from assistant.types import Answer, Citation, Evidence, Passage

NOT_FOUND = "The documents don't contain an answer to this question."


@dataclass(frozen=True)
class ExtractiveAnswerer:
    max_chars: int = 400
    top_k: int = 3
    #: A second sentence must score at least this share of the first's similarity.
    second_min_ratio: float = 0.75

    def not_found(self, question: str, search_query: str) -> Answer:
        return Answer(
            question=question, search_query=search_query, status="not_found", answer=NOT_FOUND
        )

    def answer(
        self,
        question: str,
        search_query: str,
        evidence: Sequence[Evidence],
        next_passage: Callable[[str], Passage | None] = lambda _id: None,
    ) -> Answer:
        if not evidence:
            return self.not_found(question, search_query)
        chosen = [evidence[0]]
        second = self._second(question, evidence, next_passage)
        if second is not None:
            chosen.append(second)
        parts: list[str] = []
        citations: list[Citation] = []
        budget = self.max_chars
        for n, ev in enumerate(chosen, start=1):
            marker = f" [{n}]"
            room = budget - len(marker) - (1 if parts else 0)
            if room < 40 and parts:
                break
            parts.append(_fit(ev.passage.text, room) + marker)
            budget -= len(parts[-1]) + (1 if len(parts) > 1 else 0)
            p = ev.passage
            citations.append(
                Citation(
                    n=n,
                    source=p.source,
                    start=p.start,
                    end=p.end,
                    text=p.text,
                    score=round(ev.dense, 4),
                )
            )
        return Answer(
            question=question,
            search_query=search_query,
            status="answered",
            answer=" ".join(parts),
            citations=citations,
        )

    def _second(
        self,
        question: str,
        evidence: Sequence[Evidence],
        next_passage: Callable[[str], Passage | None],
    ) -> Evidence | None:
        """A second sentence that adds a topic word of the question (its own words, not the
        context carried into the search) that the first lacks: a close runner-up, or the next
        sentence when it refers back ("This system will allow …")."""
        first = evidence[0]
        wanted = set(topic_stems(question)) - set(stems(first.passage.text))
        if not wanted:
            return None
        for candidate in evidence[1 : self.top_k]:
            close = candidate.dense >= self.second_min_ratio * first.dense
            if close and wanted & set(stems(candidate.passage.text)):
                return candidate
        following = next_passage(first.passage.id)
        opening = next(iter(words(following.text)), None) if following is not None else None
        if following is not None and opening in ANAPHORS and wanted & set(stems(following.text)):
            ranked = {e.passage.id: e for e in evidence}
            return ranked.get(following.id) or Evidence(following, 0.0, 0.0, 0.0)
        return None


def _fit(sentence: str, room: int) -> str:
    """The sentence, or its head cut at a word boundary with an ellipsis when it is too long."""
    if len(sentence) <= room:
        return sentence
    head = sentence[: max(room - 1, 1)].rsplit(" ", 1)[0].rstrip(",;:")
    return head + "…"
