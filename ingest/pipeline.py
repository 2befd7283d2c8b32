"""Ingest: read → split → diff against the index → embed what is new → write → snapshot.

Idempotent: everything that can fail (reading, splitting, embedding) happens before the
first write, and an incremental ingest adds before it deletes, so a failure part-way leaves
the previous passages in the index. (A rebuild drops the collection before writing the new
one: a crash then leaves an index without a version until ingest runs again.) Ids derive from
content, so an unchanged sentence is never re-embedded, even when an edit above it shifts its
offsets (only its offsets move). The index has no version while it is written and a new one
after, so the snapshot saved at the end (:mod:`vectorstore.snapshot`) and servers reloading it
(:class:`assistant.Assistant`) never take a half-written index for a finished one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assistant import Settings
from ingest.loader import Skipped, discover, load_documents, source_paths
from ingest.splitter import split_document
from vectorstore import Embedder, Passage, PassageStore, StoredPassage, save_snapshot


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

    def summary(self) -> str:
        return (
            f"{self.files} file(s): {self.added} passage(s) added, {self.moved} updated "
            f"(moved), {self.removed} removed, {self.unchanged} unchanged"
        )


@dataclass
class _Plan:
    add: list[Passage] = field(default_factory=list)
    move: list[Passage] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)


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
            elif (old.start, old.end, old.paragraph) != (p.start, p.end, p.paragraph):
                plan.move.append(p)
            else:
                report.unchanged += 1
    fresh_ids = {p.id for ps in fresh.values() for p in ps}
    for s in stored:
        if s.id in fresh_ids or s.source in kept_sources:
            continue
        if s.source in fresh or in_scope(s.source):
            plan.delete.append(s.id)
            if s.source not in fresh and s.source not in report.sources_removed:
                report.sources_removed.append(s.source)
    return plan


def ingest(
    settings: Settings,
    embedder: Embedder,
    paths: Sequence[Path] | None = None,
    *,
    rebuild: bool = False,
    log: Callable[[str], None] = lambda _msg: None,
) -> IngestReport:
    """Bring the index in line with the documents under ``paths`` (default: the data dir).

    Stored sources under the given paths that no longer exist are removed; sources elsewhere
    are left alone. ``rebuild`` re-embeds everything into a fresh collection.
    """
    location = settings.store_location
    roots = [Path(p).resolve() for p in (paths or [settings.data_dir])]
    files = discover(roots)
    documents, skipped = load_documents(files, settings.data_dir, roots)
    report = IngestReport(files=len(documents), skipped=skipped)
    for skip in skipped:
        log(f"warning: skipped {skip.source}: {skip.reason}")

    fresh = {doc.source: split_document(doc.source, doc.text) for doc in documents}
    built_with = PassageStore.stored_space(location)
    if built_with is not None and built_with != embedder.space and not rebuild:
        log(f"the index was built with {built_with}; re-embedding everything with {embedder.space}")
        rebuild = True
    if rebuild:
        stored: list[StoredPassage] = []
    else:
        stored = PassageStore.open(location, embedder.space, create=True).stored()

    def in_scope(source: str) -> bool:
        return any(_under(p, roots) for p in source_paths(source, settings.data_dir, roots))

    plan = _plan(fresh, stored, in_scope, {s.source for s in skipped}, report)
    log(f"embedding {len(plan.add)} new passage(s)")
    vectors = embedder.embed_documents([p.text for p in plan.add])

    # Nothing has been written yet; from here on an incremental ingest adds, then deletes.
    if rebuild:
        PassageStore.drop(location)
    store = PassageStore.open(location, embedder.space, create=True)
    changes = bool(plan.add or plan.move or plan.delete)
    if changes:
        store.mark_changed(writing=True)
    store.add(plan.add, vectors)
    del vectors  # 373 MB at 243k passages: not needed while the snapshot is taken
    store.move(plan.move)
    store.delete(plan.delete)
    if changes or store.version is None:
        store.mark_changed()
    # Reading the index back into memory (and building HNSW when large) takes minutes at
    # 200k+ passages: do it now, once, rather than at the next start-up.
    log("saving the index snapshot")
    save_snapshot(store, settings.snapshot_options)
    report.added, report.moved, report.removed = len(plan.add), len(plan.move), len(plan.delete)
    for source in report.sources_removed:
        log(f"removed {source}")
    return report
