"""Which writing system a question is in: the one place that routes a question to the
multilingual path (Korean, Chinese, Japanese) or leaves it on the English one.

By script, not by a language model: a question whose letters are mostly Hangul, kana or CJK
ideographs can't be searched with the English embedding, BM25 or the English analysis, and
deciding this costs a pass over the characters (~µs), so English questions pay nothing.
"""

from __future__ import annotations

from typing import Literal

Language = Literal["ko", "zh", "ja"]

_HANGUL = ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7AF))
_KANA = ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F))
_IDEOGRAPHS = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F))


def _within(code: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= code <= hi for lo, hi in ranges)


def question_language(text: str) -> Language | None:
    """``ko``, ``ja`` or ``zh`` when at least half the letters of ``text`` are Hangul, kana
    or CJK ideographs (any Hangul: Korean; else any kana: Japanese; else Chinese); None
    otherwise (Latin and every other script stay on the English path)."""
    hangul = kana = ideographs = letters = 0
    for char in text:
        if not char.isalpha():
            continue
        letters += 1
        code = ord(char)
        if code < 0x1100:  # Latin, Greek, Cyrillic, …: the common case, decided at once
            continue
        if _within(code, _HANGUL):
            hangul += 1
        elif _within(code, _KANA):
            kana += 1
        elif _within(code, _IDEOGRAPHS):
            ideographs += 1
    if not letters or 2 * (hangul + kana + ideographs) < letters:
        return None
    if hangul:
        return "ko"
    return "ja" if kana else "zh"


#: What a multilingual answer opens with: the question's language saying that what follows
#: is quoted from the English source (there is no translation offline).
QUOTE_PHRASES: dict[Language, str] = {
    "ko": "기사 원문(영어)에서:",
    "zh": "以下摘自英文原文：",
    "ja": "英語の記事原文より：",
}


def without_quote_phrase(text: str) -> str:
    """``text`` without a leading :data:`QUOTE_PHRASES` phrase (an answer read back from
    the conversation)."""
    stripped = text.lstrip()
    for phrase in QUOTE_PHRASES.values():
        if stripped.startswith(phrase):
            return stripped[len(phrase) :].lstrip()
    return text
