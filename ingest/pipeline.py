"""Ingest: lock → read → split → diff against the served version → embed what is new →
write a new version → snapshot it → publish it → delete the old one.

One writer at a time: the index's lock (:mod:`vectorstore.lock`) is held from before the
diff to after the clean-up, so two ingests never interleave; the second waits (``wait``) or
stops with :class:`vectorstore.IndexLocked`.

Nothing served is ever written to. A change (including ``rebuild`` and a change of embedding
backend) is written as a complete new version beside the served one: new passages with their
fresh vectors, unchanged ones copied with their stored vectors (no re-embedding), moved ones
copied with their new offsets. The new version's snapshot is saved, then the version is
published (one metadata update: :mod:`vectorstore.chroma_store`), and only then is the old
version deleted. A crash before publishing leaves the old version served (the next ingest
deletes what was left); a crash after leaves the new one served. Ids derive from content,
so an unchanged sentence is never re-embedded, even when an edit above it moves it. An ingest
that changes nothing writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant import Settings, load_multilingual_embedder
from ingest.loader import (
    Skipped,
    discover,
    load_documents,
    source_paths,
    unsupported_summary,
)
from ingest.pause import pause_at
from ingest.progress import Progress
from ingest.splitter import split_document
from vectorstore import (
    Embedder,
    IndexIncomplete,
    IndexLock,
    Passage,
    PassageStore,
    StoredPassage,
    StoreLocation,
    remove_stale_snapshots,
    save_multilingual,
    save_snapshot,
)

#: Texts embedded per call: large enough to batch well, small enough to show progress.
EMBED_CHUNK = 1024


@dataclass
class IngestReport:
    """What one ingest run changed."""

    files: int = 0
    added: int = 0
    moved: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    sources_removed: list[str] = field(default_factory=list)
    #: The version served after the run (None when there is no index).
    version: str | None = None

    def summary(self) -> str:
        return (
            f"{self.files} file(s): {self.added} passage(s) added, {self.moved} updated "
            f"(moved), {self.removed} removed, {self.unchanged} unchanged"
        )


@dataclass
class _Plan:
    add: list[Passage] = field(default_factory=list)
    move: dict[str, Passage] = field(default_factory=dict)
    keep: set[str] = field(default_factory=set)
    delete: list[str] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        return bool(self.add or self.move or self.delete)


def _under(path: Path, roots: Sequence[Path]) -> bool:
    path = path.resolve()
    return any(path == r or (r.is_dir() and path.is_relative_to(r)) for r in roots)


def _plan(
    fresh: dict[str, list[Passage]],
    stored: list[StoredPassage],
    in_scope: Callable[[str], bool],
    kept_sources: set[str],
    report: IngestReport,
) -> _Plan:
    plan = _Plan()
    by_id = {s.id: s for s in stored}
    for passages in fresh.values():
        for p in passages:
            old = by_id.get(p.id)
            if old is None:
                plan.add.append(p)
                continue
            plan.keep.add(p.id)
            if (old.start, old.end, old.paragraph) != (p.start, p.end, p.paragraph):
                plan.move[p.id] = p
            else:
                report.unchanged += 1
    fresh_ids = {p.id for ps in fresh.values() for p in ps}
    for s in stored:
        if s.id in fresh_ids:
            continue
        if s.source in kept_sources or not (s.source in fresh or in_scope(s.source)):
            plan.keep.add(s.id)  # skipped now, or outside the paths ingested: left as it is
            continue
        plan.delete.append(s.id)
        if s.source not in fresh and s.source not in report.sources_removed:
            report.sources_removed.append(s.source)
    return plan


def _embed(embedder: Embedder, passages: Sequence[Passage]) -> np.ndarray:
    """Vectors of the passages, in their order; embedded shortest first in chunks, so each
    batch pads little and progress is shown as it goes."""
    order = sorted(range(len(passages)), key=lambda i: len(passages[i].text))
    vectors = np.empty((len(passages), embedder.dimension), dtype=np.float32)
    with Progress("embedding", len(passages)) as progress:
        for lo in range(0, len(order), EMBED_CHUNK):
            chunk = order[lo : lo + EMBED_CHUNK]
            vectors[chunk] = embedder.embed_documents([passages[i].text for i in chunk])
            progress.update(len(chunk))
    return vectors


def ingest(
    settings: Settings,
    embedder: Embedder,
    paths: Sequence[Path] | None = None,
    *,
    rebuild: bool = False,
    wait: float = 0.0,
    log: Callable[[str], None] = lambda _msg: None,
) -> IngestReport:
    """Bring the index in line with the documents under ``paths`` (default: the data dir).

    Stored sources under the given paths that no longer exist are removed; sources elsewhere
    are left alone. ``rebuild`` re-embeds everything. ``wait``: seconds to wait for another
    ingest holding the index (then :class:`vectorstore.IndexLocked`).
    """
    location = settings.store_location
    roots = [Path(p).resolve() for p in (paths or [settings.data_dir])]
    files, unsupported = discover(roots)
    examples = settings.examples_path.resolve()
    unsupported = [f for f in unsupported if f.resolve() != examples]  # the chat's, not a document
    if (line := unsupported_summary(unsupported)) is not None:
        log(line)
    with IndexLock(location, wait=wait, log=log) as lock:
        pause_at("locked")
        with Progress("reading", len(files), unit="files") as progress:
            documents, skipped = load_documents(
                files, settings.data_dir, roots, lambda: progress.update(1)
            )
        report = IngestReport(files=len(documents), skipped=skipped)
        for skip in skipped:
            log(f"warning: skipped {skip.source}: {skip.reason}")
        fresh = {doc.source: split_document(doc.source, doc.text) for doc in documents}

        current = _served(location, log)
        if current is not None and current.space != embedder.space and not rebuild:
            log(
                f"the index was built with {current.space}; "
                f"re-embedding everything with {embedder.space}"
            )
            rebuild = True
        stored = [] if rebuild or current is None else current.stored()

        def in_scope(source: str) -> bool:
            return any(_under(p, roots) for p in source_paths(source, settings.data_dir, roots))

        plan = _plan(fresh, stored, in_scope, {s.source for s in skipped}, report)
        report.added, report.moved = len(plan.add), len(plan.move)
        report.removed = len(plan.delete)
        if current is not None and not rebuild and not plan.changes:
            save_snapshot(current, settings.snapshot_options)  # when missing (deleted)
            _add_multilingual(settings, current, None, log)  # when missing or newly turned on
            PassageStore.remove_unpublished(location)  # what a crashed ingest left
            report.version = current.version
            return report

        log(f"embedding {len(plan.add)} new passage(s)")
        vectors = _embed(embedder, plan.add)
        report.version = _write_and_publish(
            settings, current if stored else None, plan, vectors, lock, embedder.space, log
        )
    for source in report.sources_removed:
        log(f"removed {source}")
    return report


def _served(location: StoreLocation, log: Callable[[str], None]) -> PassageStore | None:
    """The version served now, or None (no index, or a half-written one from before versions,
    which is then rebuilt)."""
    try:
        return PassageStore.open_published(location)
    except IndexIncomplete:
        log("the index was left half-written by an ingest that stopped; building it again")
        return None


def _write_and_publish(
    settings: Settings,
    current: PassageStore | None,
    plan: _Plan,
    vectors: np.ndarray,
    lock: IndexLock,
    space: str,
    log: Callable[[str], None] = lambda _msg: None,
) -> str | None:
    """Write the new version beside the served one, snapshot it, publish it, delete the old."""
    location = settings.store_location
    PassageStore.remove_unpublished(location)  # what a crashed ingest left
    new = PassageStore.create_version(location, space)
    kept = len(plan.keep) if current is not None else 0
    first_write = True

    with Progress("writing", len(plan.add) + kept) as progress:

        def written(n: int) -> None:
            nonlocal first_write
            progress.update(n)
            if first_write:
                first_write = False
                pause_at("after-first-write")

        new.add(plan.add, vectors, on_batch=written)
        if current is not None:
            new.copy_from(current, plan.keep, plan.move, on_batch=written)
    with Progress("snapshot", new.count()) as progress:
        save_snapshot(new, settings.snapshot_options, on_page=progress.update)
    _add_multilingual(settings, new, current, log)
    pause_at("before-publish")
    lock.check()
    new.publish()
    pause_at("after-publish")
    PassageStore.remove_unpublished(location)
    remove_stale_snapshots(new, settings.snapshot_options)
    return new.version


def _add_multilingual(
    settings: Settings,
    store: PassageStore,
    previous: PassageStore | None,
    log: Callable[[str], None],
) -> None:
    """Store the multilingual (e5) vectors of the version, in Chroma and its snapshot, when the
    setting asks for them at this corpus size: only passages the previous version lacks are
    embedded."""
    passages = store.count()
    if not settings.multilingual_for(passages):
        if settings.multilingual == "auto":
            log(
                f"multilingual index not built: {passages} passages is more than "
                f"ASSISTANT_MULTILINGUAL_MAX_PASSAGES ({settings.multilingual_max_passages}); "
                "set ASSISTANT_MULTILINGUAL=true to build it anyway (~12 passages/s)"
            )
        return
    embedder = load_multilingual_embedder(settings.threads)

    def embed(texts: list[str]) -> np.ndarray:
        log(f"embedding {len(texts)} passage(s) with multilingual-e5")
        with Progress("multilingual", len(texts)) as progress:
            return embedder.embed_passages(texts, on_batch=progress.update)

    save_multilingual(store, settings.snapshot_options, embed, previous)
