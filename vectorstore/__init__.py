"""The store: passage records, text analysis, embeddings, BM25, exact/HNSW search, the
in-memory snapshot and Chroma (an embedded directory or a ``chroma run`` server).

Imports nothing of the project above it: callers pass explicit arguments, not settings.
"""

from vectorstore.analysis import (
    clean_text,
    normalize_for_match,
    stem,
    stems,
    without_invalid,
    words,
)
from vectorstore.chroma_store import (
    IndexIncomplete,
    IndexUnavailable,
    PassageStore,
    StoreLocation,
)
from vectorstore.embeddings import BACKENDS, Embedder, load_embedder
from vectorstore.lexical import BM25Index
from vectorstore.lock import IndexLock, IndexLocked
from vectorstore.multilingual import MultilingualEmbedder
from vectorstore.offline import configure_offline_env
from vectorstore.records import Passage, StoredPassage
from vectorstore.snapshot import (
    IndexSnapshot,
    SnapshotOptions,
    load_index,
    remove_stale_snapshots,
    save_multilingual,
    save_snapshot,
)

__all__ = [
    "BACKENDS",
    "BM25Index",
    "Embedder",
    "IndexIncomplete",
    "IndexLock",
    "IndexLocked",
    "IndexSnapshot",
    "IndexUnavailable",
    "MultilingualEmbedder",
    "Passage",
    "PassageStore",
    "SnapshotOptions",
    "StoreLocation",
    "StoredPassage",
    "clean_text",
    "configure_offline_env",
    "load_embedder",
    "load_index",
    "normalize_for_match",
    "remove_stale_snapshots",
    "save_multilingual",
    "save_snapshot",
    "stem",
    "stems",
    "without_invalid",
    "words",
]
