"""Every answer on the dev and calibration sets is the one recorded in tests/data/*.golden.jsonl.

Refactoring must not change answers; a change that means to (better retrieval, say) updates
the recorded answers on purpose, and the diff of those files shows what changed:

    .venv/bin/python -m tests.test_answers_unchanged --update
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from evaluation.questions import load_jsonl
from tests.conftest import CALIBRATION, DEV_QUESTIONS

RECORDED = {
    DEV_QUESTIONS: DEV_QUESTIONS.with_name("dev_answers.golden.jsonl"),
    CALIBRATION: CALIBRATION.with_name("calibration_answers.golden.jsonl"),
}
KEYS = ("id", "question", "search_query", "status", "answer", "citations")
#: The int8 model's kernels differ between CPUs (AVX2; AVX-512 VNNI and AMX): the same answers,
#: with probabilities up to 0.010 apart (measured on the dev and calibration sets, 2026-12-01).
SCORE_TOLERANCE = 2e-2


def current_answers(assistant, questions_file: Path) -> list[dict]:
    questions, problems = load_jsonl(questions_file)
    assert not problems
    return [
        {k: v for k, v in assistant.replay(q.history, q.question, id=q.id).to_dict().items()
         if k in KEYS}
        for q in questions
    ]  # fmt: skip


def without_scores(answer: dict) -> dict:
    return {**answer, "citations": [{**c, "score": None} for c in answer["citations"]]}


@pytest.mark.parametrize("questions_file", list(RECORDED), ids=lambda p: p.stem)
def test_answers_are_the_recorded_ones(assistant, questions_file: Path) -> None:
    recorded = [json.loads(line) for line in RECORDED[questions_file].read_text().splitlines()]
    now = current_answers(assistant, questions_file)
    assert [without_scores(a) for a in now] == [without_scores(a) for a in recorded]
    scores = [c["score"] for a in now for c in a["citations"]]
    recorded_scores = [c["score"] for a in recorded for c in a["citations"]]
    assert scores == pytest.approx(recorded_scores, abs=SCORE_TOLERANCE)


if __name__ == "__main__" and "--update" in sys.argv:
    from assistant import Settings, build_assistant

    live = build_assistant(Settings())
    for questions_file, target in RECORDED.items():
        lines = [json.dumps(a, ensure_ascii=False) for a in current_answers(live, questions_file)]
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"wrote {target}")
