"""Question sets from JSONL or CSV, chosen by file extension.

CSV exists for people who keep question sets in a spreadsheet. Its columns are
``id, question, history, answerable, gold, must_include``; list fields are flattened:
history turns and gold strings are separated by `` || ``, ``must_include`` groups by ``;``
and the alternatives of a group by ``|``. Only ``question`` is required.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from assistant.evaluation.questions import (
    Question,
    QuestionSetError,
    load_jsonl,
    question_from_row,
    read_text,
    unique_ids,
)

CSV_COLUMNS = ("id", "question", "history", "answerable", "gold", "must_include")
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
        try:
            if len(cells) > len(header):
                raise ValueError(f"{len(cells)} fields, the header has {len(header)}")
            row = dict(zip(header, cells, strict=False))  # short rows: missing cells are empty
            numbered.append((start, row_to_question(row, f"line{start}")))
        except ValueError as exc:
            problems.append(f"line {start}: {exc}")
    return unique_ids(numbered, problems), problems
