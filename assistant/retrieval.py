"""Hybrid retrieval: dense (cosine) and lexical (BM25) sentence candidates, fused.

Fusion is by value, not rank: ``cosine + lexical_weight × bm25 / best bm25``. Reciprocal
rank fusion was measured first and tied near-equal passages wrongly (a passage matching all
of a question's rare words scored the same as one matching a single common word); on our
calibration set value fusion put the gold sentence first in 37 of 38 answerable questions
against 35 of 38 for RRF, and any weight from 0.3 to 0.6 gives the same result.

:class:`HybridRetriever` is the fast path the chain uses (it takes the question's analysis);
:class:`PassageRetriever` is the same search as a LangChain ``BaseRetriever`` returning
``Document``s, for use in any LangChain pipeline.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import cached_property
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from assistant.query import SearchText
from assistant.types import Evidence, Passage
from vectorstore.analysis import normalize_for_match
from vectorstore.embeddings import Embedder
from vectorstore.exact import ExactVectors
from vectorstore.snapshot import IndexSnapshot

#: What continuing a passage the user was already shown is worth ("what else did he note?").
CONTINUATION_BONUS = 0.15
#: The neighbours of this many best candidates become candidates too.
NEIGHBOURS_OF = 5


class PassageContext:
    """Where each passage sits: the sentences around it and its document, as vectors.

    A sentence is scored with its window (itself and the sentences either side in its
    paragraph) and its document (the mean of the document's sentence vectors), so "This
    system will allow …" carries what "this system" is and "both nations signed …" the
    document it is about. Computed from the passage vectors in memory (the mean of sentence
    vectors stands for the embedding of their concatenation), so ingest stores nothing more.
    """

    def __init__(
        self, before: np.ndarray, after: np.ndarray, window_norm: np.ndarray,
        document: np.ndarray, documents: np.ndarray,
    ) -> None:  # fmt: skip
        self.before, self.after, self.window_norm = before, after, window_norm
        self.document, self.documents = document, documents

    @classmethod
    def of(cls, passages: Sequence[Passage], matrix: np.ndarray) -> PassageContext:
        n = len(passages)
        before = np.full(n, -1, dtype=np.int64)
        after = np.full(n, -1, dtype=np.int64)
        document = np.zeros(n, dtype=np.int64)
        names: dict[str, int] = {}
        for i, p in enumerate(passages):
            document[i] = names.setdefault(p.source, len(names))
            if (
                i
                and passages[i - 1].source == p.source
                and passages[i - 1].paragraph == p.paragraph
            ):
                before[i], after[i - 1] = i - 1, i
        vectors = np.asarray(matrix, dtype=np.float32)
        window = vectors.copy()
        has_before, has_after = before >= 0, after >= 0
        window[has_before] += vectors[before[has_before]]
        window[has_after] += vectors[after[has_after]]
        window_norm = np.maximum(np.linalg.norm(window, axis=1), 1e-9) if n else np.zeros(0)
        sums = np.zeros((len(names), vectors.shape[1] if n else 0), dtype=np.float32)
        np.add.at(sums, document, vectors)
        norms = np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-9)
        return cls(before, after, window_norm.astype(np.float32), document, sums / norms)

    def neighbours(self, rows: Sequence[int]) -> list[int]:
        """The sentences right before and after ``rows`` in their paragraphs."""
        out = [int(x) for r in rows for x in (self.before[r], self.after[r])]
        return [r for r in out if r >= 0]

    def scores(
        self,
        query: np.ndarray,
        rows: Sequence[int],
        vectors: ExactVectors,
        window_weight: float,
        document_weight: float,
    ) -> list[float]:
        """``window_weight × cos(query, window) + document_weight × cos(query, document)``."""
        if not rows or not (window_weight or document_weight):
            return [0.0] * len(rows)
        at = np.asarray(rows, dtype=np.int64)
        total = np.zeros(len(at), dtype=np.float32)
        if window_weight:
            around = np.concatenate([at, self.before[at], self.after[at]])
            known = around[around >= 0]
            sims = dict(
                zip(known.tolist(), vectors.similarities(query, known.tolist()), strict=True)
            )
            window = np.array(
                [sum(sims.get(int(x), 0.0) for x in (r, self.before[r], self.after[r]) if x >= 0)
                 for r in at], dtype=np.float32,
            )  # fmt: skip
            total += window_weight * window / self.window_norm[at]
        if document_weight:
            q = np.asarray(query, dtype=np.float32)
            total += document_weight * (self.documents[self.document[at]] @ q)
        return total.tolist()


class HybridRetriever:
    """Ranks sentence passages for a query over an index loaded into memory."""

    def __init__(
        self,
        index: IndexSnapshot,
        embedder: Embedder,
        *,
        candidates: int,
        lexical_weight: float,
        window_weight: float = 0.0,
        document_weight: float = 0.0,
    ) -> None:
        self._embedder = embedder
        self._candidates = candidates
        self._lexical_weight = lexical_weight
        self.passages = index.passages
        self.lexical = index.lexical
        self.dense = index.dense
        self.vectors = index.vectors
        self.index_version = index.version
        self._position = {p.id: i for i, p in enumerate(self.passages)}
        self.context = PassageContext.of(self.passages, self.vectors.matrix)
        self._window_weight = window_weight
        self._document_weight = document_weight

    @cached_property
    def _ids_by_text(self) -> dict[str, list[str]]:
        by_text: dict[str, list[str]] = {}
        for p in self.passages:
            by_text.setdefault(normalize_for_match(p.text), []).append(p.id)
        return by_text

    def ids_with_text(self, normalized_text: str) -> list[str]:
        """Ids of the passages whose text, normalised, is exactly this (built on first use)."""
        return self._ids_by_text.get(normalized_text, [])

    def next_passage(self, passage_id: str) -> Passage | None:
        """The sentence right after this one in the same paragraph, if any."""
        i = self._position.get(passage_id)
        if i is None or i + 1 >= len(self.passages):
            return None
        here, after = self.passages[i], self.passages[i + 1]
        same = after.source == here.source and after.paragraph == here.paragraph
        return after if same else None

    def retrieve(
        self, search: SearchText, exclude: Collection[str] = (), prefer: Collection[str] = ()
    ) -> list[Evidence]:
        """Candidates best first. ``exclude``: passage ids the user has already been given;
        ``prefer``: ids to favour by ``CONTINUATION_BONUS`` (e.g. what continues them)."""
        if not self.passages:
            return []
        vector = self._embedder.embed_query(search.text)
        k = self._candidates + len(exclude)
        lexical = dict(self.lexical.search_stems(search.stems, k))
        # Candidate rows in a stable order: dense, then lexical, then preferred.
        rows = dict.fromkeys(self.dense.nearest(vector, k))
        rows.update(dict.fromkeys(lexical))
        rows.update(dict.fromkeys(self._position[pid] for pid in prefer if pid in self._position))
        if self._window_weight:
            # A sentence that leans on its neighbour ("This system …") is found through it.
            rows.update(dict.fromkeys(self.context.neighbours(list(rows)[:NEIGHBOURS_OF])))
        kept = [row for row in rows if self.passages[row].id not in exclude]
        # Every candidate's cosine from the vectors in memory, whichever search proposed it.
        dense = self.vectors.similarities(vector, kept)
        context = self.context.scores(
            vector, kept, self.vectors, self._window_weight, self._document_weight
        )

        best_lexical = max(lexical.values(), default=0.0) or 1.0
        evidence = []
        for row, similarity, around in zip(kept, dense, context, strict=True):
            passage = self.passages[row]
            bonus = CONTINUATION_BONUS if passage.id in prefer else 0.0
            fused = (
                similarity + around + self._lexical_weight * lexical.get(row, 0.0) / best_lexical
            )
            evidence.append(Evidence(passage=passage, score=fused + bonus, dense=similarity))
        evidence.sort(key=lambda e: (-e.score, -e.dense, e.passage.source, e.passage.start))
        return evidence


def as_document(evidence: Evidence) -> Document:
    """A passage as a LangChain ``Document`` whose metadata locates it exactly."""
    p = evidence.passage
    return Document(
        page_content=p.text,
        id=p.id,
        metadata={
            "source": p.source,
            "start": p.start,
            "end": p.end,
            "paragraph": p.paragraph,
            "score": round(evidence.score, 4),
            "similarity": round(evidence.dense, 4),
        },
    )


class PassageRetriever(BaseRetriever):
    """The hybrid search as a LangChain retriever: ``invoke(query)`` → the ``k`` best sentences.

    ``metadata`` of each ``Document`` carries ``source``, ``start``, ``end`` (exact offsets:
    ``page_content == source_text[start:end]``), ``paragraph``, the fused ``score`` and the
    cosine ``similarity``.
    """

    retriever: Any  # HybridRetriever (not a pydantic type)
    k: int = 3

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        evidence = self.retriever.retrieve(SearchText.of(query))
        return [as_document(e) for e in evidence[: self.k]]
