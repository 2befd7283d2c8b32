"""Typos in questions, corrected against the documents' own words ("meetng" → "meeting").

A question word of four letters or more that is neither in the documents nor an English word
(not a function word, and unknown to WordNet) is replaced by the document word one edit away
(a letter deleted, added, changed or two swapped), the commonest when several are; a
contraction typed without its apostrophe gets it back ("whats" → "what's"). Words that are in
the documents or in English are never touched, so names and rare words stay as typed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import cached_property

from assistant.lexicon import Lexicon
from vectorstore.analysis import STOPWORDS

_WORD = re.compile(r"[^\W\d_]{4,}")


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class Speller:
    """Corrects question words against a vocabulary (built on first use)."""

    def __init__(self, texts: Iterable[str], lexicon: Lexicon) -> None:
        self._texts = texts
        self._lexicon = lexicon

    @cached_property
    def _counts(self) -> Counter[str]:
        return Counter(w.casefold() for text in self._texts for w in _WORD.findall(text))

    @cached_property
    def _by_delete(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = {}
        for word in self._counts:
            for key in (word, *_deletes(word)):
                index.setdefault(key, []).append(word)
        return index

    def correct_word(self, word: str) -> str:
        lower = word.casefold()
        if lower in STOPWORDS or lower in self._counts or self._lexicon.senses(lower):
            return word
        contracted = _with_apostrophe(lower)
        if contracted:
            return contracted
        found = {c for key in (lower, *_deletes(lower)) for c in self._by_delete.get(key, ())}
        found = {c for c in found if _one_edit(lower, c)}
        if not found:
            return word
        return max(sorted(found), key=lambda c: self._counts[c])

    def correct(self, text: str) -> str:
        """``text`` with its misspelt words corrected (unchanged when none is)."""
        return _WORD.sub(lambda m: self.correct_word(m[0]), text)


def _with_apostrophe(word: str) -> str | None:
    """A contraction typed without its apostrophe ("whats" → "what's", "didnt" → "didn't"),
    when one is a function word."""
    return next(
        (c for i in range(1, len(word)) if (c := f"{word[:i]}'{word[i:]}") in STOPWORDS), None
    )


def _one_edit(a: str, b: str) -> bool:
    """True when ``b`` is one deletion, insertion, substitution or swap away from ``a``."""
    if a == b:
        return False
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )  # fmt: skip
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))
