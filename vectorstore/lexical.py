"""BM25 over stemmed words: exact names and rare terms that dense vectors blur.

Built from the store's passages (the store stays the single source of truth, so replicas
sharing a Chroma server agree) and saved with the index snapshot (:mod:`vectorstore.snapshot`).
Scoring touches only the postings of the query's terms, so a query costs the same whether
the index has 20 passages or 200,000.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from vectorstore.analysis import stems

#: A term's postings: passage rows (int32) and their BM25 weights (float32), aligned.
Postings = tuple[np.ndarray, np.ndarray]


class BM25Index:
    """Okapi BM25 with inverted postings held as numpy arrays, weights precomputed."""

    def __init__(self, postings: Mapping[str, Postings], size: int) -> None:
        self.postings = dict(postings)
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> BM25Index:
        """Index ``texts`` (row i is ``texts[i]``) with the usual k1=1.2, b=0.75."""
        docs = [stems(t) for t in texts]
        size = len(docs)
        lengths = np.array([len(d) for d in docs], dtype=np.float32)
        avg = float(lengths.mean()) if size else 1.0
        norm = k1 * (1 - b + b * lengths / max(avg, 1e-9))
        rows: dict[str, list[int]] = defaultdict(list)
        freqs: dict[str, list[int]] = defaultdict(list)
        for i, doc in enumerate(docs):
            for term, tf in Counter(doc).items():
                rows[term].append(i)
                freqs[term].append(tf)
        postings: dict[str, Postings] = {}
        for term, idx in rows.items():
            ids = np.array(idx, dtype=np.int32)
            tf = np.array(freqs[term], dtype=np.float32)
            idf = math.log(1 + (size - len(ids) + 0.5) / (len(ids) + 0.5))
            postings[term] = (ids, idf * tf * (k1 + 1) / (tf + norm[ids]))
        return cls(postings, size)

    def __contains__(self, term: str) -> bool:
        return term in self.postings

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Rows and scores of the ``k`` best passages with a positive score, best first."""
        return self.search_stems(stems(query), k)

    def search_stems(self, terms: Iterable[str], k: int) -> list[tuple[int, float]]:
        """:meth:`search` for a query already stemmed (:func:`vectorstore.analysis.stems`)."""
        postings = [self.postings[t] for t in set(terms) if t in self.postings]
        if not postings or k <= 0:
            return []
        # Common words ("said", "report") have long postings but low weights: score only the
        # passages holding a rarer query term, and keep that answer when the common terms'
        # best possible total can't reach its k-th score (MaxScore; exact either way).
        common = [p for p in postings if len(p[0]) > self.size // COMMON_FRACTION]
        rare = [p for p in postings if len(p[0]) <= self.size // COMMON_FRACTION]
        if common and rare:
            rows = np.unique(np.concatenate([r for r, _ in rare]))
            scores = sum(_weights_at(p, rows) for p in postings)
            if len(rows) >= k:
                kth = np.partition(scores, len(rows) - k)[len(rows) - k]
                if sum(float(w.max()) for _, w in common) < kth:
                    return _best(rows, scores, k)
        ids = np.concatenate([p[0] for p in postings])
        all_scores = np.bincount(
            ids, weights=np.concatenate([p[1] for p in postings]), minlength=self.size
        )
        rows = np.flatnonzero(all_scores)
        return _best(rows, all_scores[rows], k)


#: A term in more than 1/COMMON_FRACTION of the passages counts as common (see ``search``).
COMMON_FRACTION = 50


def _weights_at(postings: Postings, rows: np.ndarray) -> np.ndarray:
    """The term's weight in each of ``rows`` (0 where it doesn't occur); postings are sorted."""
    term_rows, weights = postings
    at = np.minimum(np.searchsorted(term_rows, rows), len(term_rows) - 1)
    return np.where(term_rows[at] == rows, weights[at].astype(np.float64), 0.0)


def _best(rows: np.ndarray, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` highest-scoring rows, best first, ties by row."""
    if len(rows) > k:
        keep = scores >= np.partition(scores, len(scores) - k)[len(scores) - k]  # with ties
        rows, scores = rows[keep], scores[keep]
    ranked = sorted(zip(rows.tolist(), scores.tolist(), strict=True), key=lambda x: (-x[1], x[0]))
    return ranked[:k]
