"""Split a document into sentence passages that keep exact character offsets.

A paragraph is one non-blank line (blank lines separate nothing more); a sentence never crosses
a paragraph. One rule for every file, so an edit or an append changes the paragraphs it touches
and no others (a rule chosen per file, "blank-line blocks when the file has a blank line",
re-split a whole article when one blank line was appended). Every passage satisfies
``text == source_text[start:end]`` (no normalisation, no re-joining).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

from vectorstore import Passage

_PARAGRAPH = re.compile(r"[^\n]*\S[^\n]*")
# A sentence ends at . ! ? or … (plus closing quotes/brackets) followed by white space.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs etc inc ltd co corp gov gen col lt sgt rep sen jan feb mar apr "
    "jun jul aug sep sept oct nov dec no fig e.g i.e a.m p.m u.s u.k u.n approx dept est".split()
)


def _is_abbreviation(text: str, end: int) -> bool:
    """True when the period ending at ``end`` belongs to an abbreviation or an initial."""
    word = re.search(r"([\w.]+)\.$", text[:end])
    if not word:
        return False
    token = word.group(1).lower()
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())


def _next_starts_sentence(text: str, pos: int) -> bool:
    """The next non-space character must look like a sentence start (capital, digit, quote)."""
    rest = text[pos:].lstrip()
    return not rest or rest[0].isupper() or rest[0].isdigit() or rest[0] in "\"'“‘([#*-"


def sentence_spans(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of each sentence of ``text[start:end]``, trimmed of white space."""
    cursor = start
    for match in _SENTENCE_END.finditer(text, start, end):
        stop = match.end()
        if text[match.start()] == "." and stop - match.start() == 1:
            if _is_abbreviation(text, stop) or not _next_starts_sentence(text[:end], stop):
                continue
        yield from _trimmed(text, cursor, stop)
        cursor = stop
    yield from _trimmed(text, cursor, end)


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield start, end


def passage_id(source: str, text: str, occurrence: int) -> str:
    """Stable id from the content: unchanged sentences keep their id when others move."""
    digest = hashlib.sha256(f"{source}\x00{occurrence}\x00{text}".encode()).hexdigest()
    return digest[:32]


def split_document(source: str, text: str) -> list[Passage]:
    """All sentence passages of one document, in reading order."""
    passages: list[Passage] = []
    seen: dict[str, int] = {}
    for paragraph, match in enumerate(_PARAGRAPH.finditer(text)):
        for start, end in sentence_spans(text, match.start(), match.end()):
            sentence = text[start:end]
            occurrence = seen.get(sentence, 0)
            seen[sentence] = occurrence + 1
            passages.append(
                Passage(
                    id=passage_id(source, sentence, occurrence),
                    source=source,
                    start=start,
                    end=end,
                    text=sentence,
                    paragraph=paragraph,
                )
            )
    return passages
