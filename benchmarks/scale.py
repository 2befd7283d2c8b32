#!/usr/bin/env python
"""Ingest and query at scale: synthetic corpora of 1, 100, 1,000 and 10,000 documents.

Each document is 2–3 KB of seeded random prose (sentences in paragraphs, 8,000 words
drawn from the model's vocabulary plus common English words), so runs are identical. Each size is
ingested into a fresh temp index by ``ingest.pipeline.ingest`` in its own subprocess (so peak
RSS is per size; ingest includes saving the index snapshot), then the assistant is built
twice (start-up: first from Chroma with the snapshot deleted, then from the snapshot) and
asked questions made of corpus words, in turn with the 1-document corpus in the same process
(host speed drifts over the minutes between sizes, so the ratio compares queries run side by
side). Reports ingest passages/s, index and snapshot size on disk, both start-ups, query
p50/p95, that ratio, the dense search's recall@20 against an exact scan, and peak RSS.

    python benchmarks/scale.py [--sizes 1,100,1000,10000] [--queries 100] [--json] [--check]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import add_common_args, dir_size_mb, finish, peak_rss_mb, percentile, print_table

if TYPE_CHECKING:
    from assistant import Assistant, Settings
    from vectorstore.embeddings import Embedder

TARGET_PASSAGES_PER_S = 150.0
TARGET_QUERY_RATIO = 2.0
COMMON = (
    "the a of and to in that for on with as by at from was were is are has had said "
    "will would after before during about over under between against new government "
    "minister president company market city report officials people year week month"
).split()


def vocabulary(rng: random.Random, size: int = 8000) -> list[str]:
    """``size`` real words drawn from the bundled model's WordPiece vocabulary; some as names.

    Real words tokenise like news text (about one token each), unlike random syllables.
    """
    from vectorstore.embeddings import bundled_model_dir

    lines = (bundled_model_dir() / "vocab.txt").read_text(encoding="utf-8").splitlines()
    pool = sorted({w for w in lines if w.isalpha() and w.isascii() and len(w) >= 3})
    words = rng.sample(pool, min(size, len(pool)))
    return sorted(w.capitalize() if rng.random() < 0.15 else w for w in words)


def sentence(rng: random.Random, vocab: list[str]) -> str:
    n = rng.randint(8, 22)
    words = [rng.choice(COMMON) if rng.random() < 0.4 else rng.choice(vocab) for _ in range(n)]
    if rng.random() < 0.2:
        words.insert(rng.randint(0, n), str(rng.randint(2, 2000)))
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice(".....?!")


def document(rng: random.Random, vocab: list[str]) -> str:
    """2–3 KB of paragraphs (3–6 sentences each) separated by blank lines."""
    target = rng.randint(2048, 3072)
    paragraphs: list[str] = []
    size = 0
    while size < target:
        para = " ".join(sentence(rng, vocab) for _ in range(rng.randint(3, 6)))
        paragraphs.append(para)
        size += len(para) + 2
    return "\n\n".join(paragraphs)[:target].rsplit(" ", 1)[0] + ".\n"


def write_corpus(data_dir: Path, docs: int, seed: int = 1234) -> int:
    """Write ``docs`` documents under ``data_dir``; returns total bytes."""
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    data_dir.mkdir(parents=True, exist_ok=True)
    total = 0
    for i in range(docs):
        text = document(rng, vocab)
        (data_dir / f"doc{i:05d}.txt").write_text(text, encoding="utf-8")
        total += len(text)
    return total


def queries(n: int, seed: int = 99) -> list[str]:
    rng = random.Random(seed)
    vocab = vocabulary(random.Random(1234))
    topics = [" ".join(rng.sample(vocab, rng.randint(2, 4))) for _ in range(n)]
    return [f"What did the report say about {topic}?" for topic in topics]


def dense_recall(
    settings: Settings, embedder: Embedder, questions: list[str], k: int = 20
) -> float:
    """Share of the exact ``k`` nearest passages the dense search proposes (1.0 when it
    scans; below when the HNSW index answers), against a float32 scan of the same vectors."""
    import numpy as np

    from assistant import build_retriever

    retriever = build_retriever(settings, embedder)
    matrix = np.asarray(retriever.vectors.matrix, dtype=np.float32)
    found = []
    for question in questions:
        vector = embedder.embed_query(question)
        truth = set(np.argpartition(-(matrix @ vector), k - 1)[:k].tolist())
        found.append(len(truth & set(retriever.dense.nearest(vector, k))) / k)
    return sum(found) / len(found)


def reference_assistant(root: Path, embedder: Embedder) -> Assistant:
    """The 1-document corpus, ingested and started up under ``root``."""
    from assistant import Settings, build_assistant
    from ingest import ingest

    write_corpus(root / "data", 1)
    settings = Settings(data_dir=root / "data", index_dir=root / "index")
    ingest(settings, embedder)
    return build_assistant(settings, embedder)


#: The figures are the English index's: e5 vectors for 243k passages would take hours. Run with
#: ASSISTANT_MULTILINGUAL=true to measure ingest and start-up with the multilingual index.
os.environ.setdefault("ASSISTANT_MULTILINGUAL", "false")


def run_one(docs: int, n_queries: int) -> dict:
    """Generate, ingest, start up and query one corpus size (in this process)."""
    from assistant import Settings, build_assistant, load_embedder
    from ingest import ingest

    with tempfile.TemporaryDirectory(prefix=f"bench-scale-{docs}-") as tmp_name:
        tmp = Path(tmp_name)
        corpus_bytes = write_corpus(tmp / "data", docs)
        # Ingest embeds with every core (a batch job); queries use the serving default.
        ingest_settings = Settings(
            data_dir=tmp / "data", index_dir=tmp / "index", threads=os.cpu_count() or 1
        )
        t = time.perf_counter()
        report = ingest(ingest_settings, load_embedder(ingest_settings))
        ingest_s = time.perf_counter() - t
        del report.skipped
        settings = Settings(data_dir=tmp / "data", index_dir=tmp / "index")
        embedder = load_embedder(settings)
        snapshot_mb = dir_size_mb(settings.snapshot_options.root)
        shutil.rmtree(settings.snapshot_options.root)  # ingest saved it; time a start-up without it
        t = time.perf_counter()
        build_assistant(settings, embedder)  # reads Chroma, builds BM25 (+HNSW), saves it again
        startup_s = time.perf_counter() - t
        t = time.perf_counter()
        assistant = build_assistant(settings, embedder)  # loads the snapshot
        snapshot_startup_s = time.perf_counter() - t
        # The 1-document corpus again, queried in turn with this size so that the ratio
        # compares like with like: host speed drifts over the minutes between sizes.
        reference = reference_assistant(tmp / "reference", embedder)
        qs = queries(n_queries + 5)
        for q in qs[:5]:
            assistant.ask(q)
            reference.ask(q)
        times: list[float] = []
        reference_times: list[float] = []
        deadline = time.perf_counter() + 120
        for i, q in enumerate(qs[5:]):
            if time.perf_counter() > deadline:
                break
            pairs = [(assistant, times), (reference, reference_times)]
            for target, bucket in pairs if i % 2 else pairs[::-1]:
                s = time.perf_counter()
                target.ask(q)
                bucket.append((time.perf_counter() - s) * 1000)
        recall = dense_recall(settings, embedder, qs[5:55])
        return {
            "docs": docs,
            "corpus_mb": corpus_bytes / 1024 / 1024,
            "passages": report.added,
            "ingest_s": ingest_s,
            "passages_per_s": report.added / ingest_s,
            "index_mb": dir_size_mb(tmp / "index"),
            "snapshot_mb": snapshot_mb,
            "startup_s": startup_s,
            "snapshot_startup_s": snapshot_startup_s,
            "query_p50_ms": percentile(times, 50),
            "query_p95_ms": percentile(times, 95),
            "reference_p50_ms": percentile(reference_times, 50),
            "ratio_vs_1_doc": percentile(times, 50) / percentile(reference_times, 50),
            "dense_recall_at_20": recall,
            "peak_rss_mb": peak_rss_mb(),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,100,1000,10000", help="document counts")
    parser.add_argument("--queries", type=int, default=100, help="queries per size")
    parser.add_argument("--timeout", type=float, default=3600, help="max seconds per size")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    add_common_args(parser)
    args = parser.parse_args(argv)
    if args.one is not None:
        print(json.dumps(run_one(args.one, args.queries)))
        return 0

    rows = []
    for docs in [int(s) for s in args.sizes.split(",") if s]:
        proc = subprocess.run(
            [sys.executable, __file__, "--one", str(docs), "--queries", str(args.queries)],
            capture_output=True,
            text=True,
            timeout=args.timeout,
        )
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"size {docs} failed")
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print_table(rows[-1:], f"{docs} document(s)")
    print_table(rows, "Scale: ingest, index size, start-up, query latency, peak RSS")

    result = {"sizes": rows}
    slowest = (
        min(r["passages_per_s"] for r in rows if r["passages"] >= 100)
        if any(r["passages"] >= 100 for r in rows)
        else min(r["passages_per_s"] for r in rows)
    )
    targets = {"ingest >= 150 passages/s": (slowest >= TARGET_PASSAGES_PER_S, f"{slowest:.0f}")}
    by_docs = {r["docs"]: r for r in rows}
    if 10000 in by_docs:
        ratio = by_docs[10000]["ratio_vs_1_doc"]
        targets["query p50 10,000 docs <= 2x 1 doc (interleaved)"] = (
            ratio <= TARGET_QUERY_RATIO,
            f"{ratio:.2f}x",
        )
        result["query_ratio_10000_vs_1"] = ratio
    return finish(args, result, targets)


if __name__ == "__main__":
    sys.exit(main())
