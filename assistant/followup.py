"""Turn a question that leans on the conversation into a query that stands on its own.

No LLM: a question *depends* on the conversation when it uses an anaphor ("they", "he",
"it"), asks for something new ("what else", "any other"), or names no topic of its own
("And then?"). A dependent question is searched together with the topic words of the
previous (already resolved) question, so context carries along a chain of follow-ups.
"What else …" questions also skip the passages the conversation has already shown, and
"… besides the sanctions" demotes passages about what the user put aside.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.text import ANAPHORS, FRAMING_WORDS, NOVELTY_CUES, STOPWORDS, stem, words

_ASIDE = re.compile(
    r"\b(?:besides|apart from|aside from|other than|except(?: for)?|beyond|not counting)\s+"
    r"(?:the\s+|a\s+|an\s+|his\s+|her\s+|their\s+|its\s+)?([^?,.;]+)",
    re.IGNORECASE,
)
_MAX_CARRIED = 8


@dataclass(frozen=True)
class Resolution:
    """How a question will be searched."""

    search_query: str
    #: Tried in order when ``search_query`` finds no answer: the question with the context
    #: it did not seem to need ("Which firm's subsidiaries were affected?" after a question
    #: about Hanwha Ocean leans on it without a pronoun).
    fallbacks: tuple[str, ...] = ()
    #: The user asked for something not yet given: skip passages already shown.
    wants_new: bool = False
    #: Stems of what the user put aside ("besides X"): passages with them rank last.
    set_aside: frozenset[str] = field(default_factory=frozenset)


def _topic_words(text: str) -> list[str]:
    seen: dict[str, None] = {}
    for w in words(text):
        if w not in STOPWORDS and w not in FRAMING_WORDS and w not in ANAPHORS:
            seen.setdefault(w, None)
    return list(seen)


def depends_on_context(question: str) -> bool:
    tokens = words(question)
    return any(t in ANAPHORS or t in NOVELTY_CUES for t in tokens) or not _topic_words(question)


def resolve(question: str, previous_queries: Sequence[str]) -> Resolution:
    """Resolve ``question`` given the resolved queries of the earlier turns (oldest first)."""
    tokens = set(words(question))
    wants_new = bool(tokens & NOVELTY_CUES)
    aside = frozenset(stem(w) for m in _ASIDE.finditer(question) for w in _topic_words(m[1]))
    contextual = question
    if previous_queries:
        own = {stem(w) for w in _topic_words(question)}
        carried = [w for w in _topic_words(previous_queries[-1]) if stem(w) not in own]
        if carried:
            contextual = f"{question} {' '.join(carried[:_MAX_CARRIED])}"
    if contextual == question:
        return Resolution(question, wants_new=wants_new, set_aside=aside)
    if depends_on_context(question):
        return Resolution(contextual, wants_new=wants_new, set_aside=aside)
    return Resolution(question, (contextual,), wants_new=wants_new, set_aside=aside)
