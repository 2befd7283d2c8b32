"""The readable text of an HTML page, with the standard library's parser.

Citations index into this extracted text (not into the HTML source), and the index stores
passages of it, so offsets stay exact: ``text[start:end]`` of what :func:`html_text` returns.
Each block element (paragraph, heading, list item, table row, ``<br>``…) becomes its own
line, so each is its own paragraph; runs of white space inside a line become one space;
``<head>``, ``<script>``, ``<style>``, ``<template>`` and ``<noscript>`` are dropped;
character references (``&amp;``, ``&#8217;``) are decoded.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: Elements whose start or end begins a new line.
BLOCKS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer form h1 h2 h3 "
    "h4 h5 h6 header hr li main nav ol p pre section summary table td th tr ul".split()
)
#: Elements whose content is not text a reader sees.
HIDDEN = frozenset("head script style template noscript svg".split())
_SPACE = re.compile(r"\s+")


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._line: list[str] = []
        self._hidden = 0

    def _break(self) -> None:
        text = _SPACE.sub(" ", "".join(self._line)).strip()
        if text:
            self.lines.append(text)
        self._line = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in HIDDEN:
            self._hidden += 1
        elif tag in BLOCKS:
            self._break()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCKS:
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in BLOCKS:
            self._break()

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._line.append(data)


def html_text(markup: str) -> str:
    """The page's text, one line per block, ending with a newline (empty when it has none)."""
    parser = _Extractor()
    parser.feed(markup)
    parser.close()
    parser._break()
    return "".join(f"{line}\n" for line in parser.lines)
