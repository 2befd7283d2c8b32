"""A query adapter: a linear map, fitted on tune questions, applied to a question's vector.

MiniLM places a question near sentences that share its words, not near the sentence that
answers it in other words ("rolled over" vs "extended", "takeaway" vs "agreed"), and an
unanswerable question on the documents' topic as near them as an answerable one. The adapter
is ``I + Δ`` (384 × 384), fitted by ``evaluation/fit_query_adapter.py`` so that each tune
question's vector, mapped and renormalised, ranks its gold sentence above every other sentence
of its corpus (a softmax over the corpus), an answerable question's best cosine reaches a
margin and an unanswerable one's stays under it (``Δ`` held near 0 by an L2 penalty). Only
the question's side moves, so an index needs no re-embedding, and it costs one matrix-vector
product a query (~10 µs).

It learns the documents it was fitted on as much as it learns question wording: fitted on one
corpus's questions it lifted another's hardly at all (see the fit's docstring). So it is fitted
per corpus, from questions written about it, and ``ASSISTANT_QUERY_ADAPTER=none`` serves
without it (for a corpus it was not fitted on, or to measure what it adds).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

QUERY_ADAPTER_FILE = Path(__file__).with_name("query_adapter.npz")


@dataclass(frozen=True)
class QueryAdapter:
    """``matrix`` maps a question's vector; ``about`` says what it was fitted on, and how well."""

    matrix: np.ndarray
    about: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = QUERY_ADAPTER_FILE) -> QueryAdapter:
        """Read an adapter written by :meth:`save`; a missing or malformed file fails loudly."""
        try:
            with np.load(path, allow_pickle=False) as saved:
                matrix = np.asarray(saved["matrix"], dtype=np.float32)
                about = json.loads(str(saved["about"]))
        except (OSError, KeyError, ValueError) as exc:
            raise ValueError(f"cannot read the query adapter {path}: {exc}") from exc
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"the query adapter {path} is not a square matrix: {matrix.shape}")
        return cls(matrix, about)

    def save(self, path: Path) -> None:
        with path.open("wb") as out:
            np.savez(out, matrix=self.matrix.astype(np.float32), about=json.dumps(self.about))

    @property
    def dimensions(self) -> int:
        return int(self.matrix.shape[0])

    def apply(self, vector: np.ndarray) -> np.ndarray:
        """The question's vector mapped and renormalised (cosine stays a dot product)."""
        mapped = self.matrix @ np.asarray(vector, dtype=np.float32)
        return mapped / np.linalg.norm(mapped)
