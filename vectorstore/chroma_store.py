"""Passages and their vectors in a Chroma collection (embedded directory or ``chroma run`` server).

Chroma never embeds here: every write and query passes vectors we computed, and collections
are opened with ``embedding_function=None`` (Chroma's default function would download a model).
The collection records the vector space that built it, so a query in another space fails loudly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from uuid import uuid4

import numpy as np

from vectorstore.offline import configure_offline_env
from vectorstore.records import Passage, StoredPassage

SPACE_KEY = "embedding_space"
#: Renewed by every ingest that changes the collection: what snapshots of it are keyed by.
VERSION_KEY = "index_version"
#: Set while an ingest writes: a collection in the middle of a write has no version to load.
WRITING_KEY = "index_writing"


class IndexUnavailable(RuntimeError):
    """The index is missing, unreadable or built for another model: the message says what to do."""


@dataclass(frozen=True)
class StoreLocation:
    """Where a collection lives: an embedded directory, or a ``chroma run`` server when
    ``chroma_url`` is set (``http://host:port``)."""

    index_dir: Path
    collection: str = "passages"
    chroma_url: str | None = None

    def describe(self) -> str:
        """Where the index lives, for messages."""
        return self.chroma_url or str(self.index_dir)


def _client(location: StoreLocation) -> Any:
    configure_offline_env()
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if location.chroma_url:
        url = urlparse(location.chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or 8000,
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    return chromadb.PersistentClient(path=str(location.index_dir), settings=chroma_settings)


class PassageStore:
    """A typed view of one Chroma collection of sentence passages."""

    def __init__(self, collection: Any, space: str) -> None:
        self._collection = collection
        self.space = space

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, location: StoreLocation, space: str, *, create: bool) -> PassageStore:
        """Open the collection; with ``create`` make it when missing. Errors say what to run."""
        where = location.describe()
        if not create and not location.chroma_url and not Path(location.index_dir).is_dir():
            raise IndexUnavailable(f"No index at {where}: run `python app.py ingest` first.")
        try:
            client = _client(location)
            if create:
                collection = client.get_or_create_collection(
                    location.collection,
                    embedding_function=None,
                    metadata={SPACE_KEY: space},
                    configuration={"hnsw": {"space": "cosine"}},
                )
            else:
                collection = client.get_collection(location.collection, embedding_function=None)
        except Exception as exc:  # chroma raises many types; all mean "index unusable"
            if not create and "does not exist" in str(exc).lower():
                raise IndexUnavailable(
                    f"No collection {location.collection!r} at {where}: "
                    "run `python app.py ingest` first."
                ) from exc
            raise IndexUnavailable(
                f"The index at {where} can't be opened ({type(exc).__name__}: {exc}). "
                "If it is damaged, delete it and run `python app.py ingest` again."
            ) from exc
        found = (collection.metadata or {}).get(SPACE_KEY)
        if found != space:
            raise IndexUnavailable(
                f"The index at {where} was built with embeddings {found!r}, but this process "
                f"uses {space!r}: run `python app.py ingest` (it re-embeds everything), or set "
                "ASSISTANT_EMBEDDING_BACKEND to the backend that built it."
            )
        return cls(collection, space)

    @staticmethod
    def _stored_metadata(location: StoreLocation) -> dict[str, Any] | None:
        """The collection's metadata as stored now, or None when there is no collection."""
        if not location.chroma_url and not Path(location.index_dir).is_dir():
            return None
        for collection in _client(location).list_collections():
            if collection.name == location.collection:
                return dict(collection.metadata or {})
        return None

    @staticmethod
    def stored_space(location: StoreLocation) -> str | None:
        """The vector space an existing collection was built in, or None when there is none."""
        return (PassageStore._stored_metadata(location) or {}).get(SPACE_KEY)

    @staticmethod
    def current_version(location: StoreLocation) -> str | None:
        """The collection's version now: another process may have re-ingested since it was
        opened (~1 ms, embedded or server); None while it is written or when it is gone."""
        return _version(PassageStore._stored_metadata(location))

    @staticmethod
    def drop(location: StoreLocation) -> None:
        """Delete the collection (``ingest --rebuild``); a missing one is fine."""
        client = _client(location)
        if location.collection in [c.name for c in client.list_collections()]:
            client.delete_collection(location.collection)

    # -- reading ---------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return str(self._collection.name)

    @property
    def version(self) -> str | None:
        """The collection's version as of opening it (None for indexes older than versions)."""
        return _version(self._collection.metadata)

    def count(self) -> int:
        return int(self._collection.count())

    def _pages(self, include: list[str], page: int = 5000) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            batch = self._collection.get(include=include, limit=page, offset=offset)
            if not batch["ids"]:
                return
            yield batch
            offset += len(batch["ids"])

    def stored(self) -> list[StoredPassage]:
        """Every passage's id and position (no text, no vectors): the basis of a re-ingest diff."""
        out: list[StoredPassage] = []
        for batch in self._pages(["metadatas"]):
            for pid, meta in zip(batch["ids"], batch["metadatas"], strict=True):
                out.append(
                    StoredPassage(
                        pid, meta["source"], meta["start"], meta["end"], meta["paragraph"]
                    )
                )
        return out

    def passages(self) -> list[Passage]:
        """Every passage with its text, in source and reading order (for lexical search)."""
        return self.passages_with_vectors(vectors=False)[0]

    def passages_with_vectors(
        self, *, vectors: bool = True
    ) -> tuple[list[Passage], np.ndarray | None]:
        """Every passage in source and reading order, and (optionally) their vectors, aligned.

        Chroma returns float64 pages; each is narrowed to float32 as it arrives, so 243k
        passages peak at two float32 copies (2 × 373 MB) rather than a float64 one and more.
        """
        include = ["documents", "metadatas", *(["embeddings"] if vectors else [])]
        passages: list[Passage] = []
        pages: list[np.ndarray] = []
        for batch in self._pages(include):
            passages.extend(
                _passage(pid, doc, meta)
                for pid, doc, meta in zip(
                    batch["ids"], batch["documents"], batch["metadatas"], strict=True
                )
            )
            if vectors:
                pages.append(np.asarray(batch["embeddings"], dtype=np.float32))
        order = sorted(range(len(passages)), key=lambda i: (passages[i].source, passages[i].start))
        passages = [passages[i] for i in order]
        if not vectors:
            return passages, None
        if not pages:
            return passages, np.zeros((0, 0), dtype=np.float32)
        return passages, np.concatenate(pages)[order]

    # -- writing ---------------------------------------------------------------------------
    def mark_changed(self, *, writing: bool = False) -> None:
        """Give the collection a new version. Ingest marks it ``writing`` before it writes
        (no version then: nothing snapshots or reloads a half-written index) and once more
        after, so a crash part-way never leaves an old version on changed contents."""
        metadata: dict[str, Any] = {SPACE_KEY: self.space, VERSION_KEY: uuid4().hex}
        if writing:
            metadata[WRITING_KEY] = True
        self._collection.modify(metadata=metadata)

    def add(self, passages: Sequence[Passage], embeddings: np.ndarray) -> None:
        """Insert (or overwrite) passages with their vectors, in batches Chroma accepts."""
        for lo, hi in self._batches(len(passages)):
            chunk = passages[lo:hi]
            self._collection.upsert(
                ids=[p.id for p in chunk],
                embeddings=np.asarray(embeddings[lo:hi], dtype=np.float32),
                documents=[p.text for p in chunk],
                metadatas=[_metadata(p) for p in chunk],
            )

    def move(self, passages: Sequence[Passage]) -> None:
        """Update offsets of passages whose text is unchanged (no re-embedding)."""
        for lo, hi in self._batches(len(passages)):
            chunk = passages[lo:hi]
            self._collection.update(
                ids=[p.id for p in chunk], metadatas=[_metadata(p) for p in chunk]
            )

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        for lo, hi in self._batches(len(ids)):
            self._collection.delete(ids=ids[lo:hi])

    def _batches(self, n: int, size: int = 2000) -> Iterator[tuple[int, int]]:
        for lo in range(0, n, size):
            yield lo, min(lo + size, n)


def _version(metadata: dict[str, Any] | None) -> str | None:
    """The version in collection metadata; None when it has none or is being written."""
    metadata = metadata or {}
    return None if metadata.get(WRITING_KEY) else metadata.get(VERSION_KEY)


def _metadata(passage: Passage) -> dict[str, Any]:
    return {
        "source": passage.source,
        "start": passage.start,
        "end": passage.end,
        "paragraph": passage.paragraph,
    }


def _passage(pid: str, text: str, meta: dict[str, Any]) -> Passage:
    return Passage(
        id=pid,
        source=meta["source"],
        start=int(meta["start"]),
        end=int(meta["end"]),
        text=text,
        paragraph=int(meta["paragraph"]),
    )
