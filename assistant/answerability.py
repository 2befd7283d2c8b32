"""Decide whether the documents answer a question at all, and say why not.

Four signals, calibrated on questions written for that purpose (tests/data/calibration.jsonl,
kept apart from the public dev set), not on a guessed threshold:

1. A name or number in the question that the documents never use ("president of *France*",
   "the *2022* World Cup") means they can't be about it.
2. The best passage's cosine similarity to the query must reach ``min_similarity``: below it,
   nothing in the documents is about the question (off-topic questions score 0.05–0.30 here,
   answerable ones 0.33 and up).
3. A question asking for a duration, a count or a time ("How long …", "How many X …",
   "When …") is answered only by a best passage that holds one (see answer_type), however it
   is worded ("How long did the summit *last*?" → "a 100-minute summit").
4. When a topic word of the question appears nowhere in the documents ("the *population* of
   Seoul"), the best passage must be clearly about the question (``min_similarity_gap``):
   the documents mention Seoul, but not its population.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answer_type import contains
from assistant.query import Query, SearchText
from assistant.types import Evidence
from vectorstore.analysis import stem, words
from vectorstore.lexical import BM25Index


@dataclass(frozen=True)
class Verdict:
    answerable: bool
    #: Why, in words a user can act on (shown under a refusal as the answer's ``reason``).
    reason: str


@dataclass(frozen=True)
class AnswerabilityCheck:
    vocabulary: BM25Index
    min_similarity: float
    min_similarity_gap: float

    def judge(self, query: Query, search: SearchText, evidence: Sequence[Evidence]) -> Verdict:
        if not evidence:
            return Verdict(False, "no passage of the documents matches the question")
        unknown = [n for n in query.names if stem(n.casefold()) not in self.vocabulary]
        if unknown:
            return Verdict(False, f"the documents never mention “{' '.join(unknown)}”")
        best = max(e.dense for e in evidence[:3])
        if best < self.min_similarity:
            return Verdict(
                False,
                f"no passage is about the question (best similarity {best:.2f}, "
                f"needed {self.min_similarity:.2f})",
            )
        wanted = query.answer_type
        if wanted is not None and wanted.specific:
            if not contains(wanted, evidence[0].passage.text):
                return Verdict(False, f"no passage near the top gives the {wanted.kind} asked for")
            return Verdict(True, f"the best passage gives the {wanted.kind} asked for")
        absent = {t for t in search.topic_stems if t not in self.vocabulary}
        if absent and best < self.min_similarity_gap:
            missing = dict.fromkeys(w for w in words(search.text) if stem(w) in absent)
            return Verdict(
                False,
                f"the documents never mention “{' '.join(missing)}”, and no passage is close "
                f"enough to the question (best similarity {best:.2f}, needed "
                f"{self.min_similarity_gap:.2f})",
            )
        return Verdict(True, "a passage answers it")
