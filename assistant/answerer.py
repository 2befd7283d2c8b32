"""Answerers turn the question and its best passages into answer text with ``[n]`` markers.

Every answerer follows :class:`Answerer`; retrieval, answerability and citation numbering
(:mod:`assistant.citations`) are shared, so another answerer (an LLM) plugs in without
touching them. The default, :class:`ExtractiveAnswerer`, needs no LLM: the answer is the best
supporting sentence, plus the runners-up the answer model finds nearly as likely (up to three
sentences) or else a second one that adds a topic word of the question the first lacks, and
the sentence after the first when it leans on it ("This …", "It also …"), each marked
``[n]``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from assistant.citations import Draft
from assistant.query import Query
from assistant.ranking import opens_leaning, refers_back_to_before
from assistant.script import QUOTE_PHRASES
from assistant.types import Evidence, Passage
from vectorstore.analysis import stems, words

#: How many sentences after a quoted one may still lean on it ("This …", "It also …").
CONTINUATION_LENGTH = 2


class Answerer(Protocol):
    """Writes the answer from the evidence it is given (best first); cites it as ``[n]``,
    where ``n`` is the 1-based position in :attr:`Draft.used`.

    An answerer that also has ``stream(query, evidence, history)`` yielding growing drafts
    (the LLM answerer, :mod:`assistant.llm`) is streamed by the chain draft by draft."""

    def answer(self, query: Query, evidence: Sequence[Evidence]) -> Draft: ...


@dataclass(frozen=True)
class ExtractiveAnswerer:
    #: The sentence after a given one in its paragraph (for a second sentence that refers back).
    next_passage: Callable[[str], Passage | None] = lambda _id: None
    max_chars: int = 400
    top_k: int = 3
    #: A second sentence that adds a word of the question must have this share of the first's
    #: similarity.
    second_min_ratio: float = 0.75
    #: Runners-up the answer model finds nearly as likely (this share of the first's
    #: probability) are quoted too, up to ``top_k`` sentences: when sentences compete, the
    #: answer shows them, as a set that holds the answer more often than its first sentence.
    runner_up_ratio: float = 0.15

    def answer(self, query: Query, evidence: Sequence[Evidence]) -> Draft:
        if not evidence:
            return Draft("", ())
        chosen = list(evidence[: max(query.parts, 1)])
        if query.parts == 1:
            runners_up = [evidence[i] for i in self.runners_up([e.score for e in evidence])]
            chosen += runners_up or self._second(query, evidence)
        leaning = self._leaning_on(chosen, evidence) if query.parts == 1 else None
        parts: list[str] = []
        used: list[Evidence] = []
        # A Korean, Chinese or Japanese question's answer opens with a phrase saying it
        # quotes English (the chain adds it): the quotes leave it room.
        budget = self.max_chars - (len(QUOTE_PHRASES[query.language]) + 1 if query.language else 0)
        quoted = [*chosen, *([leaning] if leaning else [])]
        if query.parts == 1:
            quoted = self._answering_first(query, quoted)
        for ev in quoted:
            marker = f" [{len(parts) + 1}]"
            room = budget - len(marker) - (1 if parts else 0)
            if ev is leaning and len(ev.passage.text) > room:
                break  # quoted whole or not at all: it adds to an answer already given
            if room < 40 and parts:
                break
            parts.append(_fit(ev.passage.text, room) + marker)
            used.append(ev)
            budget -= len(parts[-1]) + (1 if len(parts) > 1 else 0)
        return Draft(" ".join(parts), used)

    def runners_up(self, scores: Sequence[float]) -> list[int]:
        """Positions, after the first, of the candidates (scores best first) the model finds
        nearly as likely: the ones quoted with the first."""
        bar = self.runner_up_ratio * scores[0]
        return [i for i in range(1, min(self.top_k, len(scores))) if scores[i] >= bar]

    def _second(self, query: Query, evidence: Sequence[Evidence]) -> list[Evidence]:
        """A second sentence that adds a topic word of the question (its own words, not the
        context carried into the search) that the first lacks: a close runner-up, or a
        sentence after the first that leans on it ("This system will allow …", "It also
        reflects …"), where what the question asks about the first's subject is usually
        said."""
        first = evidence[0]
        wanted = query.topic_stems - set(stems(first.passage.text))
        if not wanted:
            return []
        following = continuation(first.passage, self.next_passage)
        leaning = {p.id for p in following}
        for candidate in evidence[1 : self.top_k]:
            close = candidate.dense >= self.second_min_ratio * first.dense
            if (close or candidate.passage.id in leaning) and wanted & set(
                stems(candidate.passage.text)
            ):
                return [candidate]
        for passage in following:
            if wanted & set(stems(passage.text)):
                return [evidence_for(passage, evidence)]
        return []

    def _leaning_on(
        self, chosen: Sequence[Evidence], evidence: Sequence[Evidence]
    ) -> Evidence | None:
        """The sentence right after the first one when it opens by leaning on it ("This
        system will allow …", "He also noted …"), unless already chosen: what a question asks
        about the first sentence's subject is often said there, in words the question doesn't
        share (on a tune set written by another hand, correct 0.764 → 0.798 and neighbour
        questions 0.56 → 0.78; held-out correct unchanged, citation precision 0.706 → 0.651, as
        it is quoted when it doesn't answer too). Quoted whole or not at all; a sentence that
        only uses "this" later on ("… transform this partnership") is not quoted: on tune that
        looser rule answered no more questions and cited more sentences that don't answer."""
        following = self.next_passage(chosen[0].passage.id)
        if following is None or not opens_leaning(words(following.text)):
            return None
        if following.id in {e.passage.id for e in chosen}:
            return None
        return evidence_for(following, evidence)

    def _answering_first(self, query: Query, quoted: list[Evidence]) -> list[Evidence]:
        """The quoted sentences with the second first when it continues the first (one or
        two sentences on, each referring back to the one before) and answers in its place
        (:func:`answers_in_its_place`): the first names the subject, the second says what is
        asked about it, so it is the answer, and the first its context. Not for a question
        that asks for a kind of answer (a count, a time, a name): the order already puts the
        sentence offering it first. Which sentences are quoted doesn't change, only which
        comes first: on tune, gold first 285 → 294 of 399 answerable (12 gained, 3 lost, no
        file worse); with what is put aside, 297 (3 gained, none lost)."""
        if len(quoted) < 2 or query.answer_type is not None:
            return quoted
        first, second = quoted[0], quoted[1]
        following = continuation(first.passage, self.next_passage)
        if second.passage.id not in {p.id for p in following}:
            return quoted
        if not answers_in_its_place(query, first.passage, second.passage):
            return quoted
        return [second, first, *quoted[2:]]


def continuation(
    passage: Passage,
    next_passage: Callable[[str], Passage | None],
    length: int = CONTINUATION_LENGTH,
) -> list[Passage]:
    """The sentences after ``passage``, at most ``length``, that each refer back to the one
    before them ("This system …", "It also …")."""
    chain: list[Passage] = []
    following = next_passage(passage.id)
    while following is not None and len(chain) < length:
        if not refers_back_to_before(words(following.text)):
            break
        chain.append(following)
        following = next_passage(following.id)
    return chain


def answers_in_its_place(query: Query, first: Passage, leaning: Passage) -> bool:
    """Whether a sentence leaning on ``first`` says what the question asks about the first's
    subject: it holds a word of the question the first lacks ("What does reopening the channel
    *reflect*?": "It also *reflects* …"), framing words included ("What did Lee *note* besides
    …"), or the first holds what the question puts aside and it doesn't ("*Besides the
    sanctions* on Hanwha Ocean, what else did Lee point out?": "He also noted …")."""
    first_stems, leaning_stems = set(stems(first.text)), set(stems(leaning.text))
    lacking = set(stems(query.question)) - first_stems
    put_aside = bool(query.set_aside & first_stems) and not query.set_aside & leaning_stems
    return bool(lacking & leaning_stems) or put_aside


def evidence_for(passage: Passage, evidence: Sequence[Evidence]) -> Evidence:
    """The candidate holding ``passage`` (its scores), or the passage unscored when retrieval
    didn't return it."""
    return next((e for e in evidence if e.passage.id == passage.id), None) or Evidence(
        passage, 0.0, 0.0
    )


def _fit(sentence: str, room: int) -> str:
    """The sentence, or its head cut at a word boundary with an ellipsis when it is too long."""
    if len(sentence) <= room:
        return sentence
    head = sentence[: max(room - 1, 1)].rsplit(" ", 1)[0].rstrip(",;:")
    return head + "…"
