#!/usr/bin/env python
"""Start-up: time from ``python app.py serve`` to the first 200 on ``/healthz`` (index present),
and the serving process's peak RSS (``VmHWM`` in /proc/PID/status) after answering a question.

    python benchmarks/startup.py [--runs 3] [--json] [--check]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    add_common_args,
    app_server,
    ensure_default_index,
    finish,
    peak_rss_mb,
    print_table,
)

TARGET_SECONDS = 25.0
TARGET_RSS_MB = 1536.0


def one_run() -> dict:
    import httpx

    with app_server() as server:
        ready_s = server.wait_healthy()
        r = httpx.post(
            server.url + "/api/ask",
            json={"question": "How many agreements were signed?", "history": []},
            timeout=30,
        )
        return {
            "ready_s": ready_s,
            "ask_status": r.status_code,
            "peak_rss_mb": peak_rss_mb(server.proc.pid),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="cold starts to time (1–10)")
    add_common_args(parser)
    args = parser.parse_args(argv)

    ensure_default_index()
    rows = [one_run() for _ in range(max(1, min(args.runs, 10)))]
    print_table(rows, "Server start-up to first healthy /healthz")
    worst_s = max(r["ready_s"] for r in rows)
    worst_rss = max(r["peak_rss_mb"] for r in rows)
    targets = {
        "ready <= 25 s": (worst_s <= TARGET_SECONDS, f"{worst_s:.1f} s (slowest run)"),
        "peak RSS <= 1.5 GB": (worst_rss <= TARGET_RSS_MB, f"{worst_rss:,.0f} MB"),
        "first answer is HTTP 200": (all(r["ask_status"] == 200 for r in rows), ""),
    }
    return finish(args, {"runs": rows, "ready_s": worst_s, "peak_rss_mb": worst_rss}, targets)


if __name__ == "__main__":
    sys.exit(main())
