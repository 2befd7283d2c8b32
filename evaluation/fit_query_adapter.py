"""Fit the query adapter (assistant/query_adapter.npz) on the tune files of our question sets.

    python -m evaluation.fit_query_adapter            # fit on tune, write the adapter
    python -m evaluation.fit_query_adapter --measure  # the figures below, nothing written

Each answerable tune question whose gold sentence is in its corpus is one example: its MiniLM
vector, and the rows of its corpus that are gold (from its document, when it names one); each
unanswerable one asked without history is one too. The adapter ``I + Δ`` is fitted (Adam, full
batch) to three terms: the softmax of each mapped answerable question's cosine to every
sentence of its corpus, at temperature ``TEMPERATURE``, against its gold rows; the
*separation*, a softplus of how far each question's best cosine is on the wrong side of
``MARGIN`` (an answerable one's below it, an unanswerable one's above it); and ``L2 × |Δ|²``.
See ``assistant/query_adapter.py`` for why. Held-out halves are never read by the fit.

Measured (``--measure``): the share of answerable questions whose gold sentence has the
highest plain cosine of its corpus, and the separation's ROC AUC (the chance an answerable
question's best cosine is above an unanswerable one's):
- the ranking term alone, one tune file left out at a time, 462 questions: gold first 0.602
  with no adapter, 0.634 at L2 1.0, 0.736 at 0.1, 0.786 at 0.01; held-out halves (six files,
  253 questions), fitted on all tune: 0.668 -> 0.688 / 0.794 / 0.834;
- with the separation (weight 1, margin 0.5; 0.6 separated less): one file left out, gold
  first 0.779 (360 of 462), AUC within each left-out file 0.701 -> 0.843; held-out gold first
  0.846 (214 of 253), AUC 0.648 -> 0.886;
- across corpora (ranking term alone): fitted on the summit files only, the multi-document
  files (which hold the summit article among ten others) went 0.558 -> 0.587; fitted on the
  multi-document files only, the summit files went 0.646 -> 0.613. It learns the corpus as
  much as the wording, so it is fitted per corpus and can be turned off
  (``ASSISTANT_QUERY_ADAPTER=none``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant import (
    QUERY_ADAPTER_FILE,
    REPO_ROOT,
    Passage,
    QueryAdapter,
    Settings,
    build_assistant,
    load_embedder,
)
from evaluation.questions import Question, load_questions
from evaluation.scoring import gold_passage, scored_as
from ingest import ingest
from vectorstore import Embedder

SETS = REPO_ROOT / "evaluation" / "sets"
MULTIDOC = SETS / "multidoc" / "corpus"
#: (question file, corpus folder or None for data/): every tune file with gold sentences.
TUNE = (
    (SETS / "summit.tune.jsonl", None),
    (SETS / "summit_extra.tune.jsonl", None),
    (SETS / "summit_blind.jsonl", None),
    (SETS / "summit_blind4.tune.jsonl", None),
    (SETS / "summit_blind5.tune.jsonl", None),
    (SETS / "summit_blind6.tune.jsonl", None),
    (SETS / "summit_blind7.tune.jsonl", None),
    (SETS / "summit_blind8.tune.jsonl", None),
    (SETS / "multidoc.tune.jsonl", MULTIDOC),
    (SETS / "multidoc_extra.tune.jsonl", MULTIDOC),
    (SETS / "multidoc_blind4.tune.jsonl", MULTIDOC),
    (SETS / "multidoc_blind5.tune.jsonl", MULTIDOC),
    (SETS / "multidoc_blind6.tune.jsonl", MULTIDOC),
    (SETS / "multidoc_blind7.tune.jsonl", MULTIDOC),
    (SETS / "multidoc_blind8.tune.jsonl", MULTIDOC),
)
HELDOUT = (
    (SETS / "summit.heldout.jsonl", None),
    (SETS / "summit_blind4.heldout.jsonl", None),
    (SETS / "summit_blind5.heldout.jsonl", None),
    (SETS / "summit_blind6.heldout.jsonl", None),
    (SETS / "summit_blind7.heldout.jsonl", None),
    (SETS / "summit_blind8.heldout.jsonl", None),
    (SETS / "summit_blind9.heldout.jsonl", None),
    (SETS / "multidoc.heldout.jsonl", MULTIDOC),
    (SETS / "multidoc_blind4.heldout.jsonl", MULTIDOC),
    (SETS / "multidoc_blind5.heldout.jsonl", MULTIDOC),
    (SETS / "multidoc_blind6.heldout.jsonl", MULTIDOC),
    (SETS / "multidoc_blind7.heldout.jsonl", MULTIDOC),
    (SETS / "multidoc_blind8.heldout.jsonl", MULTIDOC),
    (SETS / "multidoc_blind9.heldout.jsonl", MULTIDOC),
)
L2 = 0.01
TEMPERATURE = 0.05
#: Weight of the separation term: an answerable question's best cosine should reach
#: ``MARGIN``, an unanswerable one's stay under it.
SEPARATION = 1.0
MARGIN = 0.5
STEPS = 300
LEARNING_RATE = 1e-3


@dataclass(frozen=True)
class Examples:
    """One question file's examples over one corpus's sentence vectors."""

    name: str
    corpus: np.ndarray  # (sentences, d), normalised
    queries: np.ndarray  # (questions, d), normalised
    gold: tuple[tuple[int, ...], ...]  # each question's gold rows of ``corpus``
    unanswerable: np.ndarray  # (questions, d): the file's unanswerable questions, no history


def gold_rows(question: Question, passages: Sequence[Passage]) -> tuple[int, ...]:
    return tuple(i for i, p in enumerate(passages) if gold_passage(question, p))


def examples_of(
    questions_file: Path, corpus: np.ndarray, passages: Sequence[Passage], embedder: Embedder
) -> Examples:
    """A question file's answerable questions whose gold sentence ``passages`` hold, and its
    unanswerable ones (those asked without history: a follow-up alone says little)."""
    questions, problems = load_questions(questions_file)
    if problems:
        raise SystemExit(f"{questions_file}: {problems}")
    pairs = [
        (q, rows)
        for q in questions
        if scored_as(q) == "answerable" and (rows := gold_rows(q, passages))
    ]
    queries = np.stack([embedder.embed_query(q.question) for q, _ in pairs]).astype(np.float32)
    negatives = [
        embedder.embed_query(q.question)
        for q in questions
        if scored_as(q) == "unanswerable" and not q.history
    ]
    unanswerable = np.asarray(negatives, dtype=np.float32).reshape(-1, corpus.shape[1])
    gold = tuple(rows for _, rows in pairs)
    return Examples(questions_file.name, corpus, queries, gold, unanswerable)


def collect(
    sets: Sequence[tuple[Path, Path | None]], embedder: Embedder, root: Path
) -> list[Examples]:
    """The examples of each file, each corpus ingested once (into ``root``)."""
    corpora: dict[Path | None, tuple[np.ndarray, list[Passage]]] = {}
    found = []
    for questions_file, corpus in sets:
        if corpus not in corpora:
            here = Settings(
                data_dir=(corpus or Settings().data_dir).resolve(),
                index_dir=root / f"index-{len(corpora)}",
                feedback_db=root / "unused.sqlite3",
                query_adapter=None,
                multilingual=False,
            )
            ingest(here, embedder)
            retriever = build_assistant(here, embedder).engine.retriever
            matrix = np.asarray(retriever.vectors.matrix, dtype=np.float32)
            corpora[corpus] = (matrix, list(retriever.passages))
        found.append(examples_of(questions_file, *corpora[corpus], embedder))
        print(f"{questions_file.name}: {len(found[-1].gold)} questions", file=sys.stderr)
    return found


def fit(data: Sequence[Examples], l2: float = L2) -> QueryAdapter:
    """``I + Δ`` minimising the gold sentences' softmax loss, the separation loss (a softplus
    of how far each question's best cosine is on the wrong side of ``MARGIN``) and
    ``l2 × |Δ|²``."""
    import torch  # the fit's only user of torch; serving needs numpy alone

    torch.manual_seed(0)
    dim = data[0].queries.shape[1]
    delta = torch.zeros(dim, dim, requires_grad=True)
    optimiser = torch.optim.Adam([delta], lr=LEARNING_RATE)

    def mapped(queries: torch.Tensor) -> torch.Tensor:
        moved = queries + queries @ delta.T
        return moved / moved.norm(dim=1, keepdim=True)

    def wrong_side(cosines: torch.Tensor, sign: float) -> torch.Tensor:
        """How far each best cosine is below (sign 1) or above (-1) the margin, softly."""
        best = cosines.max(dim=1).values
        return torch.nn.functional.softplus(sign * (MARGIN - best) / TEMPERATURE).sum()

    tensor = torch.from_numpy
    tensors = [
        (tensor(ex.queries), tensor(ex.corpus), ex.gold, tensor(ex.unanswerable)) for ex in data
    ]
    count = sum(len(ex.gold) for ex in data)
    refused = sum(len(ex.unanswerable) for ex in data)
    for _ in range(STEPS):
        optimiser.zero_grad()
        loss = l2 * (delta**2).sum()
        for queries, corpus, gold, unanswerable in tensors:
            cosines = mapped(queries) @ corpus.T
            loss = loss + SEPARATION * wrong_side(cosines, 1.0) / count
            if len(unanswerable):
                away = mapped(unanswerable) @ corpus.T
                loss = loss + SEPARATION * wrong_side(away, -1.0) / refused
            logits = cosines / TEMPERATURE
            every = torch.logsumexp(logits, dim=1)
            right = torch.stack(
                [torch.logsumexp(logits[i, list(rows)], dim=0) for i, rows in enumerate(gold)]
            )
            loss = loss + (every - right).sum() / count
        loss.backward()
        optimiser.step()
    matrix = np.eye(dim, dtype=np.float32) + delta.detach().numpy()
    about = {
        "l2": l2,
        "temperature": TEMPERATURE,
        "steps": STEPS,
        "separation": SEPARATION,
        "margin": MARGIN,
    }
    return QueryAdapter(matrix, about)


def gold_first(adapter: QueryAdapter | None, data: Sequence[Examples]) -> tuple[int, int]:
    """(questions whose gold sentence has the best cosine of its corpus, questions)."""
    first = 0
    for ex in data:
        for vector, rows in zip(ex.queries, ex.gold, strict=True):
            query = vector if adapter is None else adapter.apply(vector)
            scores = ex.corpus @ query
            first += bool(scores[list(rows)].max() >= scores.max())
    return first, sum(len(ex.gold) for ex in data)


def separation(adapter: QueryAdapter | None, data: Sequence[Examples]) -> float:
    """How well the best cosine tells answerable from unanswerable questions: the chance an
    answerable one's is the higher of a pair (ROC AUC)."""
    best: dict[bool, list[float]] = {True: [], False: []}
    for ex in data:
        for answerable, queries in ((True, ex.queries), (False, ex.unanswerable)):
            for vector in queries:
                query = vector if adapter is None else adapter.apply(vector)
                best[answerable].append(float((ex.corpus @ query).max()))
    yes, no = np.array(best[True])[:, None], np.array(best[False])[None, :]
    return round(float((yes > no).mean() + 0.5 * (yes == no).mean()), 3)


