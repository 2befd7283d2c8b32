"""``python app.py eval``: run a question set through the assistant and write the answers."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from assistant.config import Settings


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.evaluation.questions import QuestionSetError, load_jsonl
    from assistant.service import InvalidQuestion, build_assistant

    try:
        questions, problems = load_jsonl(Path(args.questions))
    except QuestionSetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"warning: skipped {problem}", file=sys.stderr)
    assistant = build_assistant(settings)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "answers.jsonl").open("w", encoding="utf-8") as sink:
        for q in questions:
            try:
                row: dict[str, Any] = assistant.replay(q.history, q.question, id=q.id).to_dict()
            except InvalidQuestion as exc:
                row = {"id": q.id, "question": q.question, "error": str(exc)}
            sink.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(questions)} answer(s) written to {out / 'answers.jsonl'}")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("eval", help="run a question set and write answers")
    p.add_argument("questions", help="question set (.jsonl)")
    p.add_argument("--out", required=True, help="output directory")
    p.set_defaults(handler=cmd_eval)
