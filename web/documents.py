"""What the assistant knows, as people read it: documents with titles, passages by paragraph,
and the example questions offered under the chat.

Built from the indexed passages alone (no file is re-read), and rebuilt when the server
swaps in a re-ingested index.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from assistant import Passage, Settings
from vectorstore import clean_text

#: Offered when there is no examples file beside the documents.
DEFAULT_EXAMPLES = (
    "What are these documents about?",
    "What was agreed, and by whom?",
    "What happens next?",
)
#: Most example questions shown (the rest of a long file is ignored).
MAX_EXAMPLES = 6
#: A first paragraph this short, of one sentence without closing punctuation, is a headline.
MAX_HEADLINE_CHARS = 120


@dataclass(frozen=True)
class DocumentInfo:
    """One ingested document as the Documents panel and ``GET /api/documents`` list it."""

    source: str
    title: str
    passages: int
    paragraphs: int
    #: When the index holding this version of the document was written (ISO 8601, UTC).
    ingested_at: str | None

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "title": self.title,
            "passages": self.passages,
            "paragraphs": self.paragraphs,
            "ingested_at": self.ingested_at,
        }


def readable_name(source: str) -> str:
    """``news/korea_china_summit.txt`` → ``Korea China Summit``."""
    words = re.split(r"[\s_\-.]+", Path(source).stem)
    return " ".join(w[:1].upper() + w[1:] for w in words if w) or source


def heading(first_paragraph: Sequence[Passage]) -> str | None:
    """The document's own title: a markdown heading, or a one-sentence headline."""
    if not first_paragraph:
        return None
    text = " ".join(p.text for p in first_paragraph).strip()
    if text.startswith("#"):
        return text.lstrip("#").strip() or None
    if (
        len(first_paragraph) == 1
        and len(text) <= MAX_HEADLINE_CHARS
        and not text.endswith((".", "!", "?", ":", ";", ","))
    ):
        return text
    return None


class Library:
    """The indexed passages grouped by document, in reading order, with titles.

    ``passages`` is asked each time, so a server that reloads its index shows the new one;
    ``ingested_at`` tells when that index was written.
    """

    def __init__(
        self,
        passages: Callable[[], Sequence[Passage]],
        ingested_at: Callable[[], str | None] = lambda: None,
    ) -> None:
        self._passages = passages
        self._ingested_at = ingested_at
        self._built: tuple[Sequence[Passage] | None, dict[str, list[Passage]], dict[str, str]] = (
            None,
            {},
            {},
        )

    def _index(self) -> tuple[dict[str, list[Passage]], dict[str, str]]:
        passages = self._passages()
        built_from, by_source, titles = self._built
        if passages is not built_from:
            by_source = defaultdict(list)
            for passage in passages:
                by_source[passage.source].append(passage)
            titles = {}
            for source, sentences in by_source.items():
                sentences.sort(key=lambda p: p.start)
                first = [p for p in sentences if p.paragraph == sentences[0].paragraph]
                titles[source] = heading(first) or readable_name(source)
            self._built = (passages, dict(by_source), titles)  # one assignment: thread-safe
        return by_source, titles

    def title(self, source: str) -> str:
        return self._index()[1].get(source) or readable_name(source)

    def cited(self, source: str, start: int, end: int) -> Passage | None:
        """The passage holding ``source[start:end]``."""
        sentences = self._index()[0].get(source, [])
        return next((p for p in sentences if p.start <= start and end <= p.end), None)

    def paragraph(self, source: str, start: int, end: int) -> list[tuple[str, bool]]:
        """The sentences of the paragraph holding ``source[start:end]``, each with "is cited"."""
        cited = self.cited(source, start, end)
        if cited is None:
            return []
        return [
            (p.text, p.start <= start and end <= p.end)
            for p in self._index()[0][source]
            if p.paragraph == cited.paragraph
        ]

    def documents(self) -> list[DocumentInfo]:
        """Every document, by title."""
        by_source, titles = self._index()
        when = self._ingested_at()
        infos = [
            DocumentInfo(
                source=source,
                title=titles[source],
                passages=len(sentences),
                paragraphs=len({p.paragraph for p in sentences}),
                ingested_at=when,
            )
            for source, sentences in by_source.items()
        ]
        return sorted(infos, key=lambda d: (d.title.casefold(), d.source))


def index_written_at(settings: Settings, version: str | None) -> str | None:
    """When the index version was written: its snapshot is saved at the end of the ingest that
    made it (or, for an older index, when a server first loaded it)."""
    if not version:
        return None
    root = settings.snapshot_options.root
    times = [p.stat().st_mtime for p in root.glob(f"{settings.collection}-{version}-*")]
    if not times:
        return None
    return datetime.fromtimestamp(min(times), UTC).isoformat(timespec="seconds")


def load_examples(settings: Settings) -> list[str]:
    """Example questions from the file beside the documents (one a line, ``#`` comments),
    or a generic set when there is none."""
    try:
        lines = settings.examples_path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return list(DEFAULT_EXAMPLES)
    found = [clean_text(line) for line in lines if not line.lstrip().startswith("#")]
    found = [q for q in found if q and len(q) <= settings.max_question_chars]
    return found[:MAX_EXAMPLES] or list(DEFAULT_EXAMPLES)
