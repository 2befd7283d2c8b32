"""Retrieval: the exact in-memory scan and Chroma's HNSW index rank the same way."""

from __future__ import annotations

from assistant.config import Settings
from assistant.embedder import Embedder
from assistant.evaluation.questions import load_jsonl
from assistant.service import build_assistant
from tests.conftest import DEV_QUESTIONS
from vectorstore.chroma_store import PassageStore
from vectorstore.exact import ExactVectors


def test_exact_scan_matches_chroma_nearest(indexed_settings: Settings, embedder: Embedder) -> None:
    store = PassageStore.open(indexed_settings, embedder.space, create=False)
    passages, matrix = store.passages_with_vectors()
    exact = ExactVectors([p.id for p in passages], matrix)
    for question in ("Who met at the summit?", "What restrictions did Lee mention?"):
        vector = embedder.embed_query(question)
        from_chroma = store.nearest(vector, 5)
        from_memory = exact.nearest(vector, 5)
        assert [pid for pid, _ in from_chroma] == [pid for pid, _ in from_memory]
        for (_, a), (_, b) in zip(from_chroma, from_memory, strict=True):
            assert abs(a - b) < 1e-4


def test_answers_are_the_same_through_chroma(
    indexed_settings: Settings, embedder: Embedder, assistant
) -> None:
    through_chroma = build_assistant(
        indexed_settings.model_copy(update={"exact_search_max": 0}), embedder
    )
    questions, _ = load_jsonl(DEV_QUESTIONS)
    for q in questions:
        a = assistant.replay(q.history, q.question)
        b = through_chroma.replay(q.history, q.question)
        assert (a.status, a.answer, a.citations) == (b.status, b.answer, b.citations), q.id
