"""Passages and their vectors in Chroma (an embedded directory or a ``chroma run`` server),
one collection per index version, and a pointer naming the version that is served.

Chroma never embeds here: every write and query passes vectors we computed, and collections
are opened with ``embedding_function=None`` (Chroma's default function would download a model).
A collection records the vector space that built it, so a query in another space fails loudly.

Versions. An ingest that changes the index writes a complete new collection
(``<name>__v<version>``) beside the one being served, then switches the pointer (the metadata
of the empty collection ``<name>__current``: one row updated in one transaction, so readers
see the old pointer or the new one, never a mix) and only then deletes the old collection.
Readers only ever open the collection the pointer names, so a crash at any point leaves the
last complete version served; what a crashed ingest wrote is never pointed at and is deleted
by the next one. Works the same embedded and with a server, since both only need collection
metadata. An index from before versions (one collection named ``<name>``, with the version
in its metadata) is still read, and replaced by the first ingest.

A version may have a companion collection (``<name>__v<version>__e5``) holding each passage's
multilingual-e5 vector, so that every replica's snapshot, taken from Chroma, has them
(:mod:`vectorstore.snapshot`). It is written before the version is published (or, for a
published one, marked complete only once whole) and deleted with its version.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from uuid import uuid4

import numpy as np

from vectorstore.offline import configure_offline_env
from vectorstore.records import Passage, StoredPassage

SPACE_KEY = "embedding_space"
#: Each version's own id: what snapshots of it are keyed by.
VERSION_KEY = "index_version"
#: Set by ingests from before versions while they wrote into the served collection in place.
WRITING_KEY = "index_writing"
#: In the pointer: the collection being served.
CURRENT_KEY = "current_collection"
PUBLISHED_KEY = "published_at"
#: On a version's e5 companion collection: set once every vector is in.
COMPLETE_KEY = "complete"
#: The vector space of the e5 companion collections.
MULTILINGUAL_SPACE = "multilingual-e5-small"
#: A reader that found the pointer naming a collection deleted under it reads the pointer again.
_OPEN_ATTEMPTS = 3


class IndexUnavailable(RuntimeError):
    """The index is missing, unreadable or built for another model: the message says what to do."""


class IndexIncomplete(IndexUnavailable):
    """An index from before versions that an ingest left half-written: never served."""


@dataclass(frozen=True)
class StoreLocation:
    """Where an index lives: an embedded directory, or a ``chroma run`` server when
    ``chroma_url`` is set (``http://host:port``); ``collection`` names the index there."""

    index_dir: Path
    collection: str = "passages"
    chroma_url: str | None = None

    def describe(self) -> str:
        """Where the index lives, for messages."""
        return self.chroma_url or str(self.index_dir)

    @property
    def pointer_name(self) -> str:
        """The empty collection whose metadata names the version served."""
        return f"{self.collection}__current"

    @property
    def lock_name(self) -> str:
        """The empty collection that exists while an ingest writes (:mod:`vectorstore.lock`)."""
        return f"{self.collection}__lock"

    def version_name(self, version: str) -> str:
        return f"{self.collection}__v{version}"

    def multilingual_name(self, version: str) -> str:
        """The companion collection of a version's e5 vectors."""
        return f"{self.version_name(version)}__e5"

    def version_owning(self, name: str) -> str | None:
        """The version collection ``name`` belongs to: itself, or the version whose e5
        companion it is; None for any other collection."""
        pattern = rf"({re.escape(self.collection)}__v[0-9a-f]{{32}})(__e5)?"
        match = re.fullmatch(pattern, name)
        return match.group(1) if match else None

    def exists_locally(self) -> bool:
        """False when an embedded index directory doesn't exist (a server always may)."""
        return bool(self.chroma_url) or Path(self.index_dir).is_dir()


def open_client(location: StoreLocation) -> Any:
    """A Chroma client for the location (never downloads, never sends telemetry)."""
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


def get_collection(client: Any, name: str) -> Any | None:
    """The collection called ``name``, or None when there is none."""
    try:
        return client.get_collection(name, embedding_function=None)
    except Exception as exc:  # NotFoundError embedded; other types through a server
        if "does not exist" in str(exc).lower():
            return None
        raise


@dataclass(frozen=True)
class Published:
    """What is served: the collection, its version and space; ``complete`` is False only for
    an index from before versions that an ingest left half-written."""

    collection: str
    version: str | None
    space: str | None
    complete: bool = True


def published(client: Any, location: StoreLocation) -> Published | None:
    """What the pointer names (or the index from before versions); None when nothing is."""
    pointer = get_collection(client, location.pointer_name)
    if pointer is not None:
        meta = dict(pointer.metadata or {})
        return Published(meta[CURRENT_KEY], meta.get(VERSION_KEY), meta.get(SPACE_KEY))
    legacy = get_collection(client, location.collection)
    if legacy is None:
        return None
    meta = dict(legacy.metadata or {})
    return Published(
        location.collection,
        meta.get(VERSION_KEY),
        meta.get(SPACE_KEY),
        complete=not meta.get(WRITING_KEY),
    )


def _unusable(location: StoreLocation, exc: Exception) -> IndexUnavailable:
    return IndexUnavailable(
        f"The index at {location.describe()} can't be opened ({type(exc).__name__}: {exc}). "
        "If it is damaged, delete it and run `python app.py ingest` again."
    )


class PassageStore:
    """A typed view of one version of an index: one Chroma collection of sentence passages."""

    def __init__(self, collection: Any, space: str, location: StoreLocation) -> None:
        self._collection = collection
        self.space = space
        self.location = location

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, location: StoreLocation, space: str) -> PassageStore:
        """The version being served; errors say what to run (no index, a half-written one
        from before versions, another vector space)."""
        where = location.describe()
        store = cls.open_published(location)
        if store is None:
            raise IndexUnavailable(f"No index at {where}: run `python app.py ingest` first.")
        if store.space != space:
            raise IndexUnavailable(
                f"The index at {where} was built with embeddings {store.space!r}, but this "
                f"process uses {space!r}: run `python app.py ingest` (it re-embeds everything), "
                "or set ASSISTANT_EMBEDDING_BACKEND to the backend that built it."
            )
        return store

    @classmethod
    def open_published(cls, location: StoreLocation) -> PassageStore | None:
        """The version being served, in the space that built it; None when there is none."""
        if not location.exists_locally():
            return None
        try:
            client = open_client(location)
            for _ in range(_OPEN_ATTEMPTS):
                current = published(client, location)
                if current is None:
                    return None
                if not current.complete:
                    raise IndexIncomplete(
                        f"The index at {location.describe()} was left half-written by an ingest "
                        "that stopped: run `python app.py ingest` to build it again."
                    )
                collection = get_collection(client, current.collection)
                if collection is not None:  # else replaced and deleted since the pointer was read
                    space = str((collection.metadata or {}).get(SPACE_KEY))
                    return cls(collection, space, location)
        except IndexUnavailable:
            raise
        except Exception as exc:  # chroma raises many types; all mean "index unusable"
            raise _unusable(location, exc) from exc
        raise IndexUnavailable(
            f"The index at {location.describe()} names a version that no longer exists: "
            "run `python app.py ingest`."
        )

    @classmethod
    def create_version(cls, location: StoreLocation, space: str) -> PassageStore:
        """A new, empty version beside the one served: nothing reads it until :meth:`publish`."""
        version = uuid4().hex
        collection = open_client(location).create_collection(
            location.version_name(version),
            embedding_function=None,
            metadata={SPACE_KEY: space, VERSION_KEY: version},
            configuration={"hnsw": {"space": "cosine"}},
        )
        return cls(collection, space, location)

    def publish(self) -> None:
        """Serve this version from now on: one metadata update of the pointer."""
        client = open_client(self.location)
        metadata = {
            CURRENT_KEY: self.name,
            VERSION_KEY: str(self.version),
            SPACE_KEY: self.space,
            PUBLISHED_KEY: time.time(),
        }
        pointer = get_collection(client, self.location.pointer_name)
        if pointer is None:
            client.create_collection(
                self.location.pointer_name, embedding_function=None, metadata=metadata
            )
        else:
            pointer.modify(metadata=metadata)

    @staticmethod
    def remove_unpublished(location: StoreLocation) -> list[str]:
        """Delete every version but the one served (the one it replaced, what crashed ingests
        left, an index from before versions once a pointer exists), with their e5
        companions; returns their names.
        Only the holder of the ingest lock may call this: an unpublished version may be the
        one it is writing."""
        client = open_client(location)
        current = published(client, location)
        if current is None:
            return []
        removed = []
        for collection in client.list_collections():
            name = collection.name
            owner = location.version_owning(name)
            stale = owner is not None or name == location.collection
            if stale and (owner or name) != current.collection:
                client.delete_collection(name)
                removed.append(name)
        return removed

    @staticmethod
    def current_version(location: StoreLocation) -> str | None:
        """The version served now: another process may have published one since this one
        opened the index (~1 ms, embedded or server); None when there is none."""
        if not location.exists_locally():
            return None
        current = published(open_client(location), location)
        return current.version if current is not None and current.complete else None

    # -- reading ---------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The collection holding this version."""
        return str(self._collection.name)

    @property
    def index_name(self) -> str:
        """The index's name, the same for all its versions (snapshots are named after it)."""
        return self.location.collection

    @property
    def version(self) -> str | None:
        """This version's id (None for an index from before versions that never had one)."""
        return (self._collection.metadata or {}).get(VERSION_KEY)

    def count(self) -> int:
        return int(self._collection.count())

    def _pages(self, include: list[str]) -> Iterator[dict[str, Any]]:
        return _pages(self._collection, include)

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
        self, *, vectors: bool = True, on_page: Callable[[int], None] | None = None
    ) -> tuple[list[Passage], np.ndarray | None]:
        """Every passage in source and reading order, and (optionally) their vectors, aligned;
        ``on_page`` is told how many passages each page read brought (progress).

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
            if on_page is not None:
                on_page(len(batch["ids"]))
        order = sorted(range(len(passages)), key=lambda i: (passages[i].source, passages[i].start))
        passages = [passages[i] for i in order]
        if not vectors:
            return passages, None
        if not pages:
            return passages, np.zeros((0, 0), dtype=np.float32)
        return passages, np.concatenate(pages)[order]

    # -- writing (only into a version that isn't published yet) ----------------------------
    def add(
        self,
        passages: Sequence[Passage],
        embeddings: np.ndarray,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        """Insert passages with their vectors, in batches Chroma accepts; ``on_batch`` is told
        the size of each batch once it is written."""
        for lo, hi in self._batches(len(passages)):
            chunk = passages[lo:hi]
            self._collection.add(
                ids=[p.id for p in chunk],
                embeddings=np.asarray(embeddings[lo:hi], dtype=np.float32),
                documents=[p.text for p in chunk],
                metadatas=[_metadata(p) for p in chunk],
            )
            if on_batch is not None:
                on_batch(hi - lo)

    def copy_from(
        self,
        source: PassageStore,
        keep: Collection[str],
        moved: Mapping[str, Passage],
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        """Copy the passages ``keep`` names from ``source`` with their stored vectors (no
        re-embedding); those in ``moved`` take its offsets and paragraph."""
        for batch in source._pages(["embeddings", "documents", "metadatas"]):
            rows = [i for i, pid in enumerate(batch["ids"]) if pid in keep]
            if not rows:
                continue
            ids = [batch["ids"][i] for i in rows]
            metadatas = [
                _metadata(moved[pid]) if pid in moved else batch["metadatas"][i]
                for pid, i in zip(ids, rows, strict=True)
            ]
            self._collection.add(
                ids=ids,
                embeddings=np.asarray(batch["embeddings"], dtype=np.float32)[rows],
                documents=[batch["documents"][i] for i in rows],
                metadatas=metadatas,
            )
            if on_batch is not None:
                on_batch(len(rows))

    # -- the version's multilingual (e5) vectors -------------------------------------------
    def save_multilingual(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Keep the e5 vector of each passage (``ids``, rows of ``vectors``) beside this
        version, replacing what a stopped ingest left; marked complete once all are in."""
        version = self.version
        if version is None:  # an index from before versions: its snapshot keeps them
            return
        client = open_client(self.location)
        name = self.location.multilingual_name(version)
        if get_collection(client, name) is not None:
            client.delete_collection(name)
        metadata = {SPACE_KEY: MULTILINGUAL_SPACE, VERSION_KEY: version}
        companion = client.create_collection(
            name,
            embedding_function=None,
            metadata=metadata,
            configuration={"hnsw": {"space": "cosine"}},
        )
        for lo, hi in self._batches(len(ids)):
            companion.add(
                ids=list(ids[lo:hi]), embeddings=np.asarray(vectors[lo:hi], dtype=np.float32)
            )
        companion.modify(metadata={**metadata, COMPLETE_KEY: True})

    def _multilingual_companion(self) -> Any | None:
        """The collection of this version's e5 vectors, when it holds all of them."""
        version = self.version
        if version is None:
            return None
        client = open_client(self.location)
        companion = get_collection(client, self.location.multilingual_name(version))
        if companion is None or not (companion.metadata or {}).get(COMPLETE_KEY):
            return None
        return companion

    def has_multilingual(self) -> bool:
        """Whether this version has every passage's e5 vector (one metadata read)."""
        return self._multilingual_companion() is not None

    def multilingual_vectors(self) -> dict[str, np.ndarray]:
        """Passage id → e5 vector, when this version has all of them (else empty)."""
        companion = self._multilingual_companion()
        if companion is None:
            return {}
        found: dict[str, np.ndarray] = {}
        for batch in _pages(companion, ["embeddings"]):
            vectors = np.asarray(batch["embeddings"], dtype=np.float32)
            found.update(zip(batch["ids"], vectors, strict=True))
        return found

    def _batches(self, n: int, size: int = 2000) -> Iterator[tuple[int, int]]:
        for lo in range(0, n, size):
            yield lo, min(lo + size, n)


def _pages(collection: Any, include: list[str], page: int = 5000) -> Iterator[dict[str, Any]]:
    offset = 0
    while True:
        batch = collection.get(include=include, limit=page, offset=offset)
        if not batch["ids"]:
            return
        yield batch
        offset += len(batch["ids"])


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
