"""Question sets: each question, its conversation so far, and what a right answer needs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


class QuestionSetError(ValueError):
    """The question file can't be read at all."""


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    history: list[str] = field(default_factory=list)
    answerable: bool | None = None
    gold: list[str] = field(default_factory=list)
    must_include: list[list[str]] = field(default_factory=list)


def load_jsonl(path: Path) -> tuple[list[Question], list[str]]:
    """Questions and the problems of malformed lines (by line number); good lines are kept."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionSetError(f"can't read {path}: {exc}") from exc
    questions: list[Question] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            questions.append(
                Question(
                    id=str(row.get("id", f"line{number}")),
                    question=str(row["question"]),
                    history=[str(h) for h in row.get("history") or []],
                    answerable=row.get("answerable"),
                    gold=[str(g) for g in row.get("gold") or []],
                    must_include=[
                        [str(a) for a in group] for group in row.get("must_include") or []
                    ],
                )
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            problems.append(f"line {number}: {type(exc).__name__}: {exc}")
    return questions, problems
