"""Word-level text analysis shared by lexical search (passages) and question analysis."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import Stemmer

_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"'})
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
#: Control characters (C0 but white space, DEL, C1) and line/paragraph separators: they
#: separate words, so each becomes a space.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
#: Invisible characters that sit *inside* words (zero-width spaces and joiners, soft hyphen,
#: word joiner, direction marks and overrides, BOM, tag characters) and text that is not
#: characters at all (lone surrogates, e.g. an undecodable byte of a command line, and
#: noncharacters): removed, so "Han\u200bwha" is "Hanwha" and nothing unencodable travels on.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufeff\ufff9-\ufffb\ufffe\uffff\ud800-\udfff\U000e0000-\U000e007f]"
)

#: Function words: never searched for, never evidence of a topic.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are aren't as at be because been
    before being below between both but by can could did didn't do does doesn't doing don't down
    during each few for from further had has have having he he'd he'll he's her here here's hers
    herself him himself his how how's i i'd i'll i'm i've if in into is isn't it it's its itself
    let's me more most my myself no nor not of off on once only or other ought our ours ourselves
    out over own same she she'd she'll she's should so some such than that that's the their theirs
    them themselves then there there's these they they'd they'll they're they've this those through
    to too under until up very was wasn't we we'd we'll we're we've were weren't what what's when
    when's where where's which while who who's whom why why's will with won't would you you'd
    you'll you're you've your yours yourself yourselves also else besides just may might must
    shall many much whose whether yes regarding concerning""".split()
)


def clean_text(text: str) -> str:
    """Invisible characters removed, controls made spaces, NFC, whitespace folded: text that
    is safe to search, show and encode (a text of invisible characters only is empty)."""
    text = _INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text))
    return " ".join(text.split())


def without_invalid(text: str) -> str:
    """Only what can't be encoded or shown (lone surrogates, noncharacters, controls but line
    breaks and tabs) removed; layout kept: for text given back to a person to edit."""
    return _INVISIBLE.sub("", re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", "", text))


def normalize_for_match(text: str) -> str:
    """The evidence-matching normal form: NFKC, straight quotes, folded space, lower case."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return " ".join(text.split()).casefold()


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def _tokens(text: str) -> list[tuple[str, str]]:
    """(lower-cased word, word as written) pairs; hyphenated words split, possessive 's dropped."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    out = []
    for token in _WORD.findall(text):
        if token.endswith(("'s", "'S")):
            token = token[:-2]
        out.append((token.casefold(), token))
    return out


def words(text: str) -> list[str]:
    """Lower-cased word tokens; hyphenated words split, possessive 's dropped."""
    return [word for word, _ in _tokens(text)]


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """(lower-cased word, start, end) of each word as written in ``text`` (offsets into it,
    unlike :func:`words`, which normalises first)."""
    return [(m[0].casefold(), m.start(), m.end()) for m in re.finditer(r"[^\W_]+", text)]


def written_as_acronym(token: str) -> bool:
    """Two capitals or more: "FTA", "PBoC", "BoJ", "MOUs"."""
    return sum(c.isupper() for c in token) > 1


class Acronyms:
    """Which acronyms the documents spell out ("FTA" → "free trade agreement", "LNG" →
    "liquefied natural gas"): an acronym in a question names something they do mention. One
    scan of the texts per acronym asked about, remembered (few questions hold one)."""

    REMEMBERED = 10_000

    def __init__(self, texts: Sequence[str]) -> None:
        self._texts = texts
        self._known: dict[str, bool] = {}

    def known(self, token: str) -> bool:
        """Whether a question's token is written as an acronym the documents spell out."""
        return written_as_acronym(token) and self.spelled_out(token)

    def spelled_out(self, acronym: str) -> bool:
        """Whether the documents spell it out: its letters, a plural "s" dropped ("MOUs"),
        begin consecutive words ("BoJ" ← "Bank of Japan")."""
        if acronym.endswith("s") and acronym[:-1].isupper():
            acronym = acronym[:-1]
        key = acronym.casefold()
        known = self._known.get(key)
        if known is None:
            letters = [c for c in key if c.isalnum()]
            initials = r"[\w’']*[\s-]+".join(map(re.escape, letters))
            pattern = re.compile(rf"\b{initials}[\w’']*", re.IGNORECASE)
            known = len(letters) > 1 and any(pattern.search(t) for t in self._texts)
            if len(self._known) >= self.REMEMBERED:
                self._known.clear()
            self._known[key] = known
        return known


def content_words(text: str) -> list[str]:
    """Lower-cased words that are not stopwords; an acronym that spells one ("US") is kept."""
    return [
        word
        for word, written in _tokens(text)
        if word not in STOPWORDS or (len(written) > 1 and written.isupper())
    ]


#: Irregular verb forms the stemmer can't join to their base ("met" → "meet").
_IRREGULAR = {
    "met": "meet",
    "held": "hold",
    "said": "say",
    "took": "take",
    "taken": "take",
    "gave": "give",
    "given": "give",
    "made": "make",
    "went": "go",
    "gone": "go",
    "came": "come",
    "saw": "see",
    "seen": "see",
    "told": "tell",
    "thought": "think",
    "brought": "bring",
    "bought": "buy",
    "sought": "seek",
    "lost": "lose",
    "led": "lead",
    "began": "begin",
    "begun": "begin",
    "wrote": "write",
    "written": "write",
    "spoke": "speak",
    "spoken": "speak",
    "chose": "choose",
    "chosen": "choose",
    "grew": "grow",
    "grown": "grow",
    "rose": "rise",
    "risen": "rise",
    "fell": "fall",
    "fallen": "fall",
    "kept": "keep",
    "left": "leave",
    "meant": "mean",
    "paid": "pay",
    "sent": "send",
    "spent": "spend",
    "stood": "stand",
    "struck": "strike",
    "felt": "feel",
    "found": "find",
    "heard": "hear",
    "knew": "know",
    "known": "know",
    "laid": "lay",
    "sold": "sell",
    "set": "set",
    "shown": "show",
    "understood": "understand",
}


def stem(word: str) -> str:
    return _stemmer().stemWord(_IRREGULAR.get(word, word))


def stems(text: str) -> list[str]:
    """Stems of the non-stopword tokens: the unit of lexical search."""
    kept = [_IRREGULAR.get(w, w) for w in content_words(text)]
    return _stemmer().stemWords(kept)  # one call per text: BM25 start-up stems every passage
