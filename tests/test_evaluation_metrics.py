"""Evaluation metrics, gate, inputs, compare and report on hand-made answer sets (no model).

Every expected number here is worked out by hand from the small sets below.
"""

from __future__ import annotations

import io
import json
import os
import re
import select
from pathlib import Path

import pytest

from assistant import Answer, Citation
from evaluation import metrics as m
from evaluation.compare import CompareError, compare_runs, format_comparison, load_run
from evaluation.gate import GateError, misses, parse_threshold, skipped_miss
from evaluation.questions import Question, QuestionSetError, load_csv, load_jsonl, load_questions
from evaluation.report import render_report
from evaluation.runner import Progress, write_outputs
from evaluation.scoring import failure_reasons


def cite(*texts: str) -> list[Citation]:
    return [Citation(i, "doc.txt", 10 * i, 10 * i + 5, t, 0.5) for i, t in enumerate(texts, 1)]


def answered(text: str, *cited: str, ms: float = 10.0) -> Answer:
    return Answer(text, text, "answered", text, cite(*cited), latency_ms=ms)


def refused(*cited: str, ms: float = 10.0) -> Answer:
    return Answer("q", "q", "not_found", "The documents don't contain an answer.", cite(*cited), ms)


def q(qid: str, **kw) -> Question:
    return Question(id=qid, question=f"question {qid}?", **kw)


# q1 right at rank 1; q2 gold at rank 2 (still correct); q3 answered without citations;
# q4 refused although answerable; q5 refused cleanly; q6 refused but cites; q7 answers an
# unanswerable; q8 bare (unscored) follow-up; q9 correct follow-up.
SET = [
    (q("q1", answerable=True, gold=["Alpha beta"], must_include=[["alpha"]]),
     answered("Alpha beta here. [1]", "The alpha beta sentence.", ms=5)),
    (q("q2", answerable=True, gold=["gamma"], must_include=[["gamma", "γ"]]),
     answered("It was gamma. [1] [2]", "Nothing relevant.", "A gamma ray.", ms=7)),
    (q("q3", answerable=True, gold=["delta"], must_include=[["delta"]]),
     answered("delta, uncited", ms=9)),
    (q("q4", answerable=True, gold=["eps"]), refused(ms=11)),
    (q("q5", answerable=False), refused(ms=13)),
    (q("q6", answerable=False), refused("some passage", ms=15)),
    (q("q7", answerable=False), answered("Made up. [1]", "made", ms=17)),
    (q("q8", history=["earlier?"]), answered("Whatever. [1]", "x", ms=19)),
    (q("q9", history=["earlier?"], gold=["zeta"], must_include=[["zeta"]]),
     answered("zeta [1]", "ZETA  and more", ms=21)),
]  # fmt: skip


def test_summary_of_a_hand_made_set() -> None:
    s = m.summarize(SET, n_skipped=2)
    assert s == {
        "n_questions": 9,
        "n_answerable": 5,
        "n_unanswerable": 3,
        "n_unscored": 1,
        "n_followups": 2,
        "n_errors": 0,
        "n_skipped": 2,
        "correct": 0.6,  # q1 q2 q9 of q1-q4,q9
        "hit@1": 0.4,  # q1 q9
        "hit@3": 0.6,  # + q2
        "mrr": 0.5,  # (1 + 1/2 + 0 + 0 + 1) / 5
        "citation_precision": 0.75,  # 3 matching of 4 citations (q1 1/1, q2 1/2, q9 1/1)
        "answered_rate": 0.8,  # q4 refused
        "refusal_rate": 0.6667,  # q5 q6
        "refusals_without_sources": 0.3333,  # q5
        "followup_correct": 1.0,  # q9; the unscored q8 doesn't count
        "llm_written": 0.0,  # all extractive
        "fallback_rate": None,  # the LLM was never asked
        "latency_p50_ms": 13.0,
        "latency_p95_ms": 21.0,
        "first_sentence_p50_ms": None,
    }
    assert list(s) == [*m.COUNTS, *m.RATE_METRICS, *m.LATENCY_METRICS]


def test_empty_set_reports_undefined_metrics_as_none() -> None:
    s = m.summarize([])
    assert all(s[name] == 0 for name in m.COUNTS)
    assert all(s[name] is None for name in (*m.RATE_METRICS, *m.LATENCY_METRICS))


