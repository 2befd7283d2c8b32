"""The extractive answerer on its own: which candidates it quotes, and the room it leaves."""

from __future__ import annotations

from assistant import Evidence, Query
from assistant.answerer import ExtractiveAnswerer
from assistant.script import QUOTE_PHRASES
from vectorstore.records import Passage


def _evidence(scores: list[float], length: int = 60) -> list[Evidence]:
    out = []
    for i, score in enumerate(scores):
        text = f"Sentence {i} " + "word " * ((length - 12) // 5) + "end."
        out.append(Evidence(Passage(f"p{i}", "doc.txt", 0, len(text), text, 0), score, 0.5))
    return out


def _query(language: str | None = None) -> Query:
    return Query("question", (), None, (), frozenset(), language=language)  # type: ignore[arg-type]


def test_runners_up_nearly_as_likely_are_quoted_up_to_three_sentences() -> None:
    answerer = ExtractiveAnswerer()
    draft = answerer.answer(_query(), _evidence([0.6, 0.2, 0.1, 0.09]))
    assert [e.passage.id for e in draft.used] == ["p0", "p1", "p2"]  # 0.09 fits but is 4th
    draft = answerer.answer(_query(), _evidence([0.9, 0.1, 0.05]))
    assert [e.passage.id for e in draft.used] == ["p0"]  # both under 0.15 of the best


def test_a_cjk_answer_with_its_opening_phrase_stays_within_the_limit() -> None:
    answerer = ExtractiveAnswerer()
    for language, phrase in QUOTE_PHRASES.items():
        draft = answerer.answer(_query(language), _evidence([0.4, 0.35, 0.25], length=150))
        assert len(draft.used) >= 2
        assert len(f"{phrase} {draft.text}") <= answerer.max_chars
    english = answerer.answer(_query(), _evidence([0.4, 0.35, 0.25], length=150))
    assert len(english.text) <= answerer.max_chars
