"""What retrieval holds in memory (passages, vectors, BM25, HNSW), saved beside the index.

Reading 243k passages and their vectors back from Chroma, stemming them for BM25 and building
the HNSW graph took 109 s in the scale benchmark; loading its snapshot took 2.1 s.
Files are read whole, not memory-mapped: a mapped file changed underneath a server would crash
it (SIGBUS), and at 243k passages mapping saved only ~350 MB. A snapshot is named after the
index and its version (every ingest that changes the index writes a new version:
:mod:`vectorstore.chroma_store`), so it never outlives the version it was taken of and Chroma
stays the single source of truth. Ingest saves the new version's snapshot before it publishes
that version, and removes the old one's after. Snapshots are a
cache: one that can't be read is rebuilt from Chroma, one that can't be written only costs
start-up time.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vectorstore.chroma_store import PassageStore
from vectorstore.exact import DenseIndex, ExactVectors
from vectorstore.hnsw import HnswIndex
from vectorstore.lexical import BM25Index
from vectorstore.multilingual import DIMENSION as MULTILINGUAL_DIMENSION
from vectorstore.records import Passage

FORMAT = 3  # 3: acronyms that spell a stopword ("US") are indexed
#: The multilingual (e5) vectors in a snapshot, row i for passage i (optional).
MULTILINGUAL_FILE = "e5.npy"
#: Each passage's id, source and text, as columns in the snapshot's row order.
PASSAGES_FILE = "passages.json"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SnapshotOptions:
    """Where snapshots are kept and how large collections are searched."""

    root: Path
    #: Above this many passages an HNSW graph proposes candidates (float16 vectors score them).
    exact_search_max: int = 20_000
    #: HNSW search breadth.
    ef_search: int = 128


@dataclass
class IndexSnapshot:
    """Every passage in source and reading order, its vector (row i), BM25 and, above
    ``exact_search_max`` passages, an HNSW index over the same rows."""

    passages: list[Passage]
    vectors: ExactVectors
    lexical: BM25Index
    hnsw: HnswIndex | None
    #: The index version this was taken of (None for indexes from before versions).
    version: str | None
    #: Multilingual (e5) vectors aligned with ``passages``, when ingest stored them
    #: (:func:`save_multilingual`); None when the multilingual index is off or not built.
    multilingual: np.ndarray | None = None

    @property
    def dense(self) -> DenseIndex:
        """What proposes the nearest rows: the HNSW index when there is one, else the scan."""
        return self.hnsw if self.hnsw is not None else self.vectors


def load_index(store: PassageStore, options: SnapshotOptions) -> IndexSnapshot:
    """The snapshot of the store's version, taken (and saved) first when missing."""
    path = _path(store, options)
    if path is None:  # an index from before versions that never had one: read it as is
        return _read_from_store(store, options)
    if path.is_dir():
        try:
            snapshot = _read(path, options.ef_search)
        except (OSError, RuntimeError, ValueError, KeyError) as exc:
            log.warning("snapshot %s is unreadable (%s); rebuilding it from the index", path, exc)
            shutil.rmtree(path, ignore_errors=True)
        else:
            if snapshot.multilingual is None:  # taken before ingest stored them in Chroma
                snapshot.multilingual = _from_store(store, snapshot.passages)
                if snapshot.multilingual is not None:
                    _save_multilingual_file(path, snapshot.multilingual)
            return snapshot
    return _take(store, options, path)


def save_snapshot(
    store: PassageStore,
    options: SnapshotOptions,
    on_page: Callable[[int], None] | None = None,
) -> None:
    """Take and save the snapshot unless it exists: ingest calls this before it publishes a
    version, so that servers switching to it and the next start-up are fast. ``on_page`` is
    told how many passages each page read from Chroma brought (progress)."""
    path = _path(store, options)
    if path is not None and not path.is_dir():
        _take(store, options, path, on_page, remove_stale=False)


def remove_stale_snapshots(store: PassageStore, options: SnapshotOptions) -> None:
    """Delete the snapshots of the index's other versions (once ``store`` is published)."""
    if store.version is not None and options.root.is_dir():
        _remove_stale(options.root, store.index_name, store.version)


def _path(store: PassageStore, options: SnapshotOptions) -> Path | None:
    version = store.version
    if version is None:
        return None
    kind = "hnsw" if store.count() > options.exact_search_max else "exact"
    return options.root / f"{store.index_name}-{version}-{kind}"


