"""BM25 over stemmed words: exact names and rare terms that dense vectors blur.

Built in memory from the store's passages at start-up (the store stays the single source of
truth, so replicas sharing a Chroma server agree). Scoring touches only the postings of the
query's terms, so a query costs the same whether the index has 20 passages or 200,000.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

from assistant.text import stems


class BM25Index:
    """Okapi BM25 (k1=1.2, b=0.75) with inverted postings held as numpy arrays."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        docs = [stems(t) for t in texts]
        lengths = np.array([len(d) for d in docs], dtype=np.float32)
        self.size = len(docs)
        avg = float(lengths.mean()) if self.size else 1.0
        norm = k1 * (1 - b + b * lengths / max(avg, 1e-9))
        rows: dict[str, list[int]] = defaultdict(list)
        freqs: dict[str, list[int]] = defaultdict(list)
        for i, doc in enumerate(docs):
            for term, tf in Counter(doc).items():
                rows[term].append(i)
                freqs[term].append(tf)
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for term, idx in rows.items():
            ids = np.array(idx, dtype=np.int64)
            tf = np.array(freqs[term], dtype=np.float32)
            idf = math.log(1 + (self.size - len(ids) + 0.5) / (len(ids) + 0.5))
            self._postings[term] = (ids, idf * tf * (k1 + 1) / (tf + norm[ids]))
        self.document_frequency = {term: len(p[0]) for term, p in self._postings.items()}

    def __contains__(self, term: str) -> bool:
        return term in self._postings

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Indices and scores of the ``k`` best passages with a positive score, best first."""
        postings = [self._postings[t] for t in set(stems(query)) if t in self._postings]
        if not postings or k <= 0:
            return []
        ids = np.concatenate([p[0] for p in postings])
        weights = np.concatenate([p[1] for p in postings])
        scores = np.bincount(ids, weights=weights, minlength=self.size)
        hits = np.flatnonzero(scores)
        if len(hits) > k:
            hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
        ranked = sorted(hits.tolist(), key=lambda i: (-scores[i], i))
        return [(i, float(scores[i])) for i in ranked]
