"""The ranker's second opinion: multilingual-e5 ranks the candidates when the answer model's
ranker is unsure of its best, and only then (:func:`assistant.ranking.ordered`).

The questions are from tune files (summit_blind4, summit), never from held-out halves.
"""

from __future__ import annotations

import numpy as np
import pytest

from assistant import Settings, build_assistant
from assistant.ranking import HOPELESS, UNSURE, Ranked

#: Tune questions (summit, its first author) the ranker alone answers from a wrong sentence when
#: it searches with the plain MiniLM vector, and e5 puts the right one first. ("Besides signing
#: seven agreements, what arrangement did Seoul and Beijing also renew?" was one until the
#: refit on the seventh author's tune half; through the query adapter, as served, it is
#: answered from the swap sentence either way.)
PARAPHRASES = [
    ("Which international forum provided the setting for the meeting?", "the APEC gathering"),
]


def _ranked(assistant, question: str) -> Ranked:
    pipeline = assistant.engine.pipeline
    state = pipeline.resolve({"question": question, "history": []})
    return pipeline.rank(pipeline.retrieve(state)).ranked[0]


@pytest.fixture(scope="module")
def plain(indexed_settings: Settings, embedder):
    """The index served without the query adapter: with it, the ranker alone is sure of the
    right sentence for both questions above (measured one tune file left out at a time, the
    second opinion then adds nothing: right 507 of 594 with it and without)."""
    return build_assistant(indexed_settings.model_copy(update={"query_adapter": None}), embedder)


@pytest.fixture(scope="module")
def without_e5(indexed_settings: Settings, embedder):
    """The same index served with the multilingual index off: no e5 at query time."""
    return build_assistant(indexed_settings.model_copy(update={"multilingual": False}), embedder)


@pytest.fixture(scope="module")
def plain_without_e5(indexed_settings: Settings, embedder):
    update = {"multilingual": False, "query_adapter": None}
    return build_assistant(indexed_settings.model_copy(update=update), embedder)


@pytest.mark.parametrize(("question", "right"), PARAPHRASES)
def test_an_unsure_ranker_asks_e5_and_it_puts_the_paraphrased_answer_first(
    plain, plain_without_e5, question: str, right: str
) -> None:
    alone = _ranked(plain_without_e5, question)
    assert not alone.second_opinion
    assert alone.probabilities[0] < UNSURE
    assert right not in alone.evidence[0].passage.text

    second = _ranked(plain, question)
    assert second.second_opinion
    assert right in second.evidence[0].passage.text
    answer = plain.ask(question)
    assert answer.status == "answered"
    assert right in answer.citations[0].text


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


def test_the_second_opinion_reorders_but_does_not_answer_what_the_ranker_would_refuse(
    assistant, without_e5
) -> None:
    """An off-topic question the ranker is unsure of: e5 is asked, and its best would pass the
    threshold, but the ranker's own best doesn't, so it is refused (the dev set's question)."""
    from assistant.ranking import ordered

    question = "What did the leaders say about climate change?"
    alone = _ranked(without_e5, question)
    assert alone.probabilities[0] < UNSURE and alone.confidence >= HOPELESS
    ranked = _ranked(assistant, question)
    assert ranked.second_opinion
    assert ranked.confidence == alone.confidence < assistant.engine.pipeline.model.threshold
    assert assistant.ask(question).status == "not_found"
    # the same candidates without the rule: the second opinion's best alone would answer
    pipeline = assistant.engine.pipeline
    state = pipeline.retrieve(pipeline.resolve({"question": question, "history": []}))
    search, top = state.retrieved[0].search, state.retrieved[0].evidence[: len(ranked.evidence)]
    matrix = pipeline.features.matrix(state.query, search, top)
    e5 = lambda: pipeline.multilingual.standing(search.text, top)  # noqa: E731
    order, p, second, _ = ordered(pipeline.model, matrix, e5)
    assert second and pipeline.model.confidence(matrix[order], p[order]) >= pipeline.model.threshold


def test_e5_standing_is_the_z_score_among_every_passage(assistant) -> None:
    """The mean and spread of the question's cosines come from the passages' moments, not a
    scan: the same z-scores as scanning every passage."""
    search = assistant.engine.pipeline.multilingual
    assert search is not None
    question = "On the money and business side of the talks, what were the main topics?"
    evidence = _ranked(assistant, question).evidence
    cosines = search.vectors.matrix @ search.embedder.embed_query(question)
    rows = [search.passages.index(e.passage) for e in evidence]
    scanned = (cosines[rows] - cosines.mean()) / cosines.std()
    assert np.allclose(search.standing(question, evidence), scanned, atol=1e-4)
    assert scanned.max() > 1.0  # the economic talks stand out: not a flat comparison
