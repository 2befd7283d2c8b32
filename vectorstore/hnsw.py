"""An in-process HNSW index (faiss) for collections too large to scan.

Chroma's own HNSW query cost 2.8 ms at 243k passages (about 1 ms of it per-call overhead) and
found 78% of the exact 20 nearest; this index, built from the same vectors into the index
snapshot, finds 90% in 0.75 ms (efSearch 128; 82% in 0.43 ms at 64). Vectors are stored as
8-bit scalars (a quarter of float32): the index only proposes rows, which are then scored
exactly from the float16 vectors, so its approximations never reach a score.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

#: Graph degree and build-time breadth: recall 0.90 at efSearch 128 on the benchmark corpus.
NEIGHBOURS = 32
EF_CONSTRUCTION = 80


def _faiss() -> Any:
    import faiss  # imported only for large collections

    return faiss


class HnswIndex:
    """Approximate nearest rows by inner product (cosine, for normalised vectors)."""

    def __init__(self, index: Any, ef_search: int) -> None:
        self._index = index
        self._index.hnsw.efSearch = ef_search

    @classmethod
    def build(cls, vectors: np.ndarray, ef_search: int) -> HnswIndex:
        """Index every row of ``vectors`` (float32); uses every core, searches use one."""
        faiss = _faiss()
        matrix = np.ascontiguousarray(vectors, dtype=np.float32)
        index = faiss.IndexHNSWSQ(
            matrix.shape[1], faiss.ScalarQuantizer.QT_8bit, NEIGHBOURS, faiss.METRIC_INNER_PRODUCT
        )
        index.hnsw.efConstruction = EF_CONSTRUCTION
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        index.train(matrix)
        index.add(matrix)
        faiss.omp_set_num_threads(1)  # one query at a time: threads would only contend
        return cls(index, ef_search)

    def save(self, path: Path) -> None:
        _faiss().write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, ef_search: int) -> HnswIndex:
        faiss = _faiss()
        index = faiss.read_index(str(path))
        faiss.omp_set_num_threads(1)
        return cls(index, ef_search)

    def nearest(self, query: np.ndarray, k: int) -> list[int]:
        k = min(k, self._index.ntotal)
        if k <= 0:
            return []
        _, rows = self._index.search(np.asarray(query, dtype=np.float32).reshape(1, -1), k)
        return [int(r) for r in rows[0] if r >= 0]
