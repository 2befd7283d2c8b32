#!/usr/bin/env python
"""HTTP load: the real server (``app.py serve`` on a free loopback port) under 1–64 clients.

Each level runs for a fixed time: that many threads, each with its own keep-alive httpx
client, post questions (deterministic variants of the dev questions) to ``/api/ask`` back to
back. Reports answers/s, p50/p95/p99 latency and errors (non-200 or transport failures).
The server uses the default index (``make index`` / ``python -m ingest.prepare --index``).

    python benchmarks/load.py [--clients 1,4,16,64] [--seconds 5] [--questions FILE]
                              [--json] [--check]

``--questions`` posts the single-turn questions of a question set instead (the evaluator's
JSONL): on other authors' sets the ranker asks multilingual-e5 for a second opinion on about
a fifth of the questions (18–42 ms each, on at most two copies of the engine at once), so
this is how that cost shows under concurrency.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    add_common_args,
    app_server,
    ensure_default_index,
    finish,
    peak_rss_mb,
    percentile,
    print_table,
)
from latency import load_dev, variants

from evaluation.questions import load_jsonl

TARGET_ANSWERS_PER_S = 50.0
TARGET_P95_MS_16 = 250.0


def run_level(url: str, clients: int, seconds: float, questions: list[str]) -> dict:
    """``clients`` threads posting for ``seconds``; latencies of successful answers only."""
    import httpx

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def worker(n: int) -> None:
        mine: list[float] = []
        bad: list[str] = []
        with httpx.Client(base_url=url, timeout=30.0) as client:
            start.wait()
            i = n
            while time.perf_counter() < stop_at[0] and i < 1_000_000:
                body = {"question": questions[i % len(questions)], "history": []}
                t = time.perf_counter()
                try:
                    r = client.post("/api/ask", json=body)
                    if r.status_code == 200 and "answer" in r.json():
                        mine.append((time.perf_counter() - t) * 1000)
                    else:
                        bad.append(f"HTTP {r.status_code}")
                except httpx.HTTPError as exc:
                    bad.append(type(exc).__name__)
                i += clients
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    start.wait()
    for t in threads:
        t.join(timeout=seconds + 60)
    elapsed = time.perf_counter() - began
    return {
        "clients": clients,
        "answers": len(latencies),
        "answers_per_s": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "errors": len(errors),
        "error_kinds": ", ".join(sorted(set(errors)))[:80],
    }


def _questions(path: Path | None) -> list[str]:
    """The questions posted: the set's single-turn ones, or variants of the dev questions."""
    if path is None:
        return [q.question for q in variants(load_dev(), 240)]
    found, problems = load_jsonl(path)
    if problems:
        raise SystemExit(f"malformed questions in {path}: {problems}")
    return [q.question for q in found if not q.history]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="1,4,16,64", help="concurrency levels")
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each level")
    parser.add_argument(
        "--questions", type=Path, help="a question set (JSONL) instead of the dev variants"
    )
    add_common_args(parser)
    args = parser.parse_args(argv)

    ensure_default_index()
    questions = _questions(args.questions)
    with app_server() as server:
        server.wait_healthy()
        run_level(server.url, 2, 1.0, questions)  # warm-up, not reported
        rows = [
            run_level(server.url, n, args.seconds, questions)
            for n in [int(c) for c in args.clients.split(",") if c]
        ]
        rss = peak_rss_mb(server.proc.pid)
    print_table(rows, f"Load on /api/ask ({args.seconds:g} s per level, loopback)")
    print(f"server peak RSS: {rss:,.0f} MB")

    by_n = {r["clients"]: r for r in rows}
    targets: dict[str, tuple[bool, str]] = {}
    if 64 in by_n:
        targets["0 errors at 64 clients"] = (by_n[64]["errors"] == 0, str(by_n[64]["errors"]))
    if 16 in by_n:
        r = by_n[16]
        targets[">= 50 answers/s at 16 clients"] = (
            r["answers_per_s"] >= TARGET_ANSWERS_PER_S,
            f"{r['answers_per_s']:.1f}/s",
        )
        targets["p95 <= 250 ms at 16 clients"] = (
            r["p95_ms"] <= TARGET_P95_MS_16,
            f"{r['p95_ms']:.0f} ms",
        )
    return finish(args, {"levels": rows, "server_peak_rss_mb": rss}, targets)


if __name__ == "__main__":
    sys.exit(main())
