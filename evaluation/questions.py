"""Question sets: each question, its conversation so far, and what a right answer needs.

Rows are validated strictly (a plain string where a list belongs is accepted as one item),
so a typo in a hand-written set is reported by line number instead of silently scoring
against the wrong gold.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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


def _strings(value: Any, name: str) -> list[str]:
    """A list of non-empty strings (a lone string is one item; null is empty)."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name} must be a list of strings")
    return [v for v in value if v.strip()]


def question_from_row(row: Any, default_id: str) -> Question:
    """One validated :class:`Question` from a parsed row, or a ValueError saying what's wrong."""
    if not isinstance(row, dict):
        raise ValueError("expected a JSON object")
    text = row.get("question")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("question must be a non-empty string")
    qid = row.get("id")
    if qid is None or qid == "":
        qid = default_id
    if not isinstance(qid, str | int) or isinstance(qid, bool):
        raise ValueError("id must be a string or a number")
    answerable = row.get("answerable")
    if answerable is not None and not isinstance(answerable, bool):
        raise ValueError("answerable must be true, false or absent")
    groups = row.get("must_include") or []
    if not isinstance(groups, list):
        raise ValueError("must_include must be a list of lists of strings")
    must_include = [g for g in (_strings(g, "must_include group") for g in groups) if g]
    return Question(
        id=str(qid),
        question=text,
        history=_strings(row.get("history"), "history"),
        answerable=answerable,
        gold=_strings(row.get("gold"), "gold"),
        must_include=must_include,
    )


def unique_ids(
    numbered: Iterable[tuple[int, Question]], problems: list[str], unit: str = "line"
) -> list[Question]:
    """Drop questions whose id was already used (reported), so results can be joined by id."""
    seen: set[str] = set()
    kept: list[Question] = []
    for number, question in numbered:
        if question.id in seen:
            problems.append(f"{unit} {number}: duplicate id {question.id!r}")
            continue
        seen.add(question.id)
        kept.append(question)
    return kept


def read_text(path: Path) -> str:
    """The file's text (a UTF-8 BOM is dropped), or :class:`QuestionSetError`."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionSetError(f"can't read {path}: {exc}") from exc


def load_jsonl(path: Path) -> tuple[list[Question], list[str]]:
    """Questions and the problems of malformed lines (by line number); good lines are kept."""
    numbered: list[tuple[int, Question]] = []
    problems: list[str] = []
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            numbered.append((number, question_from_row(json.loads(line), f"line{number}")))
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: invalid JSON ({exc.msg} at column {exc.colno})")
        except ValueError as exc:
            problems.append(f"line {number}: {exc}")
    return unique_ids(numbered, problems), problems
