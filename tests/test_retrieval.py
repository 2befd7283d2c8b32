"""Dense search: the exact in-memory scan and the HNSW index agree with brute force."""

from __future__ import annotations

import numpy as np
import pytest

from assistant import Citation, Settings, build_assistant
from evaluation.questions import load_jsonl
from tests.conftest import CALIBRATION, DEV_QUESTIONS
from vectorstore.chroma_store import PassageStore
from vectorstore.embeddings import Embedder
from vectorstore.exact import ExactVectors
from vectorstore.hnsw import HnswIndex


def test_exact_scan_and_hnsw_find_the_true_nearest(
    indexed_settings: Settings, embedder: Embedder
) -> None:
    store = PassageStore.open(indexed_settings.store_location, embedder.space)
    _, matrix = store.passages_with_vectors()
    exact = ExactVectors(matrix)
    hnsw = HnswIndex.build(matrix, ef_search=64)
    questions, _ = load_jsonl(CALIBRATION)
    for q in questions:
        vector = embedder.embed_query(q.question)
        truth = np.argsort(-(matrix @ vector), kind="stable")[:5].tolist()
        assert exact.nearest(vector, 5) == truth
        assert set(hnsw.nearest(vector, 5)) == set(truth), q.id
    similarities = exact.similarities(vector, truth)
    assert np.allclose(similarities, (matrix @ vector)[truth], atol=1e-6)


def test_answers_are_the_same_through_hnsw(
    indexed_settings: Settings, embedder: Embedder, assistant
) -> None:
    """Above ``exact_search_max`` the HNSW index proposes candidates and float16 vectors
    score them: on the dev set every answer, refusal and citation stays the same."""
    through_hnsw = build_assistant(
        indexed_settings.model_copy(update={"exact_search_max": 0}), embedder
    )
    assert through_hnsw.passages == assistant.passages
    questions, _ = load_jsonl(DEV_QUESTIONS)
    for q in questions:
        a = assistant.replay(q.history, q.question)
        b = through_hnsw.replay(q.history, q.question)
        assert (a.status, a.answer) == (b.status, b.answer), q.id
        assert [_place(c) for c in a.citations] == [_place(c) for c in b.citations], q.id
        # float16 vectors are ~1e-4 off in cosine
        assert [c.score for c in a.citations] == pytest.approx(
            [c.score for c in b.citations], abs=1e-3
        )


def _place(citation: Citation) -> tuple[str, int, int, str]:
    return citation.source, citation.start, citation.end, citation.text
