"""Run a question set through the assistant and write the four outputs of a run.

Each question is asked in a fresh conversation: its ``history`` turns are replayed through
the assistant first, so a follow-up is judged on the conversation the assistant really had.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from assistant import Answer, Assistant, InvalidQuestion, inert
from evaluation.metrics import Pair, question_metrics
from evaluation.questions import Question
from evaluation.report import render_report
from evaluation.scoring import failure_reasons

RESULT_COLUMNS = (
    "id",
    "question",
    "history",
    "kind",
    "source",
    "scored_as",
    "status",
    "reason",
    "answer",
    "sources",
    "correct",
    "gold_rank",
    "hit@1",
    "hit@3",
    "reciprocal_rank",
    "citation_precision",
    "required_words",
    "answer_chars",
    "latency_ms",
    "failure",
    "answerer",
    "sentences_dropped",
    "fallback",
)


class Progress:
    """A redrawn bar on a terminal; on a pipe or file (CI logs), a plain line every tenth of a
    long set and nothing for a short one, so logs stay readable."""

    LONG_SET = 50

    def __init__(self, total: int, stream: TextIO, width: int = 30) -> None:
        self.total, self.stream, self.width = total, stream, width
        self.tty = stream.isatty()
        self.step = max(1, total // 10) if total >= self.LONG_SET else 0

    def update(self, done: int) -> None:
        if self.tty:
            filled = self.width * done // max(1, self.total)
            bar = "#" * filled + "." * (self.width - filled)
            end = "\n" if done == self.total else ""
            self.stream.write(f"\r[{bar}] {done}/{self.total}{end}")
        elif self.step and (done % self.step == 0 or done == self.total):
            self.stream.write(f"answered {done}/{self.total}\n")
        self.stream.flush()


def ask(assistant: Assistant, question: Question) -> Answer:
    """The assistant's answer; a question it refuses to take becomes an ``error`` answer."""
    try:
        return assistant.replay(question.history, question.question, id=question.id)
    except InvalidQuestion as exc:
        return Answer(
            id=question.id,
            question=question.question,
            search_query="",
            status="error",
            answer=str(exc),
        )


def run(
    assistant: Assistant, questions: Sequence[Question], progress: Progress | None = None
) -> list[Pair]:
    """Every question with its answer, in input order."""
    pairs: list[Pair] = []
    for done, question in enumerate(questions, start=1):
        pairs.append((question, ask(assistant, question)))
        if progress:
            progress.update(done)
    return pairs


def _cell(value: Any) -> Any:
    """CSV text: booleans as true/false, not-applicable as empty, never a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return inert(value)


def result_row(question: Question, answer: Answer) -> dict[str, Any]:
    """One ``results.csv`` row: the answer, where it cites, and the per-question metrics."""
    row = {
        "id": question.id,
        "question": question.question,
        "history": " || ".join(question.history),
        "kind": question.kind,
        "source": question.source,
        "status": answer.status,
        "reason": answer.reason,
        "answer": answer.answer,
        "sources": "; ".join(f"[{c.n}] {c.source}:{c.start}-{c.end}" for c in answer.citations),
        "answer_chars": len(answer.answer),
        "latency_ms": round(answer.latency_ms, 1),
        "failure": "; ".join(failure_reasons(question, answer)),
        "answerer": answer.answerer,
        "sentences_dropped": answer.sentences_dropped,
        "fallback": answer.fallback,
        **question_metrics(question, answer),
    }
    return {name: _cell(row[name]) for name in RESULT_COLUMNS}


def write_outputs(
    out: Path,
    pairs: Sequence[Pair],
    summary: dict[str, Any],
    *,
    title: str,
    problems: Sequence[str] = (),
    gate: Sequence[str] | None = None,
) -> None:
    """answers.jsonl, results.csv, summary.json and report.html in ``out`` (created)."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "answers.jsonl").open("w", encoding="utf-8") as sink:
        for _, answer in pairs:
            sink.write(json.dumps(answer.to_dict(), ensure_ascii=False) + "\n")
    with (out / "results.csv").open("w", encoding="utf-8", newline="") as sink:
        writer = csv.DictWriter(sink, fieldnames=RESULT_COLUMNS)
        writer.writeheader()
        writer.writerows(result_row(q, a) for q, a in pairs)
    (out / "summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out / "report.html").write_text(
        render_report(pairs, summary, title=title, problems=problems, gate=gate),
        encoding="utf-8",
    )
