"""Countries named by their initials: "ROK" (Republic of Korea), "PRC", "DPRK", "UAE".

Readers who follow their own country's press name the two sides as it does ("talks between
the ROK and PRC delegations"); the articles write "South Korea" and "China", and WordNet knows
"PRC" but not "ROK". pycountry lists every country's short, official and common names ("Korea,
Republic of", "South Korea"), so initials are read off the names themselves, with and
without "of", "the" and "and" (ROK, PRC): no list of acronyms is kept here.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache

from vectorstore.analysis import written_as_acronym

#: Words initials may skip: "People's Republic *of* China" → PRC, "Republic *of* Korea" → ROK.
_MINOR = frozenset({"of", "the", "and"})


def _uninverted(name: str) -> str:
    """pycountry's "Korea, Republic of" → "Republic of Korea"."""
    head, comma, tail = name.partition(", ")
    return f"{tail} {head}" if comma else name


def _initials(name: str) -> set[str]:
    """The name's initials, with its minor words and without them (lower case)."""
    parts = [p for p in re.split(r"[\s-]+", name.casefold()) if p[:1].isalpha()]
    every = "".join(p[0] for p in parts)
    major = "".join(p[0] for p in parts if p not in _MINOR)
    return {i for i in (every, major) if len(i) > 1}


@lru_cache(maxsize=1)
def _by_initials() -> dict[str, frozenset[str]]:
    """Initials → the names (lower case) of the countries they stand for (pycountry, once)."""
    import pycountry

    index: dict[str, set[str]] = defaultdict(set)
    for country in pycountry.countries:
        written = (getattr(country, a, None) for a in ("name", "official_name", "common_name"))
        names = {_uninverted(n) for n in written if n}
        for name in names:
            for initials in _initials(name):
                index[initials].update(n.casefold() for n in names)
    return {initials: frozenset(names) for initials, names in index.items()}


def named_by(token: str) -> frozenset[str]:
    """The names of the countries a question's token stands for when it is written as initials
    ("ROK" → republic of korea, south korea); none for any other token."""
    if not written_as_acronym(token) or not token.isalpha():
        return frozenset()
    return _by_initials().get(token.casefold(), frozenset())
