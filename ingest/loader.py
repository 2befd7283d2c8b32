"""Find and read the documents to ingest: plain text and Markdown as they are, HTML as the
text a reader sees; anything else is skipped and named once.

The text passages index into is the *cleaned* text: line ends normalised to ``\\n``, and
control characters removed (NUL, the other C0 controls except tab and newline, DEL and the C1
controls), so none reaches an answer. For HTML it is the extracted text
(:mod:`ingest.html_text`). :func:`document_text` gives that text for any file.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.html_text import html_text

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm")
SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class IngestError(RuntimeError):
    """Ingest can't go on (missing path, unreadable file); the index has not been touched."""


@dataclass(frozen=True)
class Document:
    """A readable document: ``source`` is its stable name in the index, ``text`` its cleaned
    content (what passage offsets index into)."""

    source: str
    path: Path
    text: str


@dataclass(frozen=True)
class Skipped:
    """A file that was passed over, and why; its passages already in the index are kept."""

    source: str
    reason: str


def clean_control(text: str) -> str:
    """Line ends as ``\\n``; NUL, C0 (but tab and newline), DEL and C1 controls removed."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def document_text(path: Path) -> str:
    """The text that passage offsets index into: UTF-8 (a BOM dropped), HTML reduced to its
    text, control characters removed. UnicodeDecodeError when the file isn't UTF-8."""
    raw = path.read_bytes().decode("utf-8-sig")
    if path.suffix.lower() in HTML_SUFFIXES:
        raw = html_text(raw)
    return clean_control(raw)


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


def supported(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES


def discover(roots: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """Every file under the roots (files given directly too), split into those read
    (:data:`SUFFIXES`) and those of other types."""
    found: list[Path] = []
    for root in roots:
        if root.is_file():
            found.append(root)
        elif root.is_dir():
            found.extend(
                p
                for p in sorted(root.rglob("*"))
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(root).parts)
            )
        else:
            raise IngestError(f"No such file or directory: {root}")
    files = sorted(set(found))
    return [p for p in files if supported(p)], [p for p in files if not supported(p)]


def unsupported_summary(paths: Iterable[Path]) -> str | None:
    """One line naming the file types passed over and why (None when there are none)."""
    kinds = Counter(p.suffix.lower() or "(no extension)" for p in paths)
    if not kinds:
        return None
    listed = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    return (
        f"skipped {sum(kinds.values())} file(s) of types that are not read: {listed} "
        f"(only {', '.join(SUFFIXES)} are ingested; convert others to text first)"
    )


def load_documents(
    files: Iterable[Path],
    data_dir: Path,
    roots: Sequence[Path] = (),
    on_file: Callable[[], None] = lambda: None,
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
            text = document_text(path)
        except UnicodeDecodeError as exc:
            line = exc.object[: exc.start].count(b"\n") + 1
            bad = exc.object[exc.start : exc.start + 1].hex()
            skipped.append(Skipped(source, f"not valid UTF-8 (line {line}: byte 0x{bad})"))
            continue
        except OSError as exc:
            raise IngestError(f"Can't read {path}: {exc.strerror or exc}") from exc
        finally:
            on_file()
        if not text.strip():
            skipped.append(Skipped(source, "empty"))
            continue
        documents.append(Document(source, path, text))
    return documents, skipped
