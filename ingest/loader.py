"""Find and read the documents to ingest (.txt and .md, UTF-8)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = (".txt", ".md")


class IngestError(RuntimeError):
    """Ingest can't go on (missing path, unreadable file); the index has not been touched."""


@dataclass(frozen=True)
class Document:
    """A readable document: ``source`` is its stable name in the index, ``text`` its content."""

    source: str
    path: Path
    text: str


@dataclass(frozen=True)
class Skipped:
    """A file that was passed over, and why; its passages already in the index are kept."""

    source: str
    reason: str


def read_source(path: Path) -> str:
    """The text that passage offsets index into: UTF-8 (a BOM dropped), line ends as stored."""
    return path.read_bytes().decode("utf-8-sig")


def _base(root: Path) -> Path:
    """What names under an ingested root are relative to: the folder holding it, so a name
    keeps the root's own name (``/srv/feeds/a.txt``, ingested as ``/srv/feeds``, is
    ``feeds/a.txt``) and can't be taken for a file of the data dir."""
    return root.parent if root.is_dir() else root.parent.parent


def source_name(path: Path, data_dir: Path, roots: Sequence[Path] = ()) -> str:
    """Name relative to the data directory when inside it, else relative to the ingested root
    holding it: portable, and never a server path that citations would show."""
    path = path.resolve()
    try:
        return path.relative_to(data_dir.resolve()).as_posix()
    except ValueError:
        pass
    for root in sorted((r.resolve() for r in roots), key=lambda r: len(r.parts), reverse=True):
        if path == root or path.is_relative_to(root):
            return path.relative_to(_base(root)).as_posix()
    return path.name


def source_paths(source: str, data_dir: Path, roots: Sequence[Path] = ()) -> list[Path]:
    """Where a stored source may be on disk (inverse of :func:`source_name`): an absolute name
    (from indexes made before names were relative), under the data dir, or under a root."""
    path = Path(source)
    if path.is_absolute():
        return [path]
    return [data_dir / path, *(_base(r.resolve()) / path for r in roots)]


def discover(roots: Iterable[Path]) -> list[Path]:
    """Every .txt/.md file under the roots (files given directly are taken as they are)."""
    found: list[Path] = []
    for root in roots:
        if root.is_file():
            found.append(root)
        elif root.is_dir():
            found.extend(
                p for p in sorted(root.rglob("*")) if p.is_file() and p.suffix.lower() in SUFFIXES
            )
        else:
            raise IngestError(f"No such file or directory: {root}")
    return sorted(set(found))


def load_documents(
    files: Iterable[Path], data_dir: Path, roots: Sequence[Path] = ()
) -> tuple[list[Document], list[Skipped]]:
    """Read every file; empty or non-UTF-8 ones are skipped with a reason.

    A file that can't be read at all (permissions, I/O error) stops the whole ingest before
    anything is written: its absence must not look like a deletion.
    """
    documents: list[Document] = []
    skipped: list[Skipped] = []
    for path in files:
        source = source_name(path, data_dir, roots)
        try:
            text = read_source(path)
        except UnicodeDecodeError as exc:
            skipped.append(Skipped(source, f"not valid UTF-8 (byte {exc.start})"))
            continue
        except OSError as exc:
            raise IngestError(f"Can't read {path}: {exc.strerror or exc}") from exc
        if not text.strip():
            skipped.append(Skipped(source, "empty"))
            continue
        documents.append(Document(source, path, text))
    return documents, skipped
