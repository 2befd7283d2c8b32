#!/usr/bin/env python
"""Command line: ingest documents, ask questions, run question sets, serve the web chat.

    python app.py ingest [PATH ...]          index .txt/.md/.html files (default: data/)
    python app.py ask "QUESTION" [--json]    answer one question with numbered sources
    python app.py eval QUESTIONS --out DIR   run a question set, write answers and metrics
    python app.py eval-compare OLD NEW       what changed between two evaluation runs
    python app.py serve [--host H --port P]  web chat, JSON API and embeddable chat

Exit codes: 0 ok, 1 a failed gate or a runtime error (no usable index, port busy), 2 bad
usage or input (a bad setting, an empty question, another ingest holding the index).
Heavy libraries load inside the commands that need them, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vectorstore import configure_offline_env

configure_offline_env()

from assistant import (  # noqa: E402 - after the offline environment is set
    Answer,
    Settings,
    SettingsError,
    load_settings,
)

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _err(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


# -- ingest -------------------------------------------------------------------------------
def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from assistant import IndexUnavailable, load_embedder
    from ingest import IndexLocked, IngestError, ingest

    try:
        report = ingest(
            settings,
            load_embedder(settings),
            [Path(p) for p in args.paths] or None,
            rebuild=args.rebuild,
            wait=args.wait,
            log=lambda msg: print(msg, file=sys.stderr),
        )
    except IndexLocked as exc:
        _err(f"{exc} The index was not changed by this run.")
        return EXIT_USAGE
    except IngestError as exc:
        _err(f"{exc}. The index was not changed.")
        return EXIT_USAGE
    except IndexUnavailable as exc:
        _err(str(exc))
        return EXIT_FAIL
    print(report.summary())
    return EXIT_OK


# -- ask ----------------------------------------------------------------------------------
def format_answer(answer: Answer) -> str:
    """Human-readable answer with numbered sources (none for a not-found answer)."""
    lines = [answer.answer]
    if answer.reason:
        lines.append(f"({answer.reason})")
    if answer.search_query != answer.question:
        lines.append(f"(searched for: {answer.search_query})")
    if answer.citations:
        lines.append("")
        lines.append("Sources:")
        for c in answer.citations:
            lines.append(f"  [{c.n}] {c.source}:{c.start}-{c.end} (score {c.score:.2f})")
            lines.append(f"      {c.text}")
    return "\n".join(lines)


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from assistant import IndexUnavailable, InvalidQuestion, build_assistant

    question = " ".join(args.question)
    try:
        assistant = build_assistant(settings)
        answer = assistant.replay(args.history or [], question)
    except InvalidQuestion as exc:
        _err(str(exc))
        return EXIT_USAGE
    except IndexUnavailable as exc:
        _err(str(exc))
        return EXIT_FAIL
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False))
    else:
        print(format_answer(answer))
    return EXIT_OK


# -- parser -------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="app.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="index documents into the vector store")
    p.add_argument("paths", nargs="*", help="files or folders (default: the data dir)")
    p.add_argument("--rebuild", action="store_true", help="re-embed everything from scratch")
    p.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for another ingest of the same index to finish (default: exit 2)",
    )
    p.set_defaults(handler=cmd_ingest)

    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question", nargs="+", help="the question")
    p.add_argument("--json", action="store_true", help="print the answer object as JSON")
    p.add_argument(
        "--history",
        action="append",
        metavar="TURN",
        help="an earlier user question of the conversation (repeatable, oldest first)",
    )
    p.set_defaults(handler=cmd_ask)

    from evaluation import register as register_eval
    from web import register as register_web

    register_eval(sub)
    register_web(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        for line in exc.lines:
            _err(line)
        return EXIT_USAGE
    return int(args.handler(args, settings))


if __name__ == "__main__":
    sys.exit(main())
