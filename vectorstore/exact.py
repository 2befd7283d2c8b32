"""Passage vectors held in memory: exact nearest neighbours and the similarity of any passage.

The vectors come from Chroma, through the index snapshot (:mod:`vectorstore.snapshot`), so
Chroma stays the single source of truth. Up to a few tens of thousands of passages a
matrix-vector scan is exact and faster than a round trip through Chroma's HNSW index (~0.05 ms
against ~1.1 ms for the article). Beyond, :class:`vectorstore.hnsw.HnswIndex` proposes the
nearest rows and these vectors score them exactly, with the lexical candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class DenseIndex(Protocol):
    """Proposes the rows nearest a query (exact scan or HNSW), best first."""

    def nearest(self, query: np.ndarray, k: int) -> list[int]: ...


class ExactVectors:
    """L2-normalised vectors held as one matrix (row i is passage i); cosine is a dot product.

    float32 to scan; float16 (half the memory, 186 MB at 243k passages, ~1e-4 off in cosine)
    when they only score a few rows beside an HNSW index: numpy has no float16 BLAS.
    """

    def __init__(self, matrix: np.ndarray) -> None:
        self.matrix = matrix

    def nearest(self, query: np.ndarray, k: int) -> list[int]:
        scores = self.matrix @ np.asarray(query, dtype=self.matrix.dtype)
        k = min(k, len(scores))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        return top[np.argsort(-scores[top], kind="stable")].tolist()

    def similarities(self, query: np.ndarray, rows: Sequence[int]) -> list[float]:
        """Cosine similarity of ``query`` to each of ``rows``, in order."""
        vectors = np.asarray(self.matrix[list(rows)], dtype=np.float32)
        return (vectors @ np.asarray(query, dtype=np.float32)).tolist()
