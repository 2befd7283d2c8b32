"""Answers as chat HTML: escaped text, numbered sources, the cited sentence in its paragraph.

Everything that came from a user or a document is HTML-escaped here, in one place, and put
inside an HTML block so the chat's markdown renderer leaves it alone: questions with
``<script>``, markdown or ``$…$`` show literally.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from web.documents import Library

#: Longer rejected questions are shown cut to this many characters.
SHOWN_REJECTED_CHARS = 300


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


def source_label(citation: Mapping[str, Any], library: Library) -> str:
    """``Korea China Summit, paragraph 4``: the document's title and where in it (the
    character offsets stay in the API's answer object)."""
    title = library.title(str(citation["source"]))
    cited = library.cited(str(citation["source"]), int(citation["start"]), int(citation["end"]))
    return f"{title}, paragraph {cited.paragraph + 1}" if cited else title


def paragraph_html(citation: Mapping[str, Any], library: Library) -> str:
    """The paragraph with the cited sentence in ``<mark>``; the sentence alone if unknown."""
    sentences = library.paragraph(citation["source"], citation["start"], citation["end"])
    if not sentences:
        return f"<mark>{html.escape(citation['text'])}</mark>"
    return " ".join(
        f"<mark>{html.escape(text)}</mark>" if cited else html.escape(text)
        for text, cited in sentences
    )


def plain_text(answer: Mapping[str, Any], library: Library) -> str:
    """The answer as a person would paste it: its text, then the sources it cites."""
    lines = [str(answer["answer"])]
    if answer.get("reason"):
        lines.append(f"({answer['reason']})")
    citations: Sequence[Mapping[str, Any]] = answer.get("citations") or []
    if citations:
        lines += ["", "Sources:"]
        lines += [
            f"[{int(c['n'])}] {source_label(c, library)} ({c['source']}): “{c['text']}”"
            for c in citations
        ]
    return "\n".join(lines)


def written_by(answer: Mapping[str, Any]) -> str:
    """Says that a language model wrote the answer (not a quote), and what its check did."""
    dropped = int(answer.get("sentences_dropped") or 0)
    checked = "each sentence checked against its source"
    if dropped:
        checked += f"; {dropped} unsupported sentence{'s' if dropped > 1 else ''} left out"
    return f"Written by the language model from the sources ({checked})."


def answer_message(answer: Mapping[str, Any], library: Library, *, final: bool = True) -> str:
    """The answer with its sources, or the refusal with its reason muted under it; while it
    streams (``final`` false) its text lacks the ``final`` class pages and tests wait for, and
    the Copy button (which copies :func:`plain_text`) comes with the final text."""
    state = "a-text final" if final else "a-text"
    parts = [f'<div class="{state}">{text_html(answer["answer"])}</div>']
    if answer.get("reason"):
        parts.append(f'<div class="reason">{html.escape(answer["reason"])}</div>')
    if answer.get("answerer") == "llm":
        parts.append(f'<div class="written">{html.escape(written_by(answer))}</div>')
    if answer["search_query"] != answer["question"]:
        parts.append(
            f'<div class="searched">Searched for: {html.escape(answer["search_query"])}</div>'
        )
    citations: Sequence[Mapping[str, Any]] = answer.get("citations") or []
    if citations:
        items = "".join(
            f'<details class="source"><summary title="{html.escape(str(c["source"]))}">'
            f"[{int(c['n'])}] {html.escape(source_label(c, library))}</summary>"
            f'<p class="paragraph">{paragraph_html(c, library)}</p></details>'
            for c in citations
        )
        parts.append(f'<div class="sources"><div class="sources-title">Sources</div>{items}</div>')
    if final:  # the chat's sanitiser drops data attributes: the text travels in a hidden div
        copied = html.escape(plain_text(answer, library)).replace("\n", "&#10;")
        parts.append(
            f'<div class="copy-text">{copied}</div>'
            '<button type="button" class="copy-answer" title="Copy the answer and its sources">'
            "Copy</button>"
        )
    return "".join(parts)


def error_message(message: str) -> str:
    return f'<div class="a-error">⚠ {html.escape(message)}</div>'