def left_out(data: Sequence[Examples], l2: float = L2) -> dict[str, QueryAdapter]:
    """For each tune file, the adapter fitted on the others (what the answer model's fit
    reads that file's features through, so they look as they will on unseen questions)."""
    return {ex.name: fit([o for o in data if o is not ex], l2) for ex in data}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", action="store_true", help="print figures, write nothing")
    parser.add_argument("--l2", type=float, default=L2)
    args = parser.parse_args(argv)
    embedder = load_embedder(Settings())
    with tempfile.TemporaryDirectory() as tmp:
        tune = collect(TUNE, embedder, Path(tmp))
        heldout = collect(HELDOUT, embedder, Path(tmp) / "heldout") if args.measure else []
    adapter = fit(tune, args.l2)
    figures = {"tune": {"without": gold_first(None, tune), "with": gold_first(adapter, tune)}}
    if args.measure:
        crossed = left_out(tune, args.l2)
        each = [gold_first(crossed[ex.name], [ex]) for ex in tune]
        figures["one_file_left_out"] = {
            "without": gold_first(None, tune),
            "with": (sum(f for f, _ in each), sum(n for _, n in each)),
        }
        # Pairs within each left-out file (its own adapter), averaged over the files.
        crossed_separation = [separation(crossed[ex.name], [ex]) for ex in tune]
        plain_separation = [separation(None, [ex]) for ex in tune]
        figures["separation_one_file_left_out"] = {
            "without": round(float(np.mean(plain_separation)), 3),
            "with": round(float(np.mean(crossed_separation)), 3),
        }
        figures["separation_heldout"] = {
            "without": separation(None, heldout),
            "with": separation(adapter, heldout),
        }
        figures["heldout"] = {
            "without": gold_first(None, heldout),
            "with": gold_first(adapter, heldout),
        }
        print(json.dumps(figures, indent=2))
        return 0
    about = {
        **adapter.about,
        "model": embedder.space,
        "fitted_on": [str(path.relative_to(REPO_ROOT)) for path, _ in TUNE],
        "gold_first": figures,
    }
    QueryAdapter(adapter.matrix, about).save(QUERY_ADAPTER_FILE)
    print(json.dumps(about, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
