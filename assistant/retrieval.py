"""Hybrid retrieval: dense (Chroma, cosine) and lexical (BM25) sentence rankings, fused by RRF."""

from __future__ import annotations

from collections.abc import Collection

from assistant.embedder import Embedder
from assistant.lexical import BM25Index
from assistant.types import Evidence, Passage
from vectorstore.chroma_store import PassageStore


class HybridRetriever:
    """Ranks sentence passages for a query; holds the lexical index and corpus vocabulary."""

    def __init__(
        self, store: PassageStore, embedder: Embedder, *, candidates: int, rrf_k: int
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._candidates = candidates
        self._rrf_k = rrf_k
        self.passages: list[Passage] = store.passages()
        self.lexical = BM25Index([p.text for p in self.passages])
        self._position = {p.id: i for i, p in enumerate(self.passages)}

    def next_passage(self, passage_id: str) -> Passage | None:
        """The sentence right after this one in the same paragraph, if any."""
        i = self._position.get(passage_id)
        if i is None or i + 1 >= len(self.passages):
            return None
        here, after = self.passages[i], self.passages[i + 1]
        same = after.source == here.source and after.paragraph == here.paragraph
        return after if same else None

    def retrieve(
        self, query: str, exclude: Collection[str] = (), prefer: Collection[str] = ()
    ) -> list[Evidence]:
        """Candidates best first. ``exclude``: passage ids the user has already been given;
        ``prefer``: ids that rank as if first in a third list (e.g. what continues them)."""
        if not self.passages:
            return []
        vector = self._embedder.embed_query(query)
        dense = self._store.search(vector, self._candidates + len(exclude))
        lexical = self.lexical.search(query, self._candidates + len(exclude))

        dense_rank = {p.id: r for r, (p, _) in enumerate(dense)}
        dense_score = {p.id: s for p, s in dense}
        by_id = {p.id: p for p, _ in dense}
        lexical_rank: dict[str, int] = {}
        lexical_score: dict[str, float] = {}
        for r, (i, score) in enumerate(lexical):
            passage = self.passages[i]
            by_id.setdefault(passage.id, passage)
            lexical_rank[passage.id] = r
            lexical_score[passage.id] = score

        for pid in prefer:
            i = self._position.get(pid)
            if i is not None:
                by_id.setdefault(pid, self.passages[i])

        missing = [pid for pid in by_id if pid not in dense_score]
        dense_score.update(self._store.similarities(vector, missing))

        k = self._rrf_k
        evidence = [
            Evidence(
                passage=passage,
                score=_rrf(dense_rank.get(pid), k)
                + _rrf(lexical_rank.get(pid), k)
                + _rrf(0 if pid in prefer else None, k),
                dense=dense_score.get(pid, 0.0),
                lexical=lexical_score.get(pid, 0.0),
            )
            for pid, passage in by_id.items()
            if pid not in exclude
        ]
        evidence.sort(key=lambda e: (-e.score, -e.dense, e.passage.source, e.passage.start))
        return evidence


def _rrf(rank: int | None, k: int) -> float:
    return 0.0 if rank is None else 1.0 / (k + rank + 1)