def _take(
    store: PassageStore,
    options: SnapshotOptions,
    path: Path,
    on_page: Callable[[int], None] | None = None,
    *,
    remove_stale: bool = True,
) -> IndexSnapshot:
    snapshot = _read_from_store(store, options, on_page)
    version = str(snapshot.version)  # ``path`` is named after it
    try:
        _write(snapshot, path, version)
        # Only while this version is served: a process still loading the one before must not
        # delete the snapshot an ingest just saved for the next.
        if remove_stale and PassageStore.current_version(store.location) == version:
            _remove_stale(path.parent, store.index_name, version)
    except OSError as exc:
        log.warning("can't save the index snapshot in %s (%s): start-up stays slow", path, exc)
    return snapshot


def _read_from_store(
    store: PassageStore,
    options: SnapshotOptions,
    on_page: Callable[[int], None] | None = None,
) -> IndexSnapshot:
    """Read every passage and vector from Chroma, build BM25 and (when large) HNSW."""
    passages, matrix = store.passages_with_vectors(on_page=on_page)
    large = len(passages) > options.exact_search_max
    vectors = np.ascontiguousarray(matrix, dtype=np.float16 if large else np.float32)
    return IndexSnapshot(
        passages,
        ExactVectors(vectors),
        BM25Index.build([p.text for p in passages]),
        HnswIndex.build(matrix, options.ef_search) if large else None,
        store.version,
        _from_store(store, passages),
    )


def _from_store(store: PassageStore, passages: list[Passage]) -> np.ndarray | None:
    """The version's e5 vectors from Chroma, aligned with ``passages``; None when it has
    none (the multilingual index is off, or ingest hasn't added them yet)."""
    stored = store.multilingual_vectors()
    if not passages or any(p.id not in stored for p in passages):
        return None
    return np.stack([stored[p.id] for p in passages])


def _write(snapshot: IndexSnapshot, path: Path, version: str) -> None:
    """Write into a temporary directory, then rename: readers see all of it or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    try:
        passages = snapshot.passages
        columns = {
            "ids": [p.id for p in passages],
            "sources": [p.source for p in passages],
            "texts": [p.text for p in passages],
        }
        (tmp / PASSAGES_FILE).write_text(json.dumps(columns), encoding="utf-8")
        positions = np.array([(p.start, p.end, p.paragraph) for p in passages], dtype=np.int64)
        terms = sorted(snapshot.lexical.postings)
        postings = [snapshot.lexical.postings[t] for t in terms]
        lengths = [len(rows) for rows, _ in postings]
        np.savez(
            tmp / "arrays.npz",
            positions=positions.reshape(len(passages), 3),
            offsets=np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]),
            rows=np.concatenate([r for r, _ in postings] or [np.zeros(0, np.int32)]),
            weights=np.concatenate([w for _, w in postings] or [np.zeros(0, np.float32)]),
        )
        (tmp / "terms.json").write_text(json.dumps(terms), encoding="utf-8")
        np.save(tmp / "vectors.npy", snapshot.vectors.matrix)
        if snapshot.hnsw is not None:
            snapshot.hnsw.save(tmp / "hnsw.faiss")
        if snapshot.multilingual is not None:
            np.save(tmp / MULTILINGUAL_FILE, snapshot.multilingual)
        meta = {"format": FORMAT, "version": version, "passages": len(passages)}
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        os.rename(tmp, path)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not path.is_dir():  # another process may have saved the same snapshot first
            raise


def _remove_stale(root: Path, index_name: str, version: str) -> None:
    """Delete this index's snapshots of other versions (processes that loaded one hold it in
    memory and don't read its files again)."""
    pattern = re.compile(rf"{re.escape(index_name)}-([0-9a-f]{{32}})-\w+")
    for old in root.iterdir():
        match = pattern.fullmatch(old.name)
        if match and match.group(1) != version:
            shutil.rmtree(old, ignore_errors=True)


def _read(path: Path, ef_search: int) -> IndexSnapshot:
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT:
        raise ValueError(f"format {meta.get('format')}, expected {FORMAT}")
    columns = _columns(path)
    with np.load(path / "arrays.npz") as arrays:
        positions = arrays["positions"].tolist()
        offsets, rows, weights = arrays["offsets"], arrays["rows"], arrays["weights"]
    passages = [
        Passage(id=pid, source=source, start=start, end=end, text=text, paragraph=paragraph)
        for pid, source, text, (start, end, paragraph) in zip(
            columns["ids"], columns["sources"], columns["texts"], positions, strict=True
        )
    ]
    terms = json.loads((path / "terms.json").read_text(encoding="utf-8"))
    postings = {
        term: (rows[offsets[i] : offsets[i + 1]], weights[offsets[i] : offsets[i + 1]])
        for i, term in enumerate(terms)
    }
    vectors = np.load(path / "vectors.npy")
    if len(passages) != meta["passages"] or len(vectors) != len(passages):
        raise ValueError("passage and vector counts disagree")
    hnsw = HnswIndex.load(path / "hnsw.faiss", ef_search) if path.name.endswith("-hnsw") else None
    lexical = BM25Index(postings, len(passages))
    multilingual = _read_multilingual(path, len(passages))
    return IndexSnapshot(
        passages, ExactVectors(vectors), lexical, hnsw, meta["version"], multilingual
    )


