"""The check every generated sentence passes before it is shown.

A sentence is *supported* by a passage when the passage covers enough of what the sentence
claims: the share of its content-word stems (stopwords dropped, irregular verbs and number
words normalised) found among the passage's, and every number it states. Words of the
question are no free pass: "The president of France is Macron [1]" over a passage about
President Lee covers one stem in three and is dropped. The threshold is fitted on labelled
sentences over the summit article (``evaluation/grounding_pairs.jsonl``,
``python -m evaluation.fit_grounding``); the figures are in the README.

What it does not guarantee: that the sentence means what the passage means. Covered words
in a new order ("China sanctioned Lee" over "Lee raised China's sanctions") pass, and a
negation the passage lacks ("not") is a stopword; the check catches added facts, names and
numbers, not re-arranged ones.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.question_words import ANAPHORS
from vectorstore.analysis import STOPWORDS, stem, stems, words

#: The fitted share of a sentence's content stems its cited passages must cover
#: (``evaluation/fit_grounding.py`` prints the fit; keep the two in step).
SUPPORT_THRESHOLD = 0.75

#: A sentence's citation markers (``[1]``, ``[1, 2]``, ``[1][2]``).
_MARKERS = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_NUMBER_WORDS = {
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
}
#: Words that turn a claim around; one the passages lack makes the sentence unsupported.
_POLARITY = frozenset(
    "not no never failed fail refused refuse rejected reject cancelled canceled cancel "
    "denied deny lifted lift ended halted suspended opposed".split()
)
#: Where a sentence joins clauses; a clause of this many claims or more is checked alone.
_CLAUSE = re.compile(r"[;:]|,\s*(?=(?:and|but|while|which|who|where|with|as)\b)")
_MIN_CLAUSE_CLAIMS = 2
#: Titles a sentence may add to a name the passages use.
_TITLES = frozenset({"presid", "leader", "mr", "ms", "dr"})
#: "Both sides" and "the two sides" say the same.
_SAME = {"both": "2"}
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_CAPITALISED = re.compile(r"\b[A-Z][^\W_]*")


def _numbers(text: str) -> set[str]:
    """Numbers the text states, as digits ("seven" and "7" alike; "1,000" as "1000")."""
    found = {m.replace(",", "") for m in _DIGITS.findall(text)}
    found |= {_NUMBER_WORDS[w] for w in words(text) if w in _NUMBER_WORDS}
    return found | {_SAME[w] for w in words(text) if w in _SAME}


def _claims(text: str) -> set[str]:
    """The content stems a sentence claims (number words as digits, markers dropped)."""
    text = _MARKERS.sub(" ", text)
    found = {_NUMBER_WORDS.get(s, s) for s in stems(text)}
    found |= {_SAME[w] for w in words(text) if w in _SAME}
    return found


def _names(text: str) -> set[str]:
    """Stems of the capitalised words (names, as a rule; a sentence's first word too, unless
    a stopword): a name the passages don't use is a fact they don't give."""
    return {stem(w.casefold()) for w in _CAPITALISED.findall(text) if w.casefold() not in STOPWORDS}


def support(sentence: str, passages: Sequence[str], context: Sequence[str] = ()) -> float:
    """Share of the sentence's claims the passages cover; 0 when a number, a name or a word
    that turns a claim around (``not``, ``failed``, ``cancelled`` …) is not theirs.

    A name may also come from ``context`` (the other passages given) when the passage refers
    back ("he", "they", "it" …): "Lee noted …" citing "He also noted …" names whom the
    passage before it names.
    """
    sentence = _MARKERS.sub(" ", sentence)
    claims = _claims(sentence)
    cited = " ".join(passages)
    if not claims or not _numbers(sentence) <= _numbers(cited):
        return 0.0
    covered = _claims(cited)
    refers = any(w in ANAPHORS for w in words(cited))
    known = {stem(w) for w in words(" ".join([cited, *(context if refers else ())]))}
    names = _names(sentence)
    if not names <= known | _TITLES:
        return 0.0
    covered |= names  # a name from the context is the passage's "he", "they", "it"
    claims -= _TITLES  # "President Xi" for "Xi": the title claims nothing new
    cited_words = set(words(cited))
    if any(w in _POLARITY and w not in cited_words for w in words(sentence)):
        return 0.0
    whole = len(claims & covered) / len(claims)
    # each clause on its own too: ", and it was also approved by the board" added to a
    # quoted sentence is most of a clause, however little of the sentence
    clauses = [_claims(c) - _TITLES for c in _CLAUSE.split(sentence)]
    parts = [len(c & covered) / len(c) for c in clauses if len(c) >= _MIN_CLAUSE_CLAIMS]
    return min([whole, *parts])


def cited_numbers(sentence: str) -> list[int]:
    """The passage numbers a sentence cites, in order, without repeats."""
    seen: list[int] = []
    for match in _MARKERS.finditer(sentence):
        for part in match[1].split(","):
            n = int(part)
            if n not in seen:
                seen.append(n)
    return seen


def strip_markers(sentence: str) -> str:
    """The sentence without its markers (and the space before them)."""
    return re.sub(r"\s*" + _MARKERS.pattern, "", sentence).strip()


@dataclass(frozen=True)
class Checked:
    """A generated sentence after the check: the passages it may cite (1-based, of those
    given), or none when it is dropped; ``corrected`` when its own markers were wrong."""

    text: str
    cites: tuple[int, ...]
    corrected: bool = False
    #: Why it was dropped (``uncited``, ``unsupported``), None when kept.
    dropped: str | None = None


def check(
    sentence: str,
    passages: Sequence[str],
    threshold: float = SUPPORT_THRESHOLD,
    question: str = "",
) -> Checked:
    """Keep ``sentence`` with its markers when the passages it cites support it; else cite the
    one given passage that does (best support first); else drop it.

    A sentence with no marker is treated as one with a wrong marker: shown citing the given
    passage that supports it, or dropped (``uncited``): every shown sentence cites. Names may
    come from any passage given (see :func:`support`). A sentence that claims nothing the
    ``question`` doesn't ("The new stage is the relationship entering a new stage") answers
    nothing and is dropped too.
    """
    text = strip_markers(_TAGS.sub(" ", sentence)).strip()
    if question and _claims(text) <= _claims(question):
        return Checked(text, (), dropped="restates the question")
    asked = cited_numbers(sentence)
    valid = [n for n in asked if 1 <= n <= len(passages)]
    if valid and support(text, [passages[n - 1] for n in valid], passages) >= threshold:
        return Checked(text, tuple(valid))
    scored = [(support(text, [p], passages), n) for n, p in enumerate(passages, start=1)]
    best, n = max(scored, key=lambda s: (s[0], -s[1]), default=(0.0, 0))
    if best >= threshold:
        return Checked(text, (n,), corrected=True)
    return Checked(text, (), dropped="unsupported" if asked else "uncited")


#: A sentence end: terminal punctuation, then any markers, then space (or the end).
_SENTENCE_END = re.compile(r"[.!?](?:[\"')\]]*)(?:[ \t]*\[\d+(?:\s*,\s*\d+)*\])*(?=\s|$)")
#: Markers written before the full stop ("… in Gyeongju [1].").
_MARKER_BEFORE_STOP = re.compile(r"((?:[ \t]*\[\d+(?:\s*,\s*\d+)*\])+)[ \t]*([.!?])")
#: Tags a small model may echo from the prompt's layout.
_TAGS = re.compile(r"</?(?:passages?|question|conversation)\b[^>]*>|\"\"\"")


def normalise_markers(text: str) -> str:
    """ "… Gyeongju [1]." → "… Gyeongju. [1]": one place for the markers, after the stop."""
    return _MARKER_BEFORE_STOP.sub(lambda m: m[2] + m[1], text)


def complete_sentences(buffer: str, final: bool = False) -> tuple[list[str], str]:
    """Sentences the buffer completes (with their markers) and the rest still being written.

    A sentence is complete at a full stop followed by its markers and a space; until the next
    word starts, more markers could follow, so the end of the buffer waits unless ``final``.
    """
    buffer = normalise_markers(buffer)
    done: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(buffer):
        end = match.end()
        rest = buffer[end:]
        same_line = rest.lstrip(" \t")
        if not final and (not same_line or same_line.startswith("[")):
            break  # markers may still follow, or one is half written
        sentence = buffer[start:end].strip()
        if sentence:
            done.append(sentence)
        start = end
    rest = buffer[start:]
    if final:
        if rest.strip():
            done.append(rest.strip())
        rest = ""
    return done, rest
