"""BM25: the pruned search returns exactly the textbook top k, common words or not."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from vectorstore.analysis import stems
from vectorstore.lexical import COMMON_FRACTION, BM25Index

COMMON = "report officials market government people city week".split()
RARE = [f"term{i}" for i in range(400)]


def _corpus(n: int = 3000, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [
        " ".join(rng.choice(COMMON) if rng.random() < 0.4 else rng.choice(RARE) for _ in range(12))
        for _ in range(n)
    ]


def _textbook(texts: list[str], query: str, k1: float = 1.2, b: float = 0.75) -> list[float]:
    docs = [Counter(stems(t)) for t in texts]
    lengths = [sum(d.values()) for d in docs]
    avg = sum(lengths) / len(docs)
    scores = [0.0] * len(docs)
    for term in set(stems(query)):
        df = sum(1 for d in docs if term in d)
        if df == 0:
            continue
        idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
        for i, d in enumerate(docs):
            tf = d.get(term, 0)
            if tf:
                scores[i] += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[i] / avg))
    return scores


@pytest.mark.parametrize(
    "query",
    [
        "report term3 term17",  # common words beside rare ones: pruning is tried
        "officials market term250",  # ... and holds here
        "report officials city",  # only common words: every posting is scored
        "term1",
        "nothing matches this",
    ],
)
def test_search_matches_the_textbook_scores(query: str) -> None:
    texts = _corpus()
    index = BM25Index.build(texts)
    assert any(len(index.postings[w][0]) > index.size // COMMON_FRACTION for w in COMMON)
    expected = _textbook(texts, query)
    found = index.search(query, 10)
    best = sorted((s for s in expected if s > 0), reverse=True)[:10]
    assert [s for _, s in found] == pytest.approx(best, rel=1e-5)
    for row, score in found:
        assert expected[row] == pytest.approx(score, rel=1e-5)
    assert found == sorted(found, key=lambda x: (-x[1], x[0]))


def test_an_acronym_is_known_when_the_documents_spell_it_out() -> None:
    from vectorstore.analysis import Acronyms

    acronyms = Acronyms(
        ["The second stage of the free trade agreement.", "Seven liquefied natural gas carriers."]
    )
    assert acronyms.spelled_out("FTA") and acronyms.spelled_out("LNG")
    assert not acronyms.spelled_out("NATO") and not acronyms.spelled_out("F")
    # The words must follow one another: "free … agreement" alone is not "FA".
    assert not acronyms.spelled_out("FA")


def test_an_acronym_may_mix_cases_or_be_plural() -> None:
    """Central banks and agreements as analysts write them: "PBoC", "BoJ", "MOUs"."""
    from vectorstore.analysis import Acronyms, written_as_acronym

    acronyms = Acronyms(
        [
            "The People’s Bank of China and the Bank of Japan renewed the line.",
            "They signed memoranda of understanding.",
        ]
    )
    assert all(map(written_as_acronym, ("PBoC", "BoJ", "MOUs", "FTA")))
    assert not any(map(written_as_acronym, ("Beijing", "Xi", "Gyeongju")))
    assert acronyms.spelled_out("PBoC") and acronyms.spelled_out("BoJ")
    assert acronyms.spelled_out("MOUs") and not acronyms.spelled_out("BoK")
    # A question's token counts only when it is written as one: "Boj" is not "BoJ".
    assert acronyms.known("BoJ") and not acronyms.known("Boj")
