"""The query adapter: what it was fitted on, what it lifts on held-out questions, and how it
fails or is turned off (assistant/query_adapter.py, evaluation/fit_query_adapter.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant import QUERY_ADAPTER_FILE, REPO_ROOT, QueryAdapter, Settings, build_assistant
from evaluation import fit_query_adapter
from evaluation.fit_query_adapter import Examples, examples_of, gold_first, separation

SETS = REPO_ROOT / "evaluation" / "sets"


def test_the_committed_adapter_was_fitted_on_tune_files_only(embedder) -> None:
    adapter = QueryAdapter.load()
    fitted_on = adapter.about["fitted_on"]
    assert fitted_on == [str(p.relative_to(REPO_ROOT)) for p, _ in fit_query_adapter.TUNE]
    assert not [name for name in fitted_on if "heldout" in name]
    assert adapter.about["model"] == embedder.space
    assert adapter.dimensions == 384


@pytest.mark.parametrize(
    ("questions", "corpus_fixture", "gain"),
    [
        ("summit_blind5.heldout.jsonl", "assistant", 0.08),
        ("summit.heldout.jsonl", "assistant", 0.08),
        ("multidoc.heldout.jsonl", "multidoc_assistant", 0.08),
    ],
)
def test_the_adapter_puts_more_held_out_gold_sentences_first(
    questions: str, corpus_fixture: str, gain: float, embedder, request: pytest.FixtureRequest
) -> None:
    """Gold sentence with the best cosine of its corpus, without and with the adapter, on
    questions it never saw (held-out halves, one by an author whose tune half it saw)."""
    retriever = request.getfixturevalue(corpus_fixture).engine.retriever
    matrix = np.asarray(retriever.vectors.matrix, dtype=np.float32)
    data = [examples_of(SETS / questions, matrix, retriever.passages, embedder)]
    plain, count = gold_first(None, data)
    adapted, _ = gold_first(QueryAdapter.load(), data)
    assert count >= 37
    assert adapted / count >= plain / count + gain, (plain, adapted, count)


def test_a_fit_moves_a_question_to_its_gold_sentence_and_an_unanswerable_one_away() -> None:
    """Three sentences; the question is nearest the wrong one, and an unanswerable question
    sits close to a sentence (cosine 0.94), until the adapter is fitted."""
    rng = np.random.default_rng(0)
    corpus = np.linalg.qr(rng.standard_normal((8, 3)))[0].T.astype(np.float32)  # orthonormal
    query = 0.8 * corpus[0] + 0.6 * corpus[1]
    elsewhere = np.linalg.qr(rng.standard_normal((8, 4)))[0].T[3]
    unanswerable = (0.9 * corpus[2] + 0.436 * elsewhere).astype(np.float32)
    unanswerable /= np.linalg.norm(unanswerable)
    data = [Examples("toy", corpus, query[None, :], ((1,),), unanswerable[None, :])]
    assert gold_first(None, data) == (0, 1)
    assert (corpus @ unanswerable).max() > fit_query_adapter.MARGIN
    assert separation(None, data) == 0.0
    adapter = fit_query_adapter.fit(data, l2=0.01)
    assert gold_first(adapter, data) == (1, 1)
    assert (corpus @ adapter.apply(unanswerable)).max() < fit_query_adapter.MARGIN
    assert separation(adapter, data) == 1.0
    assert np.linalg.norm(adapter.apply(query)) == pytest.approx(1.0, abs=1e-5)


def test_none_serves_the_plain_vector_and_an_identity_adapter_changes_nothing(
    indexed_settings: Settings, embedder, tmp_path: Path
) -> None:
    assert Settings(query_adapter="none").query_adapter is None
    assert Settings().query_adapter == QUERY_ADAPTER_FILE
    identity = tmp_path / "identity.npz"
    QueryAdapter(np.eye(384, dtype=np.float32), {}).save(identity)
    question = "Where did the two leaders meet?"
    served = [indexed_settings.model_copy(update={"query_adapter": a}) for a in (None, identity)]
    plain, same = (build_assistant(settings, embedder) for settings in served)
    assert plain.ask(question).citations == same.ask(question).citations


def test_a_broken_or_mismatched_adapter_fails_loudly(
    indexed_settings: Settings, embedder, tmp_path: Path
) -> None:
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"not an npz")
    with pytest.raises(ValueError, match="cannot read the query adapter"):
        QueryAdapter.load(corrupt)
    wrong = tmp_path / "wrong.npz"
    QueryAdapter(np.eye(8, dtype=np.float32), {}).save(wrong)
    settings = indexed_settings.model_copy(update={"query_adapter": wrong})
    with pytest.raises(ValueError, match="maps 8-d vectors; this index holds 384-d"):
        build_assistant(settings, embedder)
