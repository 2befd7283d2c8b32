"""What kind of answer a question asks for, and whether a sentence contains one.

Classic factoid-QA answer typing: "How long …" wants a duration, "How many X …" a count of
X, "When …" a time, "Who …" a person, "Where …" a place. A sentence that holds the asked-for
kind of answer ranks higher, and a specific kind (duration, count, time) found in the best
sentence shows the documents do answer, even when the question words it differently
("How long did the summit *last*?" → "a 100-minute summit").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.question_words import topic_stems
from vectorstore.analysis import stem, words

_NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "twenty thirty forty fifty hundred thousand million billion trillion dozen several"
).split()
_NUMBER = r"(?:\d[\d,.]*|" + "|".join(_NUMBER_WORDS) + r")"
_UNIT = r"(?:second|minute|hour|day|week|month|year|decade)s?"
_DURATION = re.compile(rf"\b{_NUMBER}[- ]?{_UNIT}\b|\b{_UNIT}-long\b", re.IGNORECASE)
_MONTHS = (
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday"
).split()
_TIME = re.compile(
    r"\b(?:1[89]\d\d|20\d\d)\b|\b(?:" + "|".join(_MONTHS) + r")\b|"
    r"\b(?:yesterday|today|tomorrow|tonight|last (?:week|month|year)|next (?:week|month|year))\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][a-z]+(?: [A-Z][a-z]+)+")
_PLACE = re.compile(r"\b(?:in|at|near|from|to|of) (?:the )?(?:[A-Z][\w-]*)(?: [A-Z][\w-]*)*")


@dataclass(frozen=True)
class AnswerType:
    kind: str
    #: For counts: stems of the counted thing ("How many *agreements*").
    counted: frozenset[str] = frozenset()

    @property
    def specific(self) -> bool:
        """Specific kinds are strong evidence the documents answer; names and places are not."""
        return self.kind in ("duration", "count", "time")


def expected_type(question: str) -> AnswerType | None:
    tokens = words(question)
    text = " ".join(tokens)
    if re.search(r"\bhow long\b", text):
        return AnswerType("duration")
    match = re.search(r"\bhow (?:many|much)\b(.*)", text)
    if match:
        return AnswerType("count", frozenset(topic_stems(match[1])[:2]))
    if re.search(r"\b(?:when|what year|what date|what time|which year)\b", text):
        return AnswerType("time")
    if tokens[:1] == ["who"] or re.search(r"\b(?:who|whom)\b", text):
        return AnswerType("person")
    if re.search(r"\bwhere\b", text):
        return AnswerType("place")
    return None


def contains(answer_type: AnswerType, sentence: str) -> bool:
    """True when ``sentence`` holds an answer of the asked-for kind."""
    kind = answer_type.kind
    if kind == "duration":
        return bool(_DURATION.search(sentence))
    if kind == "time":
        return bool(_TIME.search(sentence))
    if kind == "person":
        return bool(_NAME.search(sentence))
    if kind == "place":
        return bool(_PLACE.search(sentence))
    if kind == "count":
        tokens = words(sentence)
        for i, token in enumerate(tokens):
            if re.fullmatch(_NUMBER, token):
                near = {stem(t) for t in tokens[i + 1 : i + 4]}
                if not answer_type.counted or near & answer_type.counted:
                    return True
    return False
