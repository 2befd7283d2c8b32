"""The ranker's second opinion: multilingual-e5 ranks the candidates when the answer model's
ranker is unsure of its best, and only then (:func:`assistant.ranking.ordered`).

The questions are from tune files (summit_blind4, summit), never from held-out halves.
"""

from __future__ import annotations

import numpy as np
import pytest

from assistant import Settings, build_assistant
from assistant.ranking import HOPELESS, UNSURE, Ranked

#: The ranker alone puts "This system will allow more direct coordination on political,
#: *economic* …" first; e5 puts the sentence on the economic talks first.
PARAPHRASE = "On the money and business side of the talks, what were the main topics?"
ECONOMIC_TALKS = "Economic discussions focused on trade, supply chains"
#: Refused by the ranker alone: the documents never say "forum" or "setting".
FORUM = "Which international forum provided the setting for the meeting?"
APEC = "on the sidelines of the APEC gathering in Gyeongju"


def _ranked(assistant, question: str) -> Ranked:
    pipeline = assistant.engine.pipeline
    state = pipeline.resolve({"question": question, "history": []})
    return pipeline.rank(pipeline.retrieve(state)).ranked[0]


@pytest.fixture(scope="module")
def without_e5(indexed_settings: Settings, embedder):
    """The same index served with the multilingual index off: no e5 at query time."""
    return build_assistant(indexed_settings.model_copy(update={"multilingual": False}), embedder)


def test_an_unsure_ranker_asks_e5_and_it_puts_the_paraphrased_answer_first(
    assistant, without_e5
) -> None:
    alone = _ranked(without_e5, PARAPHRASE)
    assert not alone.second_opinion
    assert alone.probabilities[0] < UNSURE
    assert ECONOMIC_TALKS not in alone.evidence[0].passage.text

    second = _ranked(assistant, PARAPHRASE)
    assert second.second_opinion
    assert ECONOMIC_TALKS in second.evidence[0].passage.text
    answer = assistant.ask(PARAPHRASE)
    assert answer.status == "answered"
    assert ECONOMIC_TALKS in answer.citations[0].text


def test_the_second_opinion_answers_what_the_ranker_alone_refuses(assistant, without_e5) -> None:
    assert without_e5.ask(FORUM).status == "not_found"
    answer = assistant.ask(FORUM)
    assert answer.status == "answered"
    assert APEC in answer.citations[0].text


def test_a_sure_ranker_does_not_ask_e5(assistant) -> None:
    ranked = _ranked(assistant, "How long did the summit between Lee and Xi last?")
    assert ranked.probabilities[0] >= UNSURE
    assert not ranked.second_opinion
    assert "100-minute" in ranked.evidence[0].passage.text


def test_an_unsure_ranker_does_not_ask_e5_about_a_hopeless_question(assistant, without_e5) -> None:
    """Unsure of its best, but the decision finds it hopeless: refused whatever the order, so
    e5's ~20–40 ms is not spent on it."""
    question = "What time does the bakery open?"
    alone = _ranked(without_e5, question)
    assert alone.probabilities[0] < UNSURE and alone.confidence < HOPELESS
    ranked = _ranked(assistant, question)
    assert not ranked.second_opinion
    assert [e.passage.id for e in ranked.evidence] == [e.passage.id for e in alone.evidence]
    assert assistant.ask(question).status == "not_found"


def test_e5_standing_is_the_z_score_among_every_passage(assistant) -> None:
    """The mean and spread of the question's cosines come from the passages' moments, not a
    scan: the same z-scores as scanning every passage."""
    search = assistant.engine.pipeline.multilingual
    assert search is not None
    evidence = _ranked(assistant, PARAPHRASE).evidence
    cosines = search.vectors.matrix @ search.embedder.embed_query(PARAPHRASE)
    rows = [search.passages.index(e.passage) for e in evidence]
    scanned = (cosines[rows] - cosines.mean()) / cosines.std()
    assert np.allclose(search.standing(PARAPHRASE, evidence), scanned, atol=1e-4)
    assert scanned.max() > 1.0  # the economic talks stand out: not a flat comparison
