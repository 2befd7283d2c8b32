"""Question sets: each question, its conversation so far, and what a right answer needs.

Read from JSONL or CSV, chosen by file extension (:func:`load_questions`). Rows are
validated strictly (a plain string where a list belongs is accepted as one item), so a typo
in a hand-written set is reported by line number instead of silently scoring against the
wrong gold.

CSV exists for people who keep question sets in a spreadsheet. Its columns are
``id, question, history, answerable, gold, must_include, kind, source``; list fields are
flattened: history turns and gold strings are separated by `` || ``, ``must_include`` groups
by ``;`` and the alternatives of a group by ``|``. Only ``question`` is required.
"""

from __future__ import annotations

import csv
import io
import json
import re
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
    #: What the question tests (``paraphrase``, ``follow-up``, ``hard-negative``, …): the
    #: report breaks metrics down by it.
    kind: str | None = None
    #: The document the question is about: only citations from it count as gold.
    source: str | None = None
    #: The question's language (``ko``, ``zh``, ``ja``, …) when the set says: the report
    #: breaks metrics down by it too.
    lang: str | None = None


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
    kind, source = _optional_text(row, "kind"), _optional_text(row, "source")
    return Question(
        id=str(qid),
        question=text,
        history=_strings(row.get("history"), "history"),
        answerable=answerable,
        gold=_strings(row.get("gold"), "gold"),
        must_include=must_include,
        kind=kind,
        source=source,
        lang=_optional_text(row, "lang"),
    )


def _optional_text(row: dict[str, Any], name: str) -> str | None:
    value = row.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    return value.strip()


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
    """The file's text (a UTF-8 BOM is dropped), or :class:`QuestionSetError` when it can't
    be read. Bytes that aren't UTF-8 are kept as lone surrogates (``surrogateescape``) so that
    only the lines holding them are reported (:func:`bad_bytes`), not the whole file."""
    try:
        return path.read_bytes().decode("utf-8-sig", errors="surrogateescape")
    except OSError as exc:
        raise QuestionSetError(f"can't read {path}: {exc.strerror or exc}") from exc


_ESCAPED_BYTE = re.compile(r"[\udc80-\udcff]")


def bad_bytes(text: str, *, column: bool = True) -> str | None:
    """What is wrong with a line (or a CSV cell: ``column=False``) read by :func:`read_text`
    that wasn't UTF-8, else None."""
    found = _ESCAPED_BYTE.search(text)
    if found is None:
        return None
    where = f" at column {found.start() + 1}" if column else ""
    return f"not valid UTF-8 (byte 0x{ord(found.group()) - 0xDC00:02x}{where})"


def load_jsonl(path: Path) -> tuple[list[Question], list[str]]:
    """Questions and the problems of malformed lines (by line number); good lines are kept."""
    numbered: list[tuple[int, Question]] = []
    problems: list[str] = []
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        if (problem := bad_bytes(line)) is not None:
            problems.append(f"line {number}: {problem}")
            continue
        try:
            numbered.append((number, question_from_row(json.loads(line), f"line{number}")))
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: invalid JSON ({exc.msg} at column {exc.colno})")
        except ValueError as exc:
            problems.append(f"line {number}: {exc}")
    return unique_ids(numbered, problems), problems


CSV_COLUMNS = ("id", "question", "history", "answerable", "gold", "must_include", "kind", "source")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
_TURNS = re.compile(r"\s*\|\|\s*")
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


def load_questions(path: Path) -> tuple[list[Question], list[str]]:
    """Questions and per-line problems; :class:`QuestionSetError` when unusable as a whole."""
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return load_jsonl(path)
    if suffix == ".csv":
        return load_csv(path)
    raise QuestionSetError(f"{path}: unknown question-set format {suffix!r} (use .jsonl or .csv)")


def _split(cell: str, pattern: re.Pattern[str] | str) -> list[str]:
    parts = pattern.split(cell) if isinstance(pattern, re.Pattern) else cell.split(pattern)
    return [p.strip() for p in parts if p.strip()]


def _answerable(cell: str) -> bool | None:
    value = cell.strip().casefold()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"answerable must be true/false or empty, not {cell!r}")


def row_to_question(row: dict[str, str], default_id: str) -> Question:
    """A CSV row (cells as text) as a validated :class:`Question`."""
    cell = {name: (row.get(name) or "") for name in CSV_COLUMNS}
    return question_from_row(
        {
            "id": cell["id"].strip(),
            "question": cell["question"],
            "history": _split(cell["history"], _TURNS),
            "answerable": _answerable(cell["answerable"]),
            "gold": _split(cell["gold"], _TURNS),
            "must_include": [_split(g, "|") for g in _split(cell["must_include"], ";")],
            "kind": cell["kind"].strip(),
            "source": cell["source"].strip(),
        },
        default_id,
    )


def load_csv(path: Path) -> tuple[list[Question], list[str]]:
    """Like :func:`load_jsonl`; line numbers are where a row starts in the file."""
    rows = csv.reader(io.StringIO(read_text(path), newline=""))
    try:
        header = [h.strip() for h in next(rows, [])]
    except csv.Error as exc:
        raise QuestionSetError(f"{path}: unreadable CSV header: {exc}") from exc
    if not any(header):  # an empty file is an empty set
        return [], []
    if "question" not in header:
        raise QuestionSetError(f"{path}: the CSV header has no 'question' column: {header}")
    numbered: list[tuple[int, Question]] = []
    problems: list[str] = []
    while True:
        start = rows.line_num + 1
        try:
            cells = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(f"line {start}: {exc}")
            continue
        if not any(c.strip() for c in cells):
            continue
        bad = (bad_bytes(cell, column=False) for cell in cells)
        if (problem := next(filter(None, bad), None)) is not None:
            problems.append(f"line {start}: {problem}")
            continue
        try:
            if len(cells) > len(header):
                raise ValueError(f"{len(cells)} fields, the header has {len(header)}")
            row = dict(zip(header, cells, strict=False))  # short rows: missing cells are empty
            numbered.append((start, row_to_question(row, f"line{start}")))
        except ValueError as exc:
            problems.append(f"line {start}: {exc}")
    return unique_ids(numbered, problems), problems
