"""The question analysed once: what to search, what kind of answer it wants, its names.

Every later step (retrieval, answerability, answering) reads this analysis instead of
re-tokenising the question. Follow-ups are resolved here without an LLM: a question
*depends* on the conversation when it uses an anaphor ("they", "he", "it"), asks for
something new ("what else", "any other"), or names no topic of its own ("And then?"). A
dependent question is searched together with the topic words of the previous (already
resolved) question, so context carries along a chain of follow-ups. "What else …" questions
also skip the passages earlier answers led with (and favour what continues them), and "…
besides the sanctions" demotes passages about what the user put aside.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Container, Sequence
from dataclasses import dataclass

from assistant.answer_type import AnswerType, expected_type
from assistant.question_words import (
    ANAPHORS,
    QUESTION_OPENERS,
    asked_class,
    asks_for_more,
    proper_names,
    topic_stems,
    topic_terms,
    topic_words,
)
from assistant.script import Language, question_language, without_quote_phrase
from assistant.types import Message
from vectorstore.analysis import Acronyms, stem, stems, word_spans, words

_ASIDE = re.compile(
    r"\b(?:besides|apart from|aside from|other than|except(?: for)?|beyond|not counting)\s+"
    r"(?:the\s+|a\s+|an\s+|his\s+|her\s+|their\s+|its\s+)?([^?,.;]+)",
    re.IGNORECASE,
)
#: A citation marker in an answer read back from the conversation.
_MARKER = re.compile(r"\s*\[\d+\]")
#: Topic words of the previous question carried into a dependent one, at most.
_MAX_CARRIED = 8


@dataclass(frozen=True)
class SearchText:
    """One text to search for, with the analyses retrieval and answerability need."""

    text: str
    #: Stems of its non-stopword words: the terms of lexical search.
    stems: tuple[str, ...]
    #: Stems of its topic words: a topic absent from the documents is a sign of no answer.
    topic_stems: tuple[str, ...]
    #: The topic words themselves, aligned with ``topic_stems`` (for synonyms).
    topic_words: tuple[str, ...] = ()

    @classmethod
    def of(cls, text: str) -> SearchText:
        terms = topic_terms(text)
        return cls(text, tuple(stems(text)), tuple(terms), tuple(terms.values()))

    def spelled_out(self, acronyms: Acronyms, among: Collection[str]) -> frozenset[str]:
        """Those of the stems ``among`` whose words it writes as acronyms and the documents
        spell out ("FTA", "BoJ")."""
        return frozenset(
            stem(w)
            for w, lo, hi in word_spans(self.text)
            if stem(w) in among and acronyms.known(self.text[lo:hi])
        )

    def absent_stems(self, vocabulary: Container[str], acronyms: Acronyms) -> frozenset[str]:
        """Its topic stems the documents never use (``vocabulary``: the documents' stems; an
        acronym they spell out is used)."""
        absent = {t for t in self.topic_stems if t not in vocabulary}
        return frozenset(absent - self.spelled_out(acronyms, absent))

    def absent_spans(self, vocabulary: Container[str], acronyms: Acronyms) -> list[tuple[int, int]]:
        """Where its words with a stem the documents never use are, in its text."""
        absent = self.absent_stems(vocabulary, acronyms)
        return [(lo, hi) for w, lo, hi in word_spans(self.text) if absent and stem(w) in absent]


@dataclass(frozen=True)
class Query:
    """A question in its conversation, analysed once for every later step."""

    question: str
    #: What to search, in order: the resolved query, then fallbacks tried when it finds no
    #: answer (the question with context it did not seem to need: "Which firm's subsidiaries
    #: were affected?" after a question about Hanwha Ocean leans on it without a pronoun).
    searches: tuple[SearchText, ...]
    #: The kind of answer asked for ("How many …" → a count), when the question says.
    answer_type: AnswerType | None
    #: Capitalised words and numbers of the question: names the documents must use.
    names: tuple[str, ...]
    #: The question's own topic stems (not the context carried into the search).
    topic_stems: frozenset[str]
    #: The user asked for something not yet given: skip the passages answers led with.
    wants_new: bool = False
    #: Stems of what the user put aside ("besides X"): passages with them rank last.
    set_aside: frozenset[str] = frozenset()
    #: How many questions it joins that the documents answer (one sentence each).
    parts: int = 1
    #: ``ko``, ``zh`` or ``ja`` for a question on the multilingual path
    #: (:mod:`assistant.multilingual`); None on the English one.
    language: Language | None = None
    #: Stems of the class of answer asked for ("which *city*"): the answer names a member
    #: of it, so the documents need not use these words (:func:`asked_class`).
    asked_class: frozenset[str] = frozenset()
    #: For a question that leans on the conversation (:func:`depends_on_context`): ids of
    #: the passage the last answer quoted first, what the conversation is about (set by the
    #: chain, which knows the passages).
    last_answer: frozenset[str] = frozenset()
    #: For a question asking for more (``wants_new``): ids of the passages earlier answers led
    #: with (skipped), and of those that continue them, where "what else" most often is (set
    #: by the chain).
    shown: frozenset[str] = frozenset()
    continuing: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Resolution:
    """How a question is searched given the conversation: the query, then its fallbacks."""

    search_query: str
    fallbacks: tuple[str, ...] = ()

    @property
    def in_context(self) -> str:
        """The question with the context it carries (what a later turn builds on: "Which city
        was it in?" after "And for how many minutes?" still means the Lee–Xi meeting)."""
        return self.fallbacks[0] if self.fallbacks else self.search_query


def depends_on_context(question: str) -> bool:
    """Whether the question leans on the conversation: it refers back ("it", "they"), asks
    for more ("what else"), or names no topic of its own; the class of the answer it asks
    for is no topic ("By which *country*?", "Which *city*?")."""
    tokens = words(question)
    topic = set(topic_words(question)) - set(asked_class(question))
    return any(t in ANAPHORS for t in tokens) or asks_for_more(tokens) or not topic


def resolve(question: str, previous_queries: Sequence[str]) -> Resolution:
    """Resolve ``question`` given the resolved queries of the earlier turns (oldest first)."""
    contextual = question
    if previous_queries:
        own = {stem(w) for w in topic_words(question)}
        previous = previous_queries[-1]
        # A follow-up that names its own actor ("And what did Xi say?") doesn't carry the
        # previous question's actors, which would drown it.
        actors = {w.casefold() for w in proper_names(previous)} if proper_names(question) else set()
        carried = [w for w in topic_words(previous) if stem(w) not in own and w not in actors]
        if carried:
            contextual = f"{question} {' '.join(carried[:_MAX_CARRIED])}"
    if contextual == question:
        return Resolution(question)
    if depends_on_context(question):
        return Resolution(contextual)
    return Resolution(question, (contextual,))


def resolve_conversation(question: str, history: Sequence[Message]) -> Resolution:
    """Resolve every earlier user turn in order, then the question, so context chains.

    A turn asked in Korean, Chinese or Japanese has no English words to carry: the English
    sentences answering it (the assistant's next message) stand for it instead.
    """
    resolved: list[str] = []
    for i, message in enumerate(history):
        if message.role != "user":
            continue
        text = message.content
        if question_language(text) is not None:
            text = _quoted_answer(history[i + 1 : i + 2])
            if not text:
                continue
        resolved.append(resolve(text, resolved).in_context)
    return resolve(question, resolved)


def _quoted_answer(following: Sequence[Message]) -> str:
    """The sentences an assistant answer quoted (without markers and the quote phrase); empty
    for a refusal, which quotes nothing."""
    if not following or following[0].role != "assistant":
        return ""
    text = following[0].content
    if not _MARKER.search(text):
        return ""
    return _MARKER.sub(" ", without_quote_phrase(text)).strip()


#: "… and what …": where a question joins two questions.
_JOINED = re.compile(
    r"(?:,\s*|\s+)(?:and|&)\s+(?=(?:(?:since|in|for|by|from|to|at|on|with)\s+)?"
    r"(?:what|which|who|whom|whose|where|when|why|how|did|does|do|"
    r"is|are|was|were|has|have|had|can|will|(?:the\s+)?(?:number|length|names?)\s+of)\b)",
    re.IGNORECASE,
)


#: ", and …", ", plus …", ", then …" after a first clause with no comma of its own: two
#: requests, whatever the second opens with ("List the security topics discussed, then the
#: topics of the signed agreements"). A comma before it would make it a list's last item
#: ("trade, investment, and tourism").
_LISTED = re.compile(r"^(?P<first>[^,]+),\s*(?:and|plus|then)\s+(?P<second>.+)$", re.IGNORECASE)


def split_parts(question: str) -> list[str]:
    """The questions a question joins with "and" ("Which city hosted it and which sea was
    discussed?" → two; "…, and since what year …" and "…, and number of pacts signed?"
    too; see :data:`_LISTED`); one part when it asks one thing."""
    parts = [p.strip(" ,") for p in _JOINED.split(question)]
    if len(parts) == 1 and (listed := _LISTED.match(question.strip())):
        parts = [listed["first"].strip(), listed["second"].strip()]
    return [p for p in parts if topic_words(p) or len(parts) == 1] or [question]


#: Words a follow-up may open with before the thing it names ("*And* the Chinese one?").
_LEAD_INS = frozenset("and so ok okay".split())
#: Openers of a yes/no question with no question word ("*Any* about fighting fraud?").
_YES_NO = frozenset("any anything".split())
#: A follow-up of more words than this asks a question of its own.
_ELLIPTICAL_WORDS = 6
#: Kinds of answer an elliptical follow-up doesn't keep (see :func:`_elided_type`).
_COUNTED_KINDS = frozenset({"count", "money"})


def _elided_type(question: str, history: Sequence[Message]) -> AnswerType | None:
    """The kind of answer the previous question asked for, when this one only names another
    thing to ask it of ("What is the full name of the Korean president?" — "And the Chinese
    one?", "What about Xi?"): an elliptical question keeps the frame of the one before. It
    opens on no question word or auxiliary of its own, or on "what/how about". Not a count or
    a sum: the thing named may be what was counted ("How many agreements did they sign?" —
    "And the currency swap?"), and a figure the text doesn't give would refuse a question it
    answers in words ("They also renewed a major … currency swap")."""
    previous = [m.content for m in history if m.role == "user"][-1:]
    tokens = list(itertools.dropwhile(lambda t: t in _LEAD_INS, words(question)))
    if not previous or not tokens or len(tokens) > _ELLIPTICAL_WORDS:
        return None
    about = tokens[0] in ("what", "how") and tokens[1:2] == ["about"]
    if not about and (tokens[0] in QUESTION_OPENERS or tokens[0] in _YES_NO):
        return None
    kept = expected_type(previous[0])
    return kept if kept is not None and kept.kind not in _COUNTED_KINDS else None


def analyse(question: str, history: Sequence[Message] = ()) -> Query:
    """The one analysis of ``question`` (already cleaned) in its conversation."""
    resolution = resolve_conversation(question, history)
    aside = frozenset(stem(w) for m in _ASIDE.finditer(question) for w in topic_words(m[1]))
    return Query(
        question=question,
        searches=tuple(
            SearchText.of(text) for text in (resolution.search_query, *resolution.fallbacks)
        ),
        answer_type=expected_type(question) or _elided_type(question, history),
        names=tuple(proper_names(question)),
        topic_stems=frozenset(topic_stems(question)),
        wants_new=asks_for_more(words(question)),
        set_aside=aside,
        asked_class=frozenset(stem(w) for w in asked_class(question)),
    )