def _read_multilingual(path: Path, n: int) -> np.ndarray | None:
    """The snapshot's e5 vectors, or None when it has none (or they don't fit its passages)."""
    file = path / MULTILINGUAL_FILE
    if not file.is_file():
        return None
    vectors = np.load(file)
    if len(vectors) != n:
        log.warning("multilingual vectors in %s don't match its passages; ignored", path)
        return None
    return vectors


def save_multilingual(
    store: PassageStore,
    options: SnapshotOptions,
    embed: Callable[[list[str]], np.ndarray],
    previous: PassageStore | None = None,
) -> int:
    """Store the multilingual (e5) vector of every passage in Chroma, beside the version
    (:meth:`PassageStore.save_multilingual`), and in its saved snapshot, where either lacks
    them; returns how many passages were embedded.

    In Chroma, every replica's snapshot (taken from it) has them; in the snapshot, start-up
    doesn't read them from Chroma. Vectors the version already has in either place, or that
    the ``previous`` version has for the same passage (same id, so same text), are copied,
    not re-embedded: e5 costs ~40 ms a passage, 25 times MiniLM.
    """
    path = _path(store, options)
    file = path / MULTILINGUAL_FILE if path is not None and path.is_dir() else None
    in_store, in_file = store.has_multilingual(), file is not None and file.is_file()
    if in_store and in_file:
        return 0
    # A saved snapshot's copy first: Chroma renormalises (differs in the 8th decimal), and a
    # copied vector should be the very one; Chroma is read only where no snapshot has them.
    known = _snapshot_multilingual(store, options) or (
        store.multilingual_vectors() if in_store else {}
    )
    if previous is not None:
        earlier = _snapshot_multilingual(previous, options) or previous.multilingual_vectors()
        known = earlier | known
    ids, texts = _ids_and_texts(store, file.parent if file is not None else None)
    missing = [i for i, pid in enumerate(ids) if pid not in known]
    if missing:
        fresh = embed([texts[i] for i in missing])
        known.update(zip([ids[i] for i in missing], fresh, strict=True))
    vectors = (
        np.stack([known[pid] for pid in ids])
        if ids
        else np.zeros((0, MULTILINGUAL_DIMENSION), np.float32)
    )
    if not in_store:
        store.save_multilingual(ids, vectors)
    if file is not None and not in_file:
        _save_multilingual_file(file.parent, vectors)
    return len(missing)


def _columns(path: Path) -> dict[str, list[str]]:
    """A saved snapshot's passage columns (``ids``, ``sources``, ``texts``)."""
    return json.loads((path / PASSAGES_FILE).read_text(encoding="utf-8"))


def _ids_and_texts(store: PassageStore, snapshot: Path | None) -> tuple[list[str], list[str]]:
    """Each passage's id and text, in the saved snapshot's row order when there is one (one
    file read, not every text from Chroma again), else in the store's."""
    if snapshot is not None:
        columns = _columns(snapshot)
        return columns["ids"], columns["texts"]
    passages = store.passages()
    return [p.id for p in passages], [p.text for p in passages]


def _save_multilingual_file(path: Path, vectors: np.ndarray) -> None:
    """Add the e5 vectors to a saved snapshot; a snapshot that can't take them only costs
    reading them from Chroma at the next start-up."""
    tmp = path / f".tmp-{uuid.uuid4().hex}.npy"
    try:
        np.save(tmp, vectors)
        os.replace(tmp, path / MULTILINGUAL_FILE)  # readers see all of it or nothing
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        log.warning("can't save the e5 vectors in %s (%s)", path, exc)


def _snapshot_multilingual(store: PassageStore, options: SnapshotOptions) -> dict[str, np.ndarray]:
    """Passage id → e5 vector from a version's saved snapshot (empty when it has none)."""
    path = _path(store, options)
    if path is None or not (path / MULTILINGUAL_FILE).is_file():
        return {}
    try:
        ids = _columns(path)["ids"]
        vectors = np.load(path / MULTILINGUAL_FILE)
    except (OSError, ValueError, KeyError):
        return {}
    return dict(zip(ids, vectors, strict=False)) if len(ids) == len(vectors) else {}