def test_no_answerable_questions() -> None:
    s = m.summarize([p for p in SET if p[0].answerable is False])
    for name in ("correct", "hit@1", "hit@3", "mrr", "citation_precision", "answered_rate"):
        assert s[name] is None, name
    assert s["refusal_rate"] == 0.6667
    assert s["followup_correct"] is None


def test_no_citations_at_all() -> None:
    pairs = [(q("a", gold=["x"]), answered("x")), (q("b", gold=["y"]), refused())]
    assert m.hit_at(pairs, 1) == 0.0
    assert m.mrr(pairs) == 0.0
    assert m.citation_precision(pairs) is None  # nothing cited: no share to take
    assert m.correct(pairs) == 0.0


def test_answerable_without_gold_counts_for_correct_but_not_ranks() -> None:
    pairs = [(q("a", answerable=True, must_include=[["seven", "7"]]), answered("It was 7."))]
    assert m.correct(pairs) == 1.0
    assert m.hit_at(pairs, 3) is None and m.mrr(pairs) is None


def test_long_answer_is_wrong_even_with_words_and_evidence() -> None:
    long = "alpha " * 80
    pair = (q("a", gold=["alpha"], must_include=[["alpha"]]), answered(long, "alpha"))
    assert m.correct([pair]) == 0.0
    assert failure_reasons(*pair) == [f"answer is {len(long)} chars (max 400)"]


def test_gold_beyond_the_third_citation_is_a_miss() -> None:
    pair = (q("a", gold=["gold"]), answered("gold", "n1", "n2", "n3", "the gold"))
    assert m.hit_at([pair], 3) == 0.0
    assert m.mrr([pair]) == 0.25
    assert failure_reasons(*pair) == ["gold evidence only at citation 4"]


def test_errors_count_as_not_answered_and_have_no_latency() -> None:
    error = Answer("q", "", "error", "too long", latency_ms=0.0)  # type: ignore[arg-type]
    pairs = [(q("a", gold=["x"]), error), (q("b", gold=["x"]), answered("x", "x", ms=4.0))]
    s = m.summarize(pairs)
    assert s["n_errors"] == 1 and s["answered_rate"] == 0.5
    assert s["latency_p50_ms"] == s["latency_p95_ms"] == 4.0


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(20, 0, -1)]
    assert m.percentile(values, 50) == 10.0
    assert m.percentile(values, 95) == 19.0
    assert m.percentile([3.0], 95) == 3.0
    assert m.percentile([], 50) is None


def test_question_metrics_and_failure_reasons() -> None:
    assert m.question_metrics(*SET[1]) == {
        "scored_as": "answerable",
        "correct": True,
        "gold_rank": 2,
        "hit@1": False,
        "hit@3": True,
        "reciprocal_rank": 0.5,
        "citation_precision": 0.5,
        "required_words": True,
    }
    assert m.question_metrics(*SET[7])["correct"] is None
    assert failure_reasons(*SET[3]) == [
        "not answered (not_found)",
        "no citation matches the gold evidence",
    ]
    assert failure_reasons(*SET[5]) == ["refusal should cite nothing, cited 1"]
    assert failure_reasons(*SET[6])[0] == "expected not_found, got answered"
    assert failure_reasons(*SET[0]) == failure_reasons(*SET[7]) == []


# -- gate ----------------------------------------------------------------------------------
def test_gate_thresholds() -> None:
    s = m.summarize(SET)
    ok = [parse_threshold("correct=0.6", "min"), parse_threshold("latency_p95_ms=50", "max")]
    assert misses(s, ok) == []
    bad = [parse_threshold("hit@1=0.5", "min"), parse_threshold("n_questions=3", "max")]
    assert misses(s, bad) == ["hit@1 0.4 < 0.5", "n_questions 9 > 3"]
    assert misses(m.summarize([]), [parse_threshold("correct=0", "min")]) == [
        "correct is undefined (no questions of its kind)"
    ]


@pytest.mark.parametrize("text", ["correct", "=1", "corect=1", "correct=high", "correct=90"])
def test_gate_rejects_bad_thresholds(text: str) -> None:
    with pytest.raises(GateError):
        parse_threshold(text, "min")


