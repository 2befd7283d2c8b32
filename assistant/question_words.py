"""The words of questions: which frame a question, which lean on the conversation, which name
its topic. Shared by question analysis, answer typing and the answerer."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from vectorstore.analysis import STOPWORDS, content_words, stem, word_spans, words

#: Verbs and nouns that frame a question ("what did X *say* about Y") rather than name its topic:
#: searched for, but their absence from the documents says nothing about answerability. The
#: nouns for the text itself include what news readers call it ("what's the *story* with the
#: ship builder …", "what role does the *piece* say …").
FRAMING_WORDS = frozenset(
    """say said says tell told mention mentioned mentions discuss discussed talk talked talks
    think thought happen happened happens describe described explain explained note noted
    state stated claim claimed get got make made give gave go went come came take took know known
    thing things way ways kind kinds type types name named anything something one ones two
    article text document documents report reported story stories piece according place long
    end purpose reason time times main key happen well write writes wrote written last
    lasted""".split()
)
#: Their stems: what a question with no topic words of its own is framed by ("How *long* did
#: the *talks* *last*?"), never a word its documents lack.
FRAMING_STEMS = frozenset(stem(w) for w in FRAMING_WORDS)
#: Words that make a question lean on the conversation (and a sentence on the one before it).
ANAPHORS = frozenset(
    "he him his she her hers they them their theirs it its this that these those there then "
    "that's it's".split()
)
#: Words asking for something not given yet ("what *else*", "any *other*").
NOVELTY_CUES = frozenset("else other others another besides too also additionally more".split())


def asks_for_more(tokens: list[str]) -> bool:
    """True when a question's words ask for something not given yet ("what *else*", "did
    they renew anything *as well*")."""
    return any(t in NOVELTY_CUES for t in tokens) or "as well" in " ".join(tokens)


#: Words between "what" and the class it asks for ("what *kind of* venue").
_CLASS_OF = frozenset("kind kinds sort sorts type types".split())
#: Words of the asked-for class taken at most ("which *international forum*").
_CLASS_WORDS = 2


#: Asking for a name's long form ("his *full name*", "*whole name*") or a part of it ("her
#: *surname*", "his *first and last name*", "Xi's *given name*"), in lower-cased words: the
#: sentence that writes the name in full answers either.
FULL_NAME = re.compile(
    r"\b(?:(?:full|whole|complete|first|last|given|family|middle)"
    r"(?: and (?:last|family|middle))? names?|surnames?|forenames?)\b"
)


def asked_class(text: str) -> list[str]:
    """The words naming the class of the answer a "which/what X" question asks for ("Which
    *city* …", "what *sort of atomic boats* …", "the president's *full name*"): the answer
    names a member of the class, so the documents need not use these words. Up to two words
    after "which"/"what" (and after "kind of"), until a stopword ("What *did* …" asks for no
    class)."""
    tokens = words(text)
    found = [w for m in FULL_NAME.finditer(" ".join(tokens)) for w in m[0].split()]
    for i, token in enumerate(tokens):
        if token not in ("which", "what"):
            continue
        j = i + 1
        if j + 1 < len(tokens) and tokens[j] in _CLASS_OF and tokens[j + 1] == "of":
            j += 2
        for word in tokens[j : j + _CLASS_WORDS]:
            if word in STOPWORDS:
                break
            found.append(word)
    return found


#: Words that open the question proper ("hey, *what* …", "quick question: *who* …").
QUESTION_OPENERS = frozenset(
    """what what's which who who's whom whose where where's when why how how's did does do
    is are was were can could would will has have had should tell list name give describe
    explain""".split()
)
#: Words that ask, without a question mark: a question word or a request.
_ASKING = QUESTION_OPENERS - frozenset(
    "did does do is are was were can could would will has have had should".split()
)
#: Words before the question proper that may be chat, at most.
PREAMBLE_WORDS = 3


def without_preamble(text: str, used: Callable[[str], bool]) -> str:
    """The question without the chat before it ("hello, how long …", "yo what did …", "quick
    question: who …"): up to three words before the first word that opens a question, when
    some are not function words ("And what …" has no chat) and none is a word the documents
    use (``used``), which keeps a preamble that names the topic ("In the K-pop article,
    who …"). Unchanged otherwise."""
    spans = word_spans(text)
    for i, (word, lo, _) in enumerate(spans[: PREAMBLE_WORDS + 1]):
        if word in QUESTION_OPENERS:
            chat = [w for w, _, _ in spans[:i] if w not in STOPWORDS]
            return text[lo:] if chat and not any(used(w) for w in chat) else text
    return text


def without_postamble(text: str, used: Callable[[str], bool]) -> str:
    """The question without the chat after it ("… about? Thanks so much :)", "…? I need it
    for the dateline."): what follows its last question mark, when that asks nothing of its
    own (no question word or request: "…? What was it?" and "…? tell me the words used" stay;
    an auxiliary without a question mark asks nothing: "…? Short answer is enough.") and
    none of its words is one the documents use (``used``: "…? company name" stays).
    Unchanged otherwise. The words dropped would only count as words the documents never
    use, and cost the encoder time."""
    end = text.rstrip().rfind("?")
    tail = word_spans(text[end + 1 :]) if end >= 0 else []
    asks = (w in _ASKING or (w not in STOPWORDS and used(w)) for w, _, _ in tail)
    if not tail or any(asks):
        return text
    return text[: end + 1]


#: An HTML tag, and an element whose content is code, not text.
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_CODE_ELEMENT = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def without_markup(text: str) -> str:
    """The question without the HTML tags (and script or style code) pasted into it: markup
    isn't what the user asks about, and its words ("script", "alert") would count as words
    the documents never use. Unchanged when it has no tag, or nothing but markup."""
    if not _TAG.search(text):
        return text
    stripped = " ".join(_TAG.sub(" ", _CODE_ELEMENT.sub(" ", text)).split())
    return stripped if words(stripped) else text


def topic_words(text: str) -> list[str]:
    """Words that name what a text is about (no stopwords, framing words or anaphors), once each."""
    seen: dict[str, None] = {}
    for w in words(text):
        if w not in STOPWORDS and w not in FRAMING_WORDS and w not in ANAPHORS:
            seen.setdefault(w, None)
    return list(seen)


def topic_terms(text: str) -> dict[str, str]:
    """Stem → first word, for the words that name what a question is about (no stopwords,
    no framing words)."""
    seen: dict[str, str] = {}
    for w in content_words(text):
        if w not in FRAMING_WORDS:
            seen.setdefault(stem(w), w)
    return seen


def topic_stems(text: str) -> list[str]:
    """Stems of the words that name what a question is about (no stopwords, no framing words)."""
    return list(topic_terms(text))


def proper_names(text: str) -> list[str]:
    """Capitalised words (not a sentence's first word, not a lone letter) and numbers of two or
    more digits: likely names. ("Who is the president of *France*?") A name the documents
    never use is a sign they can't answer the question.
    """
    names = []
    starts_sentence = True
    for match in re.finditer(r"[^\W_]+|[.!?:;]", unicodedata.normalize("NFKC", text)):
        token = match[0]
        if token in ".!?:;":
            starts_sentence = True
            continue
        name = token.isdigit() and len(token) > 1
        name = name or (not starts_sentence and token[0].isupper() and len(token) > 1)
        if name and token.casefold() not in STOPWORDS:
            names.append(token)
        starts_sentence = False
    return names
