"""Korean, Chinese and Japanese questions over English documents: search with
multilingual-e5, rank, and decide whether a sentence answers, without translating anything.

A question :func:`assistant.script.question_language` routes here is searched with the e5
vectors ingest kept in the index snapshot: each sentence scores its cosine to the question
plus ``window_weight`` × the cosine of its window (it and its neighbours, the normalised sum of
their vectors, as the English path does). Whether the best one answers is decided by two
vetoes (a Latin-script name or number of the question the documents never use; an asked-for
kind of answer, a time, number or name, that the best sentence lacks), then one logistic
decision over the best score, fitted on ``evaluation/sets/multilingual.tune.jsonl`` only by
``python -m evaluation.fit_multilingual``; weights and threshold are in
``multilingual_model.json``. e5 scores sit in a narrow band (a Korean sentence vs its
translation 0.83, vs unrelated English 0.71), so the features are margins as much as levels.

A follow-up ("그 회담은 …") is searched together with the previous user turn, in whatever
language that turn was: e5 embeds both into one space.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from assistant.answer_type import AnswerType, answers_of
from assistant.query import Query, SearchText
from assistant.ranking import CANDIDATES, Ranked
from assistant.retrieval import NEIGHBOURS_OF, PassageContext
from assistant.script import Language
from assistant.types import Evidence, Message, Passage
from vectorstore.analysis import Acronyms, words
from vectorstore.exact import ExactVectors
from vectorstore.multilingual import MultilingualEmbedder

MODEL_FILE = Path(__file__).with_name("multilingual_model.json")
#: What the decision reads. The margins over the second and over the median of the
#: candidates were measured too: leave-one-out on the tune half, the best score alone answered
#: 0.74 with gold and refused 0.78 (with both margins: 0.71 and 0.78; the margins alone 0.68).
FEATURES = ("best",)
#: Latin-script words and numbers inside a CJK question ("BTS", "FTA", "2016"): the only
#: words it shares with English documents.
_ANCHOR = re.compile(r"[A-Za-z][A-Za-z0-9]*|\d+")


@dataclass(frozen=True)
class MultilingualModel:
    """The decision (logistic over :data:`FEATURES`), its threshold, the window's weight in
    the score and the softmax temperature that turns scores into the answerer's shares."""

    weights: tuple[float, ...]
    bias: float
    threshold: float
    window_weight: float = 0.5
    temperature: float = 0.02

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> MultilingualModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        decision = data["decision"]
        if tuple(decision["features"]) != FEATURES:
            raise ValueError(f"{path} was fitted for other features: refit it")
        return cls(
            tuple(float(w) for w in decision["weights"]),
            float(decision["bias"]),
            float(data["threshold"]),
            float(data["window_weight"]),
            float(data["temperature"]),
        )

    def confidence(self, row: np.ndarray) -> float:
        z = float(row @ np.asarray(self.weights)) + self.bias
        return 1.0 / (1.0 + math.exp(-z))


#: The interrogatives of Korean, Chinese and Japanese that say what kind of answer is asked
#: for (as :func:`assistant.answer_type.expected_type` reads "when", "how many", "who" in
#: English), first match wins: a time, a number (count, amount, duration), a name or place.
_ASKED_FOR = (
    ("time", re.compile(r"언제|몇\s*년|什么时候|何时|哪一?年|几月|几号|いつ|何年|何月|何日")),
    (
        "count",
        re.compile(r"몇|얼마|几|多少|いくつ|いくら|何[人本回個件枚台隻分時]|どのくらい|どれくらい"),
    ),
    ("name", re.compile(r"누구|어디|谁|哪里|哪儿|誰|だれ|どこ")),
)


def expected_type(question: str) -> AnswerType | None:
    """The kind of answer a Korean, Chinese or Japanese question asks for, when it says."""
    for kind, pattern in _ASKED_FOR:
        if pattern.search(question):
            return AnswerType(kind)
    return None


def anchors(text: str) -> list[str]:
    """Latin-script words and numbers of a question, in order, without repeats (by case)."""
    found: dict[str, str] = {}
    for m in _ANCHOR.findall(text):
        found.setdefault(m.casefold(), m)
    return list(found.values())


def analyse_multilingual(question: str, history: Sequence[Message], language: Language) -> Query:
    """The question's analysis for the multilingual path: one search, the question with the
    previous user turn when there is one, in whatever language (a follow-up leans on it;
    on the tune half the gold sentence came first as often with it as without, 0.81, and
    with it a follow-up is searched in its conversation's context)."""
    previous = next((m.content for m in reversed(history) if m.role == "user"), "")
    text = f"{question} {previous}".strip() if previous else question
    return Query(
        question=question,
        searches=(SearchText(text, (), ()),),
        answer_type=expected_type(question),
        names=tuple(anchors(question)),
        topic_stems=frozenset(),
        language=language,
    )