# -- inputs ----------------------------------------------------------------------------------
def test_csv_fields_are_split(tmp_path: Path) -> None:
    path = tmp_path / "set.csv"
    path.write_text(
        "id,question,history,answerable,gold,must_include\n"
        'c1,"How long, then?",Who met? || What else?,true,100-minute summit || a b,'
        '"seven|7; agreements"\n'
        "c2,Capital of France?,,false,,\n"
        ",Bare question?,,,,\n",
        encoding="utf-8",
    )
    questions, problems = load_questions(path)
    assert problems == []
    assert questions == [
        Question(
            "c1",
            "How long, then?",
            ["Who met?", "What else?"],
            True,
            ["100-minute summit", "a b"],
            [["seven", "7"], ["agreements"]],
        ),
        Question("c2", "Capital of France?", [], False, [], []),
        Question("line4", "Bare question?"),
    ]


def test_malformed_rows_are_reported_by_line_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "set.csv"
    path.write_text(
        "id,question,history,answerable,gold,must_include\n"
        "a,Fine?,,,,\n"
        "\n"
        "b,,,,,\n"  # no question
        "c,Bad flag?,,maybe,,\n"
        "d,Too many?,,,,,extra\n"
        "a,Duplicate id?,,,,\n"
        'e,"Multi\nline?",,,,\n'
        "g,,,,,\n"  # after a two-line row: still the right line number
        "f,Last?\n",  # short row: the missing cells are empty
        encoding="utf-8",
    )
    questions, problems = load_csv(path)
    assert [(x.id, x.question) for x in questions] == [
        ("a", "Fine?"),
        ("e", "Multi\nline?"),
        ("f", "Last?"),
    ]
    assert problems == [
        "line 4: question must be a non-empty string",
        "line 5: answerable must be true/false or empty, not 'maybe'",
        "line 6: 7 fields, the header has 6",
        "line 10: question must be a non-empty string",
        "line 7: duplicate id 'a'",
    ]


