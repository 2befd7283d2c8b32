"""Fit the multilingual decision (assistant/multilingual_model.json) on the tune half of the
Korean / Chinese / Japanese question set.

    python -m evaluation.fit_multilingual            # fit on multilingual.tune.jsonl, write
    python -m evaluation.fit_multilingual --report   # the decision on held-out, no fit

Each question runs through the chain up to retrieval (its history replayed through the
assistant first), over ``data/`` ingested with the multilingual index. The softmax temperature
(which decides when the runner-up is quoted too) is the one that quotes gold for the most
answerable tune questions, the lowest among equals. The decision is the English model's
logistic regression on standardised features
(:func:`evaluation.fit_answer_model.fit_standardised`), with label 1 when the question is
answerable and gold is quoted; the threshold is the probability
that maximises the mean of the two rates the issue sets (answered with gold quoted, refused
when unanswerable) on tune, the middle of the best interval. Held-out is never read by the fit.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant import REPO_ROOT, Assistant, Settings, build_assistant, load_embedder
from assistant import multilingual as ml
from evaluation.fit_answer_model import fit_standardised, is_gold, state_after_retrieval
from evaluation.questions import Question, load_questions
from evaluation.scoring import scored_as
from ingest import ingest

SETS = REPO_ROOT / "evaluation" / "sets"
TUNE = SETS / "multilingual.tune.jsonl"
HELDOUT = SETS / "multilingual.heldout.jsonl"
TEMPERATURES = (0.005, 0.01, 0.015, 0.02, 0.03, 0.05)
#: The runner-up is quoted when its share is at least this of the best's (the answerer's rule).
RUNNER_UP = 0.3


@dataclass
class Case:
    """One question: the decision's features, whether it is answerable, the candidates'
    scores and which of them are gold."""

    features: np.ndarray
    #: The veto that refuses it before the decision, if one does.
    vetoed: str | None
    answerable: bool
    scores: np.ndarray
    gold: np.ndarray


def cases(assistant: Assistant, questions: Sequence[Question]) -> list[Case]:
    pipeline = assistant.engine.pipeline
    search = pipeline.multilingual
    if search is None:
        raise SystemExit("the multilingual index is off or missing")
    out = []
    for q in questions:
        kind = scored_as(q)
        if kind == "unscored":
            continue
        state = state_after_retrieval(assistant, q)
        evidence = state.retrieved[0].evidence[: ml.CANDIDATES]
        out.append(
            Case(
                search.features(state.query, evidence),
                search.veto(state.query, evidence[0]) if evidence else "empty",
                kind == "answerable",
                np.array([e.score for e in evidence]),
                np.array([kind == "answerable" and is_gold(q, e) for e in evidence]),
            )
        )
    return out


def quoted_gold(case: Case, temperature: float) -> bool:
    """Whether the answer would quote gold: the best, or the runner-up when close enough."""
    shares = np.exp((case.scores - case.scores.max()) / temperature)
    quoted = [0] + ([1] if len(shares) > 1 and shares[1] >= RUNNER_UP * shares[0] else [])
    return bool(case.gold[quoted].any())


def rates(results: Sequence[tuple[bool, bool, float]], threshold: float) -> dict[str, float]:
    """(answerable, gold quoted, probability) → answered with gold, refused when unanswerable."""
    answerable = [r for r in results if r[0]]
    unanswerable = [r for r in results if not r[0]]
    return {
        "answered_with_gold": round(
            sum(g and p >= threshold for _, g, p in answerable) / max(len(answerable), 1), 4
        ),
        "refused": round(
            sum(p < threshold for *_, p in unanswerable) / max(len(unanswerable), 1), 4
        ),
    }


def best_threshold(results: Sequence[tuple[bool, bool, float]]) -> float:
    """The threshold with the best mean of the two rates: the middle of the lowest run of
    such thresholds (between two observed probabilities, so not on the edge of one)."""
    probabilities = sorted({0.0, 1.0, *(p for *_, p in results)})
    scored = [
        (sum(rates(results, (a + b) / 2).values()), a, b)
        for a, b in itertools.pairwise(probabilities)
    ]
    top = max(s for s, _, _ in scored)
    start = next(i for i, (s, _, _) in enumerate(scored) if s == top)
    end = start
    while end + 1 < len(scored) and scored[end + 1][0] == top:
        end += 1
    return round((scored[start][1] + scored[end][2]) / 2, 4)


def confidence(model: ml.MultilingualModel, case: Case) -> float:
    """The chain's confidence: 0 when a veto fires, else the decision's probability."""
    return 0.0 if case.vetoed else model.confidence(case.features)


def veto_counts(data: Sequence[Case]) -> dict[str, dict[str, int]]:
    """How often each veto fires on answerable and on unanswerable tune questions."""
    counts: dict[str, dict[str, int]] = {}
    for c in data:
        if c.vetoed:
            row = counts.setdefault(c.vetoed, {"answerable": 0, "unanswerable": 0})
            row["answerable" if c.answerable else "unanswerable"] += 1
    return counts


def collect(questions_file: Path, root: Path) -> list[Case]:
    settings = Settings(
        index_dir=root / "index", feedback_db=root / "unused.sqlite3", multilingual=True
    )
    embedder = load_embedder(settings)
    ingest(settings, embedder)
    questions, problems = load_questions(questions_file)
    if problems:
        raise SystemExit(f"{questions_file}: {problems}")
    return cases(build_assistant(settings, embedder), questions)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true", help="held-out figures, no fit")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        data = collect(HELDOUT if args.report else TUNE, Path(tmp))
    if args.report:
        model = ml.MultilingualModel.load()
        results = [
            (c.answerable, quoted_gold(c, model.temperature), confidence(model, c)) for c in data
        ]
        print(json.dumps(rates(results, model.threshold), indent=2))
        return 0
    answerable = [c for c in data if c.answerable]
    temperature = max(TEMPERATURES, key=lambda t: (sum(quoted_gold(c, t) for c in answerable), -t))
    labels = np.array([c.answerable and quoted_gold(c, temperature) for c in data], dtype=float)
    open_ = [i for i, c in enumerate(data) if c.vetoed is None]  # what the decision sees
    weights, bias = fit_standardised(np.array([data[i].features for i in open_]), labels[open_])
    model = ml.MultilingualModel(tuple(weights), bias, 0.5, 0.5, temperature)
    results = [
        (c.answerable, bool(label), confidence(model, c))
        for c, label in zip(data, labels, strict=True)
    ]
    threshold = best_threshold(results)
    document = {
        "decision": {
            "features": list(ml.FEATURES),
            "weights": [round(float(x), 5) for x in weights],
            "bias": round(bias, 5),
        },
        "vetoes": veto_counts(data),
        "threshold": threshold,
        "window_weight": model.window_weight,
        "temperature": temperature,
        "fitted_on": str(TUNE.relative_to(REPO_ROOT)),
        "tune": {"questions": len(data), **rates(results, threshold)},
    }
    ml.MODEL_FILE.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(document, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
