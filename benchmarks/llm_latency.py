#!/usr/bin/env python
"""Latency of the LLM answerer: time to the first checked sentence and to the whole answer,
with SmolLM2-135M under ``python -m llama_cpp.server`` on loopback (or ``--url`` for another
OpenAI-compatible server), over the dev questions; the extractive path on the same questions
for reference (the LLM path is not held to the 15 ms target).

    python benchmarks/llm_latency.py [--threads 1] [--url http://127.0.0.1:8080/v1 --model m]
                                     [--json]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO_ROOT, percentile, print_table

from assistant import Settings, build_assistant, load_embedder
from evaluation.questions import load_jsonl
from ingest import ingest
from tests.servers import ServerProcess, llama_server, wait_generating

DEV_QUESTIONS = REPO_ROOT / "tests" / "data" / "dev_questions.jsonl"


def measure(assistant, questions: list[str]) -> dict[str, float | int]:
    first, total, written, fell_back = [], [], 0, 0
    for question in questions:
        started = time.perf_counter()
        answer = assistant.ask(question)  # streams inside, timing the first checked sentence
        total.append((time.perf_counter() - started) * 1000)
        if answer.first_sentence_ms is not None:
            first.append(answer.first_sentence_ms)
        written += answer.answerer == "llm"
        fell_back += answer.fallback is not None
    return {
        "questions": len(questions),
        "llm_written": written,
        "fell_back": fell_back,
        "first_sentence_p50_ms": percentile(first, 50),
        "first_sentence_p95_ms": percentile(first, 95),
        "answer_p50_ms": percentile(total, 50),
        "answer_p95_ms": percentile(total, 95),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads (default 1)")
    parser.add_argument("--url", help="an OpenAI-compatible /v1 instead of starting llama.cpp")
    parser.add_argument("--model", default="smollm2")
    args = parser.parse_args()
    questions = [q.question for q in load_jsonl(DEV_QUESTIONS)[0] if not q.history]
    with tempfile.TemporaryDirectory() as tmp:
        base = Settings(index_dir=Path(tmp) / "index", feedback_db=Path(tmp) / "fb")
        embedder = load_embedder(base)
        ingest(base, embedder)
        rows = [{"path": "extractive", **measure(build_assistant(base, embedder), questions)}]
        server: ServerProcess | None = None
        url = args.url
        if url is None:
            server = llama_server(args.threads)
            wait_generating(server, 120)
            url = server.url + "/v1"
        try:
            settings = base.model_copy(
                update={"answerer": "llm", "llm_base_url": url, "llm_model": args.model}
            )
            llm = build_assistant(settings, embedder)
            llm.ask(questions[0])  # warm: the first call loads the client and the prompt cache
            rows.append({"path": f"llm ({args.threads} thread)", **measure(llm, questions)})
        finally:
            if server is not None:
                server.stop()
    print_table(rows, "LLM answerer latency (dev questions, ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