def test_malformed_jsonl_lines_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    lines = [
        '{"id": "a", "question": "Fine?"}',
        "not json",
        '{"id": "b", "question": "Gold?", "gold": [1]}',
        '{"id": "c", "question": "Flag?", "answerable": "yes"}',
        "[1, 2]",
        '{"question": "No id?", "must_include": ["one", ["two", "2"]]}',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    questions, problems = load_jsonl(path)
    assert [x.id for x in questions] == ["a", "line6"]
    assert questions[1].must_include == [["one"], ["two", "2"]]
    assert problems == [
        "line 2: invalid JSON (Expecting value at column 1)",
        "line 3: gold must be a list of strings",
        "line 4: answerable must be true, false or absent",
        "line 5: expected a JSON object",
    ]


def test_a_bad_byte_names_its_line_and_keeps_the_others(tmp_path: Path) -> None:
    (tmp_path / "set.jsonl").write_bytes(
        b'{"question": "One?"}\n{"question": "caf\xe9?"}\n{"question": "Three?"}\n'
    )
    (tmp_path / "set.csv").write_bytes(b'question\nOne?\n"Two\nlines \xff?"\nFour?\n')
    questions, problems = load_questions(tmp_path / "set.jsonl")
    assert [q.question for q in questions] == ["One?", "Three?"]
    assert problems == ["line 2: not valid UTF-8 (byte 0xe9 at column 18)"]
    questions, problems = load_questions(tmp_path / "set.csv")
    assert [q.question for q in questions] == ["One?", "Four?"]
    assert problems == ["line 3: not valid UTF-8 (byte 0xff)"]


def test_skipped_lines_fail_a_gate_unless_allowed() -> None:
    assert skipped_miss(0, 0) is None and skipped_miss(2, 2) is None
    assert skipped_miss(3, 2) == (
        "3 input line(s) skipped (malformed; allowed: 2); fix them, or pass --allow-skipped N "
        "when they are expected"
    )


def test_empty_files_are_empty_sets(tmp_path: Path) -> None:
    for name in ("empty.jsonl", "empty.csv"):
        (tmp_path / name).write_text("", encoding="utf-8")
        assert load_questions(tmp_path / name) == ([], [])


def test_unusable_inputs_raise(tmp_path: Path) -> None:
    (tmp_path / "set.txt").write_text("x", encoding="utf-8")
    (tmp_path / "nohead.csv").write_text("id,text\n1,hi\n", encoding="utf-8")
    for name in ("set.txt", "nohead.csv", "missing.jsonl"):
        with pytest.raises(QuestionSetError):
            load_questions(tmp_path / name)


# -- outputs, compare, report -------------------------------------------------------------
def _write_run(out: Path, pairs) -> None:
    write_outputs(out, pairs, m.summarize(pairs), title="set.jsonl")


def test_outputs_and_compare(tmp_path: Path) -> None:
    old = tmp_path / "old"
    _write_run(old, SET)
    flipped = [
        SET[0],
        (SET[1][0], refused()),
        (SET[2][0], answered("delta [1]", "delta")),
        *SET[3:],
    ]
    new = tmp_path / "new"
    _write_run(new, flipped)

    answers = [json.loads(line) for line in (old / "answers.jsonl").read_text().splitlines()]
    assert [a["question"] for a in answers] == [a.question for _, a in SET]
    assert list(answers[1]) == [
        "id", "question", "search_query", "status", "reason", "answer", "citations",
        "latency_ms", "answerer", "sentences_dropped", "first_sentence_ms", "fallback",
    ]  # fmt: skip
    assert list(answers[1]["citations"][0]) == ["n", "source", "start", "end", "text", "score"]
    run = load_run(old)
    assert run.summary == json.loads(json.dumps(m.summarize(SET)))
    assert run.correct["q2"] is True and run.correct["q8"] is None

    comparison = compare_runs(run, load_run(new))
    assert comparison.fixed == ["q3"] and comparison.broken == ["q2"]
    assert ("correct", 0.6, 0.6, 0.0) in comparison.deltas
    assert ("answered_rate", 0.8, 0.6, -0.2) in comparison.deltas
    text = format_comparison(comparison, "old", "new")
    assert "fixed (1): q3" in text and "broken (1): q2" in text
    with pytest.raises(CompareError):
        load_run(tmp_path / "nowhere")


def test_report_escapes_user_text_and_is_self_contained() -> None:
    nasty = Question("<i>id</i>", "<script>alert(1)</script>?", ["<b>earlier</b>"], True,
                     ['<img src="http://x/y.png">'], [["<u>w</u>"]])  # fmt: skip
    pairs = [(nasty, answered("<script>no</script>", "<a href='http://evil'>t</a>")), *SET]
    html = render_report(pairs, m.summarize(pairs), title="<t>", problems=["line 2: <bad>"])
    assert "<script" not in html and "<img" not in html and "<a " not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;bad&gt;" in html
    assert re.search(r"<[^>]*\b(?:src|href|url)\s*[=(]", html) is None  # nothing to fetch
    assert html.count("<svg") == 2 and 'id="failures"' in html
    assert "<td>n/a</td>" not in html  # undefined values only in charts/cards, never crash


def test_progress_bar_on_a_terminal_plain_lines_otherwise() -> None:
    master, slave = os.openpty()
    with os.fdopen(slave, "w") as tty:
        bar = Progress(3, tty)
        for done in (1, 2, 3):
            bar.update(done)
    drawn = ""
    while select.select([master], [], [], 1.0)[0]:  # a pty may hand the writes over in parts
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the writer is closed and everything has been read
            break
        if not chunk:
            break
        drawn += chunk.decode()
    os.close(master)
    assert "\r[" in drawn and "3/3" in drawn

    short, long = io.StringIO(), io.StringIO()
    for done in range(1, 4):
        Progress(3, short).update(done)
    bar = Progress(60, long)
    for done in range(1, 61):
        bar.update(done)
    assert short.getvalue() == ""
    assert long.getvalue().splitlines() == [f"answered {6 * i}/60" for i in range(1, 11)]


def test_the_answer_threshold_gets_the_most_right_above_the_refusal_floor() -> None:
    """The fitted threshold refuses at least 75% of the unanswerable questions, and among such
    thresholds takes the one that gets the most questions right: here one above the floor
    (0.5001) refuses the fifth unanswerable question and keeps both gold answers above it;
    the lower thresholds that would keep the four gold answers at 0.31–0.34 refuse too few."""
    from evaluation.fit_answer_model import best_threshold

    unanswerable = [(False, False, p) for p in (0.1, 0.2, 0.3, 0.5, 0.55)]
    gold = [(True, True, p) for p in (0.31, 0.32, 0.33, 0.34, 0.58, 0.9)]
    wrong_sentence = [(True, False, 0.95)]
    assert best_threshold(unanswerable + gold + wrong_sentence) == 0.5501
    # With nothing to gain above the floor, the floor itself (the most answers).
    assert best_threshold(unanswerable[:4] + gold) == 0.3001
