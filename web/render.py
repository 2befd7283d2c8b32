"""Answers as chat HTML: escaped text, numbered sources, the cited sentence in its paragraph.

Everything that came from a user or a document is HTML-escaped here, in one place, and put
inside an HTML block so the chat's markdown renderer leaves it alone: questions with
``<script>``, markdown or ``$…$`` show literally.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from assistant import Passage

#: Longer rejected questions are shown cut to this many characters.
SHOWN_REJECTED_CHARS = 300


class SourceViewer:
    """Rebuilds a cited sentence's paragraph from the indexed passages (no file is re-read).

    ``passages`` is asked each time, so a server that reloads its index shows the new one.
    """

    def __init__(self, passages: Callable[[], Sequence[Passage]]) -> None:
        self._passages = passages
        self._indexed: tuple[Sequence[Passage] | None, dict[str, list[Passage]]] = (None, {})

    def _by_source(self) -> dict[str, list[Passage]]:
        passages = self._passages()
        indexed_from, by_source = self._indexed
        if passages is not indexed_from:
            by_source = defaultdict(list)
            for passage in passages:
                by_source[passage.source].append(passage)
            for sentences in by_source.values():
                sentences.sort(key=lambda p: p.start)
            self._indexed = (passages, by_source)  # one assignment: safe across threads
        return by_source

    def paragraph(self, source: str, start: int, end: int) -> list[tuple[str, bool]]:
        """The sentences of the paragraph holding ``source[start:end]``, each with "is cited"."""
        sentences = self._by_source().get(source, [])
        cited = next((p for p in sentences if p.start <= start and end <= p.end), None)
        if cited is None:
            return []
        return [
            (p.text, p.start <= start and end <= p.end)
            for p in sentences
            if p.paragraph == cited.paragraph
        ]

    def paragraph_html(self, citation: Mapping[str, Any]) -> str:
        """The paragraph with the cited sentence in ``<mark>``; the sentence alone if unknown."""
        sentences = self.paragraph(citation["source"], citation["start"], citation["end"])
        if not sentences:
            return f"<mark>{html.escape(citation['text'])}</mark>"
        return " ".join(
            f"<mark>{html.escape(text)}</mark>" if cited else html.escape(text)
            for text, cited in sentences
        )


def text_html(text: str) -> str:
    """Literal text as one HTML line (escaped; line breaks kept as ``<br>``)."""
    return "<br>".join(html.escape(line) for line in text.splitlines() or [""])


def user_message(question: str) -> str:
    return f'<div class="q-text">{text_html(question)}</div>'


def rejected_question(question: str) -> str:
    """A refused question, shown literally but cut, so a huge paste doesn't flood the page."""
    if len(question) <= SHOWN_REJECTED_CHARS:
        return user_message(question)
    shown = question[:SHOWN_REJECTED_CHARS]
    return user_message(f"{shown}… ({len(question):,} characters)")


def answer_message(answer: Mapping[str, Any], viewer: SourceViewer, *, final: bool = True) -> str:
    """The answer with its sources, or the refusal with its reason muted under it; while it
    streams (``final`` false) its text lacks the ``final`` class pages and tests wait for."""
    state = "a-text final" if final else "a-text"
    parts = [f'<div class="{state}">{text_html(answer["answer"])}</div>']
    if answer.get("reason"):
        parts.append(f'<div class="reason">{html.escape(answer["reason"])}</div>')
    if answer["search_query"] != answer["question"]:
        parts.append(
            f'<div class="searched">Searched for: {html.escape(answer["search_query"])}</div>'
        )
    citations: Sequence[Mapping[str, Any]] = answer.get("citations") or []
    if citations:
        items = "".join(
            f'<details class="source"><summary>[{int(c["n"])}] {html.escape(c["source"])} '
            f"(characters {int(c['start'])}–{int(c['end'])})</summary>"
            f'<p class="paragraph">{viewer.paragraph_html(c)}</p></details>'
            for c in citations
        )
        parts.append(f'<div class="sources"><div class="sources-title">Sources</div>{items}</div>')
    return "".join(parts)


def error_message(message: str) -> str:
    return f'<div class="a-error">⚠ {html.escape(message)}</div>'
