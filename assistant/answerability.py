"""Decide whether the documents answer a question at all.

Three signals, calibrated on questions written for that purpose (tests/data/calibration.jsonl,
kept apart from the public dev set), not on a guessed threshold:

1. A name or number in the question that the documents never use ("president of *France*",
   "the *2022* World Cup") means they can't be about it.
2. The best passage's cosine similarity to the query must reach ``min_similarity``: below it,
   nothing in the documents is about the question (off-topic questions score 0.05–0.30 here,
   answerable ones 0.33 and up).
3. When a topic word of the question appears nowhere in the documents ("the *population* of
   Seoul"), the best passage must be clearly about the question (``min_similarity_gap``):
   the documents mention Seoul, but not its population.
4. A question asking for a duration, a count or a time ("How long …", "How many X …",
   "When …") is answered only by a passage near the top that holds one (see answer_type),
   however it is worded ("How long did the summit *last*?" → "a 100-minute summit").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answer_type import AnswerType, contains
from assistant.lexical import BM25Index
from assistant.text import proper_names, stem, topic_stems
from assistant.types import Evidence


@dataclass(frozen=True)
class Verdict:
    answerable: bool
    reason: str


@dataclass(frozen=True)
class AnswerabilityCheck:
    vocabulary: BM25Index
    min_similarity: float
    min_similarity_gap: float

    def judge(
        self,
        question: str,
        search_query: str,
        evidence: Sequence[Evidence],
        wanted: AnswerType | None = None,
    ) -> Verdict:
        if not evidence:
            return Verdict(False, "no passage matched")
        unknown_names = [
            n for n in proper_names(question) if stem(n.casefold()) not in self.vocabulary
        ]
        if unknown_names:
            return Verdict(False, f"the documents never mention {', '.join(unknown_names)}")
        best = max(e.dense for e in evidence[:3])
        if best < self.min_similarity:
            return Verdict(False, f"best passage similarity {best:.2f} < {self.min_similarity}")
        absent = [t for t in topic_stems(search_query) if t not in self.vocabulary]
        if wanted is not None and wanted.specific:
            if not contains(wanted, evidence[0].passage.text):
                return Verdict(False, f"no passage near the top holds the {wanted.kind} asked for")
            return Verdict(True, f"the best passage holds the {wanted.kind} asked for")
        if absent and best < self.min_similarity_gap:
            return Verdict(
                False,
                f"topic words absent from the documents ({', '.join(absent)}) and best "
                f"similarity {best:.2f} < {self.min_similarity_gap}",
            )
        return Verdict(True, "supported")
