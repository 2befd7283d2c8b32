"""The answer model: which retrieved sentence answers the question, and whether any does.

One logistic model scores each candidate sentence from measured features (similarities of
the sentence, its window and its document; BM25; how much of the question it covers; whether
it offers an answer of the asked-for kind; names and words of the question the documents never
use, and whether those words draw the question to the sentence, as a paraphrase of it does, or
away, as a detail it doesn't give does). Candidates are ranked by its probability, and the
question is answered only when the best one reaches the threshold. When the ranker is unsure
of its best, a second ranker with multilingual-e5's view of each candidate orders them
instead (:func:`ordered`). Weights and threshold are
fitted on the *tune* halves of our question sets by ``python -m evaluation.fit_answer_model``
and kept in ``answer_model.json`` beside this file, with the figures they reached.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from assistant import countries
from assistant.answer_type import offers_new_answer
from assistant.lexicon import Lexicon
from assistant.query import Query, SearchText
from assistant.question_words import FRAMING_STEMS
from assistant.types import Evidence
from vectorstore.analysis import Acronyms, stem, stems, words
from vectorstore.lexical import BM25Index

MODEL_FILE = Path(__file__).with_name("answer_model.json")

FEATURES = (
    "dense",
    "window",
    "context_dense",
    "document",
    "lexical",
    "dense_gap",
    "coverage",
    "context_coverage",
    "matched",
    "context_matched",
    "focus",
    "context_focus",
    "context_coverage_gap",
    "context_focus_gap",
    "document_coverage",
    "refers_back",
    "has_type",
    "type_match",
    "novelty",
    "set_aside",
    "unknown_names",
    "unknown_places",
    "absent_terms",
    "unmatched",
    "absent_pull",
    "beyond_lead",
    "last_answer",
    "continues",
)
#: What the decision to answer looks at: the ranker's best probability, its margin over the
#: second, and a few of the best candidate's features (few: the decision is fitted on a
#: couple of hundred questions).
DECISION_FEATURES = (
    "best",
    "margin",
    "window",
    "context_coverage",
    "context_matched",
    "document_coverage",
    "focus",
    "novelty",
    "type_missing",
    "unknown_names",
    "unknown_places",
    "absent_terms",
    "absent_far",
    "unmatched",
    "absent_pull",
)
#: The second opinion's extra feature: e5's standing of a candidate (:func:`ordered`).
SECOND_OPINION = "e5"
#: The ranker's best probability below which the second opinion is asked (:func:`ordered`):
#: on tune (one file left out at a time) 0.5 kept all of asking it always (0.4 lost 4
#: gold-first answers of 454; 0.45 kept them, but "Which international forum …" sits at 0.453).
UNSURE = 0.5
#: The decision's confidence in the ranker's best below which the second opinion isn't asked:
#: such a question is refused whatever the order (on tune, one file left out at a time, no
#: answer lost; e5 asked for 18% of questions instead of 23%).
HOPELESS = 0.05
#: A runner-up that offers the asked-for kind of answer the best lacks goes first with this
#: share of the best's probability (:func:`best_first`).
TYPED_RUNNER_UP = 0.5
#: Candidates the model scores (the fused ranking's best).
CANDIDATES = 10
#: Passages whose analysis is kept between questions.
VIEWS_CACHED = 50_000


@dataclass(frozen=True)
class Logistic:
    weights: tuple[float, ...]
    bias: float

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        z = features @ np.asarray(self.weights) + self.bias
        return 1.0 / (1.0 + np.exp(-z))


@dataclass(frozen=True)
class AnswerModel:
    """Two logistic models: the ranker (is this candidate the answer?) over :data:`FEATURES`,
    and the decision (does the best one answer the question?) over
    :data:`DECISION_FEATURES`, with the probability the decision needs; and the *second
    opinion*, a ranker over :data:`FEATURES` and e5's view of each candidate
    (:data:`SECOND_OPINION`), asked only when the first is unsure (:func:`ordered`)."""

    ranker: Logistic
    decision: Logistic
    threshold: float
    second_opinion: Logistic | None = None

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> AnswerModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        ranker, decision = data["ranker"], data["decision"]
        second = data.get("second_opinion")
        if (
            tuple(ranker["features"]) != FEATURES
            or tuple(decision["features"]) != DECISION_FEATURES
            or (second is not None and tuple(second["features"]) != (*FEATURES, SECOND_OPINION))
        ):
            raise ValueError(f"{path} was fitted for other features: refit it")
        return cls(
            Logistic(tuple(ranker["weights"]), float(ranker["bias"])),
            Logistic(tuple(decision["weights"]), float(decision["bias"])),
            float(data["threshold"]),
            Logistic(tuple(second["weights"]), float(second["bias"])) if second else None,
        )

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """The ranker's probability that each candidate (row of features) is the answer, among
        these candidates (a softmax of its scores)."""
        return _softmax(features, self.ranker)

    def second_probabilities(self, features: np.ndarray, e5: np.ndarray) -> np.ndarray:
        """The second opinion's probabilities: :meth:`probabilities` with e5's standing of
        each candidate as one more feature."""
        assert self.second_opinion is not None
        return _softmax(np.hstack([features, e5.reshape(-1, 1)]), self.second_opinion)

    def confidence(self, features: np.ndarray, probabilities: np.ndarray) -> float:
        """The decision's probability that the best candidate (row 0) answers; 0 when a veto
        (:func:`veto`) says the documents can't."""
        if veto(features) is not None:
            return 0.0
        return float(self.decision.probabilities(decision_row(features, probabilities)[None, :])[0])


