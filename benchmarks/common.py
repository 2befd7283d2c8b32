"""Shared helpers for the benchmark scripts: percentiles, tables, JSON, ports, servers, memory."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from assistant import configure_offline_env  # noqa: E402
from tests.servers import HOST, app_server, free_port  # noqa: E402,F401 - for the scripts

configure_offline_env()


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def fmt(value: Any) -> str:
    """Numbers rounded for a table; everything else as text."""
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(rows: Sequence[dict[str, Any]], title: str = "") -> None:
    """A plain aligned text table of ``rows`` (dicts sharing keys)."""
    if title:
        print(f"\n{title}")
    if not rows:
        print("(no rows)")
        return
    keys = list(rows[0])
    cells = [[fmt(r.get(k, "")) for k in keys] for r in rows]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    print("  ".join(k.rjust(w) for k, w in zip(keys, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for c in cells:
        print("  ".join(v.rjust(w) for v, w in zip(c, widths, strict=True)))


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")


def report_targets(targets: dict[str, tuple[bool, str]]) -> bool:
    """Print each target as met or missed; True when all are met."""
    print("\nTargets:")
    for name, (met, detail) in targets.items():
        print(f"  [{'met' if met else 'MISSED'}] {name}: {detail}")
    return all(met for met, _ in targets.values())


def finish(
    args: argparse.Namespace, result: dict[str, Any], targets: dict[str, tuple[bool, str]]
) -> int:
    """Print targets (and JSON with ``--json``); the exit code ``--check`` asks for."""
    ok = report_targets(targets)
    result["targets"] = {k: {"met": m, "detail": d} for k, (m, d) in targets.items()}
    result["targets_met"] = ok
    result["machine"] = machine()
    if args.json:
        print(json.dumps(result, default=float))
    return 1 if args.check and not ok else 0


def machine() -> dict[str, Any]:
    """Cores, memory and Python of this machine, for the record."""
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
    }


def proc_status_kb(pid: int, field: str) -> int:
    """A ``kB`` field of /proc/PID/status (``VmHWM`` = peak RSS, ``VmRSS``); 0 when gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_rss_mb(pid: int | None = None) -> float:
    """Peak resident memory of a process (default: this one) in MB."""
    return proc_status_kb(pid or os.getpid(), "VmHWM") / 1024


def dir_size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1024 / 1024


def ensure_default_index() -> None:
    """Make sure the default index exists (``python -m ingest.prepare --index``)."""
    subprocess.run(
        [sys.executable, "-m", "ingest.prepare", "--index"],
        cwd=REPO_ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    """``fn(*args)`` and its wall time in ms."""
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, (time.perf_counter() - t) * 1000
