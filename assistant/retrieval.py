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
from assistant.query_adapter import QueryAdapter
from assistant.types import Evidence, Passage
from vectorstore.analysis import Acronyms, normalize_for_match, word_spans
from vectorstore.embeddings import Embedder
from vectorstore.exact import ExactVectors
from vectorstore.snapshot import IndexSnapshot

#: What continuing a passage the user was already shown is worth ("what else did he note?").
CONTINUATION_BONUS = 0.15
#: The neighbours of this many best candidates become candidates too.
NEIGHBOURS_OF = 5
#: How far back in its paragraph a sentence's context reaches.
MAX_PREFIX = 6


class PassageContext:
    """Where each passage sits: the sentences around it, the paragraph before it and its
    document, as vectors.

    A sentence is scored with its window (itself and the sentences either side in its
    paragraph), with its paragraph up to it (what "This system …" or "It also …" refers back
    to, however far) and with its document (the mean of its sentence vectors), so "both nations
    signed …" carries the document it is about. Computed from the passage vectors in memory
    (the mean of sentence vectors stands for the embedding of their concatenation), so ingest
    stores nothing more.
    """

    def __init__(
        self, first: np.ndarray, last: np.ndarray, window_norm: np.ndarray,
        prefix_norm: np.ndarray, document: np.ndarray, documents: np.ndarray,
    ) -> None:  # fmt: skip
        #: Rows of the first and last sentence of each row's paragraph (the prefix is capped).
        self.first, self.last = first, last
        self.window_norm, self.prefix_norm = window_norm, prefix_norm
        self.document, self.documents = document, documents

    @classmethod
    def of(cls, passages: Sequence[Passage], matrix: np.ndarray) -> PassageContext:
        n = len(passages)
        vectors = np.asarray(matrix, dtype=np.float32).reshape(n, -1)
        first = np.arange(n, dtype=np.int64)
        last = np.arange(n, dtype=np.int64)
        document = np.zeros(n, dtype=np.int64)
        names: dict[str, int] = {}
        for i, p in enumerate(passages):
            document[i] = names.setdefault(p.source, len(names))
            q = passages[i - 1] if i else None
            if q is not None and (q.source, q.paragraph) == (p.source, p.paragraph):
                first[i] = first[i - 1]
        for i in range(n - 2, -1, -1):
            if first[i + 1] == first[i]:
                last[i] = last[i + 1]
        first = np.maximum(first, np.arange(n) - MAX_PREFIX)
        window_norm = np.ones(n, dtype=np.float32)
        prefix_norm = np.ones(n, dtype=np.float32)
        for i in range(n):
            window_norm[i] = np.linalg.norm(
                vectors[max(i - 1, first[i]) : min(i + 1, last[i]) + 1].sum(0)
            )
            prefix_norm[i] = np.linalg.norm(vectors[first[i] : i + 1].sum(0))
        sums = np.zeros((len(names), vectors.shape[1]), dtype=np.float32)
        np.add.at(sums, document, vectors)
        norms = np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-9)
        return cls(
            first, last, np.maximum(window_norm, 1e-9), np.maximum(prefix_norm, 1e-9),
            document, sums / norms,
        )  # fmt: skip

    def neighbours(self, rows: Sequence[int]) -> list[int]:
        """The sentences right before and after ``rows`` in their paragraphs."""
        out = []
        for r in rows:
            if r > self.first[r]:
                out.append(r - 1)
            if r < self.last[r]:
                out.append(r + 1)
        return out

    def before(self, row: int) -> range:
        """The rows of the paragraph before ``row`` (at most ``MAX_PREFIX``)."""
        return range(int(self.first[row]), row)

    def similarities(
        self, query: np.ndarray, rows: Sequence[int], vectors: ExactVectors
    ) -> tuple[list[float], list[float], list[float]]:
        """Cosine of ``query`` to each row's window, its paragraph up to it, and its document."""
        if not rows:
            return [], [], []
        spans = [(int(self.first[r]), r, min(r + 1, int(self.last[r]))) for r in rows]
        known = sorted({x for lo, r, hi in spans for x in range(lo, hi + 1)})
        sims = dict(zip(known, vectors.similarities(query, known), strict=True))
        window, prefix = [], []
        for (lo, r, hi), w_norm, p_norm in zip(
            spans, self.window_norm[rows], self.prefix_norm[rows], strict=True
        ):
            window.append(sum(sims[x] for x in range(max(r - 1, lo), hi + 1)) / w_norm)
            prefix.append(sum(sims[x] for x in range(lo, r + 1)) / p_norm)
        document = self.documents[self.document[rows]] @ np.asarray(query, dtype=np.float32)
        return window, prefix, document.tolist()


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
        adapter: QueryAdapter | None = None,
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
        self.acronyms = Acronyms([p.text for p in self.passages])
        self.context = PassageContext.of(self.passages, self.vectors.matrix)
        self._window_weight = window_weight
        self._document_weight = document_weight
        dim = self.vectors.matrix.shape[1] if self.passages else None
        if adapter is not None and dim is not None and adapter.dimensions != dim:
            raise ValueError(
                f"the query adapter maps {adapter.dimensions}-d vectors; this index holds {dim}-d"
            )
        self._adapter = adapter

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
        return self.passages[i + 1] if i < self.context.last[i] else None

    def document_sentences(self, source: str) -> list[str]:
        """The sentences of one document in order, its lead first (built on first use)."""
        return self._document_sentences.get(source, [])

    @cached_property
    def _document_sentences(self) -> dict[str, list[str]]:
        sentences: dict[str, list[str]] = {}
        for p in self.passages:
            sentences.setdefault(p.source, []).append(p.text)
        return sentences

    def before(self, passage_id: str) -> str:
        """The text of its paragraph before this sentence (what "It also …" refers back to)."""
        i = self._position.get(passage_id)
        if i is None:
            return ""
        return " ".join(self.passages[r].text for r in self.context.before(i))

    def _query_vectors(self, search: SearchText) -> tuple[np.ndarray, np.ndarray | None]:
        """The search's vector, and (when it uses words the documents never do, and other
        words too) its vector without them, from the same pass of the model; both mapped by
        the query adapter when there is one."""
        spans = search.absent_spans(self.lexical, self.acronyms)
        if not spans or len(spans) == len(word_spans(search.text)):
            vector, without = self._embedder.embed_query(search.text), None
        else:
            vector, without = self._embedder.embed_query_without(search.text, spans)
        if self._adapter is None:
            return vector, without
        adapt = self._adapter.apply
        return adapt(vector), None if without is None else adapt(without)

    def retrieve(
        self, search: SearchText, exclude: Collection[str] = (), prefer: Collection[str] = ()
    ) -> list[Evidence]:
        """Candidates best first. ``exclude``: passage ids the user has already been given;
        ``prefer``: ids to favour by ``CONTINUATION_BONUS`` (e.g. what continues them)."""
        if not self.passages:
            return []
        vector, without_absent = self._query_vectors(search)
        k = self._candidates + len(exclude)
        lexical = dict(self.lexical.search_stems(search.stems, k))
        # Candidate rows in a stable order: dense, then lexical, then preferred.
        rows = dict.fromkeys(self.dense.nearest(vector, k))
        rows.update(dict.fromkeys(lexical))
        rows.update(dict.fromkeys(self._position[pid] for pid in prefer if pid in self._position))
        # A sentence that leans on its neighbour ("This system …") is found through it.
        rows.update(dict.fromkeys(self.context.neighbours(list(rows)[:NEIGHBOURS_OF])))
        kept = [row for row in rows if self.passages[row].id not in exclude]
        # Every candidate's cosine from the vectors in memory, whichever search proposed it.
        dense = self.vectors.similarities(vector, kept)
        window, prefix, document = self.context.similarities(vector, kept, self.vectors)
        pull = (
            np.asarray(dense) - np.asarray(self.vectors.similarities(without_absent, kept))
            if without_absent is not None
            else np.zeros(len(kept))
        )

        best_lexical = max(lexical.values(), default=0.0) or 1.0
        evidence = []
        for i, row in enumerate(kept):
            passage = self.passages[row]
            bonus = CONTINUATION_BONUS if passage.id in prefer else 0.0
            scaled = lexical.get(row, 0.0) / best_lexical
            fused = (
                dense[i]
                + self._window_weight * window[i]
                + self._document_weight * document[i]
                + self._lexical_weight * scaled
            )
            evidence.append(
                Evidence(
                    passage=passage,
                    score=float(fused + bonus),
                    dense=float(dense[i]),
                    window=float(window[i]),
                    prefix=float(prefix[i]),
                    document=float(document[i]),
                    lexical=float(scaled),
                    absent_pull=float(pull[i]),
                )
            )
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