def _softmax(features: np.ndarray, ranker: Logistic) -> np.ndarray:
    if not len(features):
        return np.zeros(0)
    z = features @ np.asarray(ranker.weights)
    e = np.exp(z - z.max())
    return e / e.sum()


def ordered(
    model: AnswerModel, features: np.ndarray, e5: Callable[[], np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray, bool, float]:
    """The candidates' order (:func:`best_first`) and probabilities, whether the second
    opinion gave them, and the decision's confidence in the best.

    When the ranker's likeliest candidate has less than :data:`UNSURE` probability and e5's
    view of the candidates is at hand (``e5``: their cosines to the question in
    multilingual-e5-small, as z-scores over every passage), the second opinion ranks
    instead: e5 was trained on other pairs than MiniLM and ranks other paraphrases right
    ("On the money and business side of the talks, what were the main topics?" → "*Economic*
    discussions focused on …"). Leaving one tune file out at a time, right answers and
    refusals 0.811 → 0.822 and gold first 333 → 348 of the answerable, asked for 23% of tune
    questions (for all of them: 0.825 and 348). An e5 query costs 18–42 ms here (it grows with
    the question's length), so it is asked only where it may help: not when the decision
    finds the ranker's best hopeless (:data:`HOPELESS`), which asks it for 18% of tune
    questions and keeps all of the gain. The second opinion reorders but doesn't answer what
    the ranker's own best would refuse: the confidence is the lower of the two bests' (on
    tune, 727 → 729 of 772 right: "What did the leaders say about climate change?" is
    refused again)."""
    probabilities = model.probabilities(features)
    order = best_first(features, probabilities)
    if not len(order):
        return order, probabilities, False, 0.0
    confidence = model.confidence(features[order], probabilities[order])
    unsure = probabilities[order[0]] < UNSURE
    if not unsure or e5 is None or model.second_opinion is None or confidence < HOPELESS:
        return order, probabilities, False, confidence
    probabilities = model.second_probabilities(features, e5())
    order = best_first(features, probabilities)
    second = model.confidence(features[order], probabilities[order])
    return order, probabilities, True, min(confidence, second)


def veto(features: np.ndarray) -> str | None:
    """Why the best candidate (row 0 of the candidates' features) can't answer, if it can't:
    no candidate holds any term of the question, as itself or as a word that means it
    ("What's the recipe for kimchi?"), so nothing in the documents grounds an answer. Measured
    on the tune sets (``python -m evaluation.fit_answer_model`` prints how often it fires on
    answerable and unanswerable questions). It was left to the decision at first: it is rare
    in tune (5 questions), so the fitted logistic extrapolated and answered the kimchi
    question from the window and absent-word features (0.72); as a veto, one tune file left
    out at a time, right 0.822 → 0.828. The other signs of no answer were vetoes too and are
    the decision's features now: an asked-for kind of answer the best sentence lacks, words
    the documents never use while no passage is close (5-fold CV on tune, right 0.842 →
    0.860, three seeds agree), and names the documents never use: as a veto that one refused
    13 answerable tune questions of 66 it fired on once an author wrote in newsroom jargon
    ("*Zhongnanhai*'s closing message", "How many *MOUs* …", "*FX* line"); as a feature,
    twelve held-out files 498 → 504 of 587 right, unanswerable refused 100 → 100 of 142."""
    if not (features[:, FEATURES.index("context_matched")] > 0).any():
        return "nothing_matched"
    return None


def best_first(features: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """The candidates' order: by probability, save that when the likeliest lacks the kind of
    answer the question asks for ("How long was the *meeting*?" ranks "The *meeting* aimed
    …" first) and one of the next two offers it ("… a *100-minute* summit …") with at least
    :data:`TYPED_RUNNER_UP` of its probability, that one comes first."""
    order = np.argsort(-probabilities, kind="stable")
    if not lacks_asked_type(features[order]):
        return order
    for i in order[1:3]:
        typed = features[i][FEATURES.index("type_match")] > 0
        if typed and probabilities[i] >= TYPED_RUNNER_UP * probabilities[order[0]]:
            return np.array([i, *(j for j in order if j != i)])
    return order


def lacks_asked_type(features: np.ndarray) -> bool:
    """True when the question asks for a kind of answer (a count, a sum, a time, a length, a
    name) the best candidate doesn't offer (what a refusal then says)."""
    best = features[0]
    return bool(best[FEATURES.index("has_type")] > 0 and best[FEATURES.index("type_match")] == 0)


def decision_row(features: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """The decision's features from the candidates' features and probabilities, best first."""
    best = features[0]
    second = probabilities[1] if len(probabilities) > 1 else 0.0
    pick = {name: best[FEATURES.index(name)] for name in FEATURES}
    pick["best"], pick["margin"] = probabilities[0], probabilities[0] - second
    pick["type_missing"] = pick["has_type"] * (1.0 - pick["type_match"])
    # Far from every passage while using words the documents never do ("the *population* of
    # Seoul"): how far below a similarity of 0.45 the best passage is, when words are absent.
    pick["absent_far"] = float(pick["absent_terms"] > 0) * max(0.0, 0.45 - pick["dense"])
    return np.array([pick[name] for name in DECISION_FEATURES], dtype=np.float64)


@dataclass(frozen=True)
class Ranked:
    """A search's candidates best first, each with its probability of answering."""

    search: SearchText
    evidence: list[Evidence]
    probabilities: list[float]
    #: The decision's probability that the best candidate answers the question.
    confidence: float = 0.0
    #: Why the best candidate isn't enough, when it isn't (names or words never used).
    unknown_names: tuple[str, ...] = ()
    absent_words: tuple[str, ...] = ()
    #: The veto that refused the best candidate, if one did (:func:`veto`).
    vetoed_by: str | None = None
    #: Whether the best candidate lacks the kind of answer the question asks for.
    lacks_asked_type: bool = False
    #: Whether the second opinion (e5) ordered the candidates (:func:`ordered`).
    second_opinion: bool = False


@dataclass(frozen=True)
class _DocumentStems:
    #: Every stem of the document.
    every: frozenset[str]
    #: The stems of its first sentence, the lead, which names what it is about.
    lead: frozenset[str]


@dataclass(frozen=True)
class _Views:
    text: str
    own: set[str]
    own_words: list[str]
    context: set[str]
    context_words: list[str]
    refers_back: bool


#: Determiners and pronouns that make a sentence lean on the one before it.
_REFERRING = frozenset("this these those such it its they their them he his she her".split())


#: Pronouns that, as a sentence's subject, stand for someone named before.
_SUBJECT_PRONOUNS = frozenset("it they he she".split())
#: How far into a sentence its subject may come after an opening phrase ("Despite
#: differences, *they* agreed …").
_SUBJECT_WITHIN = 4


def opens_leaning(sentence_words: Sequence[str]) -> bool:
    """True when a sentence opens with a pronoun or determiner that points back ("This
    system …", "It …"), has "also" among its first words ("He also noted …"), or has a
    pronoun for its subject after a short opening phrase ("Despite differences, they …")."""
    head = sentence_words[:3]
    return bool(
        (head and head[0] in _REFERRING)
        or "also" in head
        or _SUBJECT_PRONOUNS & set(sentence_words[:_SUBJECT_WITHIN])
    )


def refers_back_to_before(sentence_words: Sequence[str]) -> bool:
    """True when a sentence opens leaning on the one before, or uses "this/these/such …"."""
    return opens_leaning(sentence_words) or any(
        w in ("these", "this", "those", "such") for w in sentence_words
    )


def read_with_before(sentence_words: Sequence[str]) -> bool:
    """Whether ranking reads a sentence with the paragraph before it: when it refers back
    (:func:`refers_back_to_before`) or opens on a definite description ("The move came
    during …", "The company said …"), which points back as a pronoun does (blind set 0.639 →
    0.674 correct, held-out summit 0.835 → 0.857; one hard negative more answered on each of
    three tune sets). Only for reading: the answer quotes a sentence after the best one when
    it opens leaning on it (:func:`opens_leaning`)."""
    return refers_back_to_before(sentence_words) or sentence_words[:1] == ["the"]


class Features:
    """Computes the model's features of candidates for one question over one index."""

    def __init__(
        self,
        vocabulary: BM25Index,
        lexicon: Lexicon,
        before: Callable[[str], str],
        document_sentences: Callable[[str], Sequence[str]],
        acronyms: Acronyms,
    ) -> None:
        self.vocabulary = vocabulary
        self.lexicon = lexicon
        self.acronyms = acronyms
        #: passage id → the text of its paragraph before it.
        self.before = before
        #: source → its sentences in order (for the terms it and its lead hold).
        self.document_sentences = document_sentences
        self._documents: dict[str, _DocumentStems] = {}
        self._views: dict[str, _Views] = {}

    def document_stems(self, source: str) -> _DocumentStems:
        """The stems of a document and of its lead (built once per document, on first use)."""
        cached = self._documents.get(source)
        if cached is None:
            sentences = self.document_sentences(source)
            cached = self._documents[source] = _DocumentStems(
                every=frozenset(stems(" ".join(sentences))),
                lead=frozenset(stems(sentences[0])) if sentences else frozenset(),
            )
        return cached

    def _idf_of(self, df: int) -> float:
        n = self.vocabulary.size
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def idf(self, term: str) -> float:
        postings = self.vocabulary.postings.get(term)
        return self._idf_of(0 if postings is None else len(postings[0]))

    def unknown_names(self, query: Query) -> tuple[str, ...]:
        """Names (and numbers) of the question the documents never use: not as themselves,
        not spelled out (an acronym), not through the country a demonym or a capital stands
        for ("American" → US, "Pyongyang" → North Korea), not as an acronym of what they
        name otherwise (WordNet's "PRC" and "DPRK"; a country's initials, "ROK")."""
        return tuple(n for n in query.names if not self._known(n))

    def _known(self, name: str) -> bool:
        word = name.casefold()
        if stem(word) in self.vocabulary:
            return True
        if self.acronyms.known(name):
            return True
        lexicon = self.lexicon
        others = lexicon.stands_for(word) | lexicon.other_names(name) | countries.named_by(name)
        return any(all(stem(w) in self.vocabulary for w in words(other)) for other in others)

    def never_used(self, query: Query, search: SearchText) -> frozenset[str]:
        """Stems of the search's terms the documents never use: not acronyms they spell out,
        nor words carried from an earlier turn (judged with it; counting them refused 6 of
        17 follow-ups of a tune set, "never mention 'brought shipbuilder'"), nor the words
        that frame a question with no topic words ("How *long* did the talks *last*?")."""
        terms = search.topic_stems or search.stems
        carried = set(search.topic_stems) - query.topic_stems
        absent = {t for t in terms if t not in self.vocabulary} - carried - query.asked_class
        if not search.topic_stems:
            absent -= FRAMING_STEMS
        return frozenset(absent - search.spelled_out(self.acronyms, absent))

    def absent_words(self, query: Query, search: SearchText) -> tuple[str, ...]:
        """Words of the search whose stems the documents never use (what a refusal names)."""
        absent = self.never_used(query, search)
        return tuple(dict.fromkeys(w for w in words(search.text) if stem(w) in absent))

    def matrix(self, query: Query, search: SearchText, evidence: Sequence[Evidence]) -> np.ndarray:
        """One row of :data:`FEATURES` per candidate.

        Three views of a candidate: its own words; its *context* — itself plus the paragraph
        before it when it refers back ("It also reflects …", "support for these efforts"),
        else itself; and its document. Question terms are weighted by IDF, and for *focus*
        also by how few candidates hold them: the words every candidate shares name the
        topic, the rest what is asked ("Who *chaired* the APEC trade ministers' meeting?").
        *beyond_lead* is the share of the terms its document's lead doesn't hold that a
        candidate holds: the lead names the article's topic ("Hanwha Ocean said on Tuesday it
        had won an order …"), so a later sentence that holds what else the question asks
        ("*Chief executive* Park Jae-won told reporters …") is the likelier answer. Leaving
        one tune file out at a time, right answers and refusals 0.793 → 0.815, six of eight
        files better (only when the lead holds a term of the question: 0.803; half: 0.796).
        *last_answer* marks the sentence the last answer led with, for a question that leans on
        the conversation: a follow-up seldom asks for it again (its fitted weight is negative);
        one tune file left out at a time, 0.810 → 0.815 (the sentence after it as a feature
        too: no better; its paragraph: 0.810). *continues* marks, for a question asking for
        more ("what else …"), a sentence right after one an earlier answer led with
        (``Query.continuing``): "What else did he note?" → "He also noted …" (tune: "what
        else" follow-ups 0 → 2 of 5 right; all nine held-out files 398 → 403 right).
        *unknown_places* counts the names the documents never use that WordNet knows as a
        place or a demonym ("Japan", "Tokyo", "Japanese"; :meth:`Lexicon.is_place`): on tune,
        such names were in 17 unanswerable questions and 2 answerable ones, the other unknown
        names in 36 and 11 ("*Zhongnanhai*'s closing message"); fitted weights −2.07 and
        −1.29; twelve held-out files 504 → 505 of 587 right, 365 → 368 first, 100 → 98 refused.
        """
        terms = search.topic_stems or search.stems
        term_words = search.topic_words if search.topic_stems else search.stems
        idf = [self.idf(t) for t in terms]
        views = [self.views(e.passage.id, e.passage.text) for e in evidence]
        focus = [
            w * math.log1p(len(views) / (1.0 + sum(t in v.own for v in views)))
            for t, w in zip(terms, idf, strict=True)
        ]

        def share(hits: Sequence[bool], weights: Sequence[float] = idf) -> float:
            total = sum(weights)
            return (
                sum(w for w, hit in zip(weights, hits, strict=True) if hit) / total
                if total
                else 0.0
            )

        question_stems = set(search.stems)
        unknown_names = self.unknown_names(query)
        unknown = float(min(len(unknown_names), 3))
        unknown_places = float(min(sum(map(self.lexicon.is_place, unknown_names)), 3))
        absent_stems = self.never_used(query, search)
        never_used = [t in absent_stems for t in terms]
        absent = share(never_used)
        best_dense = max((e.dense for e in evidence), default=0.0)
        wanted = query.answer_type
        # Which terms name the class the question asks for (the same for every candidate).
        naming_class = [t in query.asked_class for t in terms]
        rows = []
        for e, v in zip(evidence, views, strict=True):
            own_hits = [t in v.own for t in terms]
            context_hits = [t in v.context for t in terms]
            context_matched = self._matched(term_words, context_hits, v.context_words, naming_class)
            document = self.document_stems(e.passage.source)
            beyond = [0.0 if t in document.lead else w for t, w in zip(terms, idf, strict=True)]
            rows.append(
                (
                    e.dense,
                    e.window,
                    e.prefix if v.refers_back else e.dense,
                    e.document,
                    e.lexical,
                    e.dense - best_dense,
                    share(own_hits),
                    share(context_hits),
                    share(self._matched(term_words, own_hits, v.own_words, naming_class)),
                    share(context_matched),
                    share(own_hits, focus),
                    share(context_matched, focus),
                    0.0,  # the gaps are filled in below
                    0.0,
                    share([t in document.every for t in terms]),
                    float(v.refers_back),
                    float(wanted is not None),
                    float(
                        wanted is not None
                        and offers_new_answer(wanted, v.text, question_stems, self.lexicon)
                    ),
                    len(v.own - question_stems) / max(len(v.own), 1),
                    float(bool(query.set_aside & v.own)),
                    unknown,
                    unknown_places,
                    absent,
                    share(
                        [
                            never and not hit
                            for never, hit in zip(never_used, context_matched, strict=True)
                        ]
                    ),
                    e.absent_pull,
                    share(context_matched, beyond) if any(beyond) else 0.0,
                    float(e.passage.id in query.last_answer),
                    float(e.passage.id in query.continuing),
                )
            )
        matrix = np.array(rows, dtype=np.float64).reshape(len(rows), len(FEATURES))
        # How each candidate compares with the best of its rivals.
        for gap, of in (
            ("context_coverage_gap", "context_coverage"),
            ("context_focus_gap", "context_focus"),
        ):
            column = matrix[:, FEATURES.index(of)]
            matrix[:, FEATURES.index(gap)] = column - (column.max() if len(column) else 0.0)
        return matrix

    def views(self, passage_id: str, text: str) -> _Views:
        """What a passage's features read of it (the same for every question: cached)."""
        cached = self._views.get(passage_id)
        if cached is None:
            if len(self._views) >= VIEWS_CACHED:
                self._views.clear()
            cached = self._views[passage_id] = self._read(passage_id, text)
        return cached

    def _read(self, passage_id: str, text: str) -> _Views:
        own_words = words(text)
        refers_back = read_with_before(own_words)
        before = self.before(passage_id) if refers_back else ""
        own = set(stems(text))
        return _Views(
            text, own, own_words, own | set(stems(before)), own_words + words(before), refers_back
        )

    def _matched(
        self,
        term_words: Sequence[str],
        hits: Sequence[bool],
        passage_words: Sequence[str],
        naming_class: Sequence[bool],
    ) -> list[bool]:
        """Each term found as itself or as a word that means it (:mod:`assistant.lexicon`);
        a term naming the class the question asks for (``naming_class``) also as a word for
        a kind of it ("Which type of *vessel* …": "nuclear-powered *submarines*")."""
        lexicon = self.lexicon
        return [
            hit
            or lexicon.matches(word, passage_words)
            or (is_class and lexicon.names_a_kind_of(word, passage_words))
            for word, hit, is_class in zip(term_words, hits, naming_class, strict=True)
        ]


def rank(
    model: AnswerModel, features: Features, query: Query, search: SearchText,
    evidence: Sequence[Evidence], e5: Callable[[Sequence[Evidence]], np.ndarray] | None = None,
) -> Ranked:  # fmt: skip
    """The fused ranking's best candidates re-ranked by the model (with its second opinion
    when unsure and ``e5`` can say how the candidates stand), with its confidence."""
    top = list(evidence[:CANDIDATES])
    unknown = features.unknown_names(query)
    if not top:
        return Ranked(search, [], [], 0.0, unknown)
    matrix = features.matrix(query, search, top)
    order, probabilities, second, confidence = ordered(
        model, matrix, None if e5 is None else (lambda: e5(top))
    )
    return Ranked(
        search,
        [replace(top[i], score=float(probabilities[i])) for i in order],
        [float(probabilities[i]) for i in order],
        confidence,
        unknown,
        features.absent_words(query, search),
        veto(matrix[order]),
        lacks_asked_type(matrix[order]),
        second,
    )