class MultilingualSearch:
    """e5 search over the passages of one index version, and the decision to answer."""

    def __init__(
        self,
        passages: Sequence[Passage],
        vectors: np.ndarray,
        embedder: MultilingualEmbedder,
        model: MultilingualModel,
        acronyms: Acronyms,
        candidates: int = 20,
    ) -> None:
        self.passages = passages
        #: Which acronyms the documents spell out (the English retriever's, shared).
        self.acronyms = acronyms
        self.vectors = ExactVectors(np.ascontiguousarray(vectors, dtype=np.float32))
        self.embedder = embedder
        self.model = model
        self.candidates = candidates

    @cached_property
    def context(self) -> PassageContext:
        """Windows over the e5 vectors: built on the first multilingual question, so an
        English-only process never pays for it."""
        return PassageContext.of(self.passages, self.vectors.matrix)

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        """Every word of the documents, lower-cased (for the question's anchors)."""
        return frozenset(w for p in self.passages for w in words(p.text))

    @cached_property
    def _rows(self) -> dict[str, int]:
        return {p.id: i for i, p in enumerate(self.passages)}

    @cached_property
    def _moments(self) -> tuple[np.ndarray, np.ndarray]:
        """The passages' mean vector and second-moment matrix (384 × 384): with them the mean
        and spread of a question's cosines to every passage cost the same at any corpus size."""
        matrix = self.vectors.matrix.astype(np.float64)
        return matrix.mean(0), matrix.T @ matrix / max(len(matrix), 1)

    def standing(self, text: str, evidence: Sequence[Evidence]) -> np.ndarray:
        """How e5 rates each candidate for an English question: its cosine to the question as
        a z-score over every passage (e5 cosines sit in a narrow band that moves with the
        question, so only where a sentence stands among the others says something). The
        English ranker's second opinion (:func:`assistant.ranking.ordered`). The mean and
        variance of the cosines come from :attr:`_moments` (q·m and qᵀMq − (q·m)²), not
        from scanning every passage."""
        vector = self.embedder.embed_query(text)
        mean_vector, second_moment = self._moments
        query = vector.astype(np.float64)
        mean = float(query @ mean_vector)
        spread = math.sqrt(max(float(query @ second_moment @ query) - mean * mean, 1e-12))
        rows = [self._rows[e.passage.id] for e in evidence]
        return (np.asarray(self.vectors.similarities(vector, rows)) - mean) / max(spread, 1e-6)

    def retrieve(self, search: SearchText, exclude: Collection[str] = ()) -> list[Evidence]:
        """Candidates best first by ``cosine + window_weight × window cosine``."""
        if not self.passages:
            return []
        vector = self.embedder.embed_query(search.text)
        rows = dict.fromkeys(self.vectors.nearest(vector, self.candidates + len(exclude)))
        rows.update(dict.fromkeys(self.context.neighbours(list(rows)[:NEIGHBOURS_OF])))
        kept = [r for r in rows if self.passages[r].id not in exclude]
        dense = self.vectors.similarities(vector, kept)
        window, prefix, document = self.context.similarities(vector, kept, self.vectors)
        evidence = [
            Evidence(
                passage=self.passages[row],
                score=dense[i] + self.model.window_weight * window[i],
                dense=dense[i],
                window=window[i],
                prefix=prefix[i],
                document=document[i],
            )
            for i, row in enumerate(kept)
        ]
        evidence.sort(key=lambda e: (-e.score, e.passage.source, e.passage.start))
        return evidence

    def unknown_anchors(self, query: Query) -> tuple[str, ...]:
        """The question's Latin-script words and numbers the documents never use (an acronym
        is used when they spell it out)."""
        return tuple(
            n
            for n in query.names
            if n.casefold() not in self.vocabulary and not self.acronyms.known(n)
        )

    def veto(self, query: Query, best: Evidence) -> str | None:
        """Why the documents can't answer, before any score: a name or number of the question
        they never use; an asked-for kind of answer (time, number, name) the best sentence
        lacks. Each fired on none of the answerable tune questions (``python -m
        evaluation.fit_multilingual`` prints how often on each side)."""
        if self.unknown_anchors(query):
            return "unknown_names"
        asked = query.answer_type
        if asked is not None and not answers_of(asked, best.passage.text):
            return "type_missing"
        return None

    def features(self, query: Query, evidence: Sequence[Evidence]) -> np.ndarray:
        """The decision's features (:data:`FEATURES`) of the candidates, best first."""
        return np.array([evidence[0].score], dtype=np.float64)

    def rank(self, query: Query, search: SearchText, evidence: Sequence[Evidence]) -> Ranked:
        """The candidates with their shares (a softmax of their scores) and the decision's
        probability that the best one answers."""
        top = list(evidence[:CANDIDATES])
        unknown = self.unknown_anchors(query)
        if not top:
            return Ranked(search, [], [], 0.0, unknown)
        scores = np.array([e.score for e in top])
        shares = np.exp((scores - scores.max()) / self.model.temperature)
        shares /= shares.sum()
        vetoed = self.veto(query, top[0])
        confidence = 0.0 if vetoed else self.model.confidence(self.features(query, top))
        return Ranked(
            search,
            [replace(e, score=float(p)) for e, p in zip(top, shares, strict=True)],
            shares.tolist(),
            confidence,
            unknown,
            vetoed_by=vetoed,
            lacks_asked_type=vetoed == "type_missing",
        )
