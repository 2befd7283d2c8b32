"""``python app.py eval`` and ``python app.py eval-compare``.

Exit codes: 0 done (and every threshold met), 1 a missed threshold or a runtime failure
(no index), 2 bad usage or unreadable input. Everything that can be checked without the
model (thresholds, input file, the run to compare with) is checked before it loads.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from assistant import Settings

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _err(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def format_summary(summary: dict[str, Any]) -> str:
    """``name  value`` lines for the terminal (undefined metrics as n/a), then a line per
    question kind when the set has kinds."""
    lines = [
        f"{name:<26}{'n/a' if value is None else value}"
        for name, value in summary.items()
        if name != "by_kind"
    ]
    for kind, values in (summary.get("by_kind") or {}).items():
        shown = "  ".join(f"{m} {'n/a' if v is None else v}" for m, v in values.items())
        lines.append(f"  {kind:<24}{shown}")
    return "\n".join(lines)


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from evaluation.compare import CompareError, load_run
    from evaluation.gate import GateError, misses, parse_threshold, skipped_miss
    from evaluation.questions import QuestionSetError, load_questions

    try:
        thresholds = [parse_threshold(t, "min") for t in args.min or []]
        thresholds += [parse_threshold(t, "max") for t in args.max or []]
        if args.allow_skipped < 0:
            raise GateError("--allow-skipped must be 0 or more")
        questions, problems = load_questions(Path(args.questions))
        old = load_run(Path(args.compare)) if args.compare else None
    except (GateError, QuestionSetError, CompareError) as exc:
        _err(str(exc))
        return EXIT_USAGE
    for problem in problems:
        print(f"warning: skipped {problem}", file=sys.stderr)

    from assistant import IndexUnavailable, build_assistant
    from evaluation.metrics import summarize
    from evaluation.runner import Progress, run, write_outputs

    try:
        assistant = build_assistant(settings)
    except IndexUnavailable as exc:
        _err(str(exc))
        return EXIT_FAIL
    pairs = run(assistant, questions, Progress(len(questions), sys.stderr))
    summary = summarize(pairs, n_skipped=len(problems))
    missed = misses(summary, thresholds)
    if thresholds and (skipped := skipped_miss(len(problems), args.allow_skipped)) is not None:
        missed.append(skipped)
    out = Path(args.out)
    try:
        write_outputs(
            out,
            pairs,
            summary,
            title=Path(args.questions).name,
            problems=problems,
            gate=missed if thresholds else None,
        )
    except OSError as exc:
        _err(f"can't write the results to {out}: {exc}")
        return EXIT_USAGE
    print(format_summary(summary))
    print(f"wrote {out}/answers.jsonl, results.csv, summary.json, report.html")
    if old is not None:
        from evaluation.compare import compare_runs, format_comparison

        print()
        print(format_comparison(compare_runs(old, load_run(out)), args.compare, str(out)))
    if missed:
        print(f"gate failed: {'; '.join(missed)}", file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK


def cmd_compare(args: argparse.Namespace, settings: Settings) -> int:
    from evaluation.compare import (
        CompareError,
        compare_runs,
        format_comparison,
        load_run,
    )

    try:
        old, new = load_run(Path(args.old)), load_run(Path(args.new))
    except CompareError as exc:
        _err(str(exc))
        return EXIT_USAGE
    comparison = compare_runs(old, new)
    if args.json:
        data = {
            "deltas": [
                {"metric": name, "old": a, "new": b, "delta": delta}
                for name, a, b, delta in comparison.deltas
            ],
            "passed_by_kind": [
                {"kind": name, "old": a, "new": b, "delta": delta}
                for name, a, b, delta in comparison.kind_deltas
            ],
            "fixed": comparison.fixed,
            "broken": comparison.broken,
        }
        print(json.dumps(data, ensure_ascii=False))
    else:
        print(format_comparison(comparison, args.old, args.new))
    return EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser(
        "eval",
        help="run a question set; write answers, results, summary and an HTML report",
        description="Run a question set (.jsonl or .csv) and score it. "
        "Exit 1 when a --min/--max threshold is missed (or, with a threshold, when input lines "
        "were skipped beyond --allow-skipped), 2 on bad usage or unreadable input.",
    )
    p.add_argument("questions", help="question set (.jsonl or .csv)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument(
        "--min",
        action="append",
        metavar="METRIC=VALUE",
        help="fail (exit 1) when METRIC is below VALUE, e.g. correct=0.9 (repeatable)",
    )
    p.add_argument(
        "--max",
        action="append",
        metavar="METRIC=VALUE",
        help="fail (exit 1) when METRIC is above VALUE, e.g. latency_p95_ms=200 (repeatable)",
    )
    p.add_argument(
        "--allow-skipped",
        type=int,
        default=0,
        metavar="N",
        help="with --min/--max: up to N malformed (skipped) input lines don't fail the gate "
        "(default 0: any skipped line fails it)",
    )
    p.add_argument("--compare", metavar="OLD_DIR", help="also compare with an earlier run")
    p.set_defaults(handler=cmd_eval)

    p = sub.add_parser(
        "eval-compare", help="compare two eval output directories (metric deltas, flips)"
    )
    p.add_argument("old", help="earlier eval output directory")
    p.add_argument("new", help="later eval output directory")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.set_defaults(handler=cmd_compare)
