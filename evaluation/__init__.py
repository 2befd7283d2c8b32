"""Evaluation: question sets (JSONL, CSV), runs through the assistant, metrics (one judge),
the HTML report, the pass/fail gate and the comparison of two runs."""

from evaluation.cli import register
from evaluation.metrics import summarize
from evaluation.questions import Question, QuestionSetError, load_questions
from evaluation.runner import run, write_outputs
from evaluation.scoring import failure_reasons, is_correct

__all__ = [
    "Question",
    "QuestionSetError",
    "failure_reasons",
    "is_correct",
    "load_questions",
    "register",
    "run",
    "summarize",
    "write_outputs",
]
