"""The records the store keeps: sentence passages with exact offsets into their source."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Passage:
    """One sentence of a source document, with exact offsets: ``text == source_text[start:end]``.

    Sentences are the unit of retrieval and citation, so a citation points at the one sentence
    that answers; ``paragraph`` (0-based) lets a viewer show it inside its paragraph.
    """

    id: str
    source: str
    start: int
    end: int
    text: str
    paragraph: int


@dataclass(frozen=True)
class StoredPassage:
    """What the store knows of a passage without its text or vector: enough to diff a re-ingest."""

    id: str
    source: str
    start: int
    end: int
    paragraph: int
