"""Evaluation end to end with the real model and index: the dev set, CSV vs JSONL, the gate's
exit codes through ``app.main``, compare, determinism, and the report in headless chromium.

Quality thresholds on the dev set belong to tests/test_quality.py; here only structure and
consistency are checked, so these tests don't move when answers improve.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

import app
from evaluation.metrics import COUNTS, LATENCY_METRICS, RATE_METRICS, summarize
from evaluation.questions import Question, load_questions
from evaluation.runner import RESULT_COLUMNS, run, write_outputs
from tests.conftest import DEV_QUESTIONS

DEV = load_questions(DEV_QUESTIONS)[0]


def without_latency(answers: list[dict]) -> list[dict]:
    return [{k: v for k, v in a.items() if k != "latency_ms"} for a in answers]


@pytest.fixture(scope="module")
def dev_run(assistant):
    return run(assistant, DEV)


def test_dev_set_structure_and_consistency(dev_run, tmp_path: Path) -> None:
    summary = summarize(dev_run)
    assert [q.id for q, _ in dev_run] == [q.id for q in DEV]
    assert summary["n_questions"] == len(DEV) == 17
    assert summary["n_answerable"] + summary["n_unanswerable"] + summary["n_unscored"] == 17
    assert (summary["n_unanswerable"], summary["n_followups"], summary["n_skipped"]) == (3, 2, 0)
    for name in RATE_METRICS:
        if name == "fallback_rate":  # the extractive path never asks an LLM
            assert summary[name] is None
            continue
        assert summary[name] is not None and 0.0 <= summary[name] <= 1.0, name
    assert summary["hit@1"] <= summary["hit@3"]
    assert summary["refusals_without_sources"] <= summary["refusal_rate"]
    assert 0 < summary["latency_p50_ms"] <= summary["latency_p95_ms"]

    write_outputs(tmp_path, dev_run, summary, title="dev")
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    with (tmp_path / "results.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(RESULT_COLUMNS)
    correct = [r["correct"] == "true" for r in rows if r["scored_as"] == "answerable"]
    assert sum(correct) / len(correct) == pytest.approx(summary["correct"], abs=1e-4)
    for row, (_, answer) in zip(rows, dev_run, strict=True):
        assert row["status"] == answer.status
        for c in answer.citations:
            assert f"[{c.n}] {c.source}:{c.start}-{c.end}" in row["sources"]


def test_same_set_twice_gives_identical_answers_and_metrics(assistant, dev_run) -> None:
    again = run(assistant, DEV)
    first = without_latency([a.to_dict() for _, a in dev_run])
    assert without_latency([a.to_dict() for _, a in again]) == first
    drop = set(LATENCY_METRICS)
    one, two = summarize(dev_run), summarize(again)
    assert {k: v for k, v in one.items() if k not in drop} == {
        k: v for k, v in two.items() if k not in drop
    }


def _write_both(questions: list[Question], folder: Path) -> tuple[Path, Path]:
    jsonl, table = folder / "set.jsonl", folder / "set.csv"
    with jsonl.open("w", encoding="utf-8") as f:
        for q in questions:
            row = {"id": q.id, "question": q.question, "history": q.history}
            if q.answerable is not None:
                row |= {"answerable": q.answerable, "gold": q.gold, "must_include": q.must_include}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    with table.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "question", "history", "answerable", "gold", "must_include"])
        for q in questions:
            flag = "" if q.answerable is None else str(q.answerable).lower()
            groups = "; ".join("|".join(g) for g in q.must_include)
            writer.writerow(
                [q.id, q.question, " || ".join(q.history), flag, " || ".join(q.gold), groups]
            )
    return jsonl, table


def test_csv_and_jsonl_forms_give_the_same_results(assistant, tmp_path: Path) -> None:
    picked = [q for q in DEV if q.id in {"d04", "d09", "df1", "du2"}]
    picked.append(Question("bare", "What did Xi emphasize?"))  # no gold: answered, not scored
    jsonl, table = _write_both(picked, tmp_path)
    from_jsonl, from_csv = load_questions(jsonl), load_questions(table)
    assert from_jsonl == from_csv == (picked, [])
    a, b = run(assistant, from_jsonl[0]), run(assistant, from_csv[0])
    assert without_latency([x.to_dict() for _, x in a]) == without_latency(
        [x.to_dict() for _, x in b]
    )
    sa, sb = summarize(a), summarize(b)
    assert sa["n_unscored"] == 1
    for name in (*COUNTS, *RATE_METRICS):
        assert sa[name] == sb[name], name


# -- the command line: exit codes 0 / 1 / 2 and compare ---------------------------------------
@pytest.fixture()
def cli_env(indexed_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(indexed_settings.index_dir))
    monkeypatch.setenv("ASSISTANT_FEEDBACK_DB", str(indexed_settings.feedback_db))


def _small_set(path: Path, words: str) -> Path:
    rows = [
        {"id": "h1", "question": "What did Lee raise about Hanwha Ocean?", "answerable": True,
         "gold": ["sanctions on US-based subsidiaries"], "must_include": [[words]]},
        {"id": "u1", "question": "Who is the president of France?", "answerable": False},
    ]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{broken\n", encoding="utf-8")
    return path


def test_gate_exit_codes_and_compare(cli_env, tmp_path: Path, capsys) -> None:
    good, bad = (
        _small_set(tmp_path / "good.jsonl", "sanction"),
        _small_set(tmp_path / "bad.jsonl", "no-such-word"),
    )
    old, new = tmp_path / "old", tmp_path / "new"

    code = app.main(
        ["eval", str(good), "--out", str(old), "--min", "correct=1.0", "--allow-skipped", "1"]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "warning: skipped line 3: invalid JSON" in err
    assert sorted(p.name for p in old.iterdir()) == [
        "answers.jsonl", "report.html", "results.csv", "summary.json"
    ]  # fmt: skip
    summary = json.loads((old / "summary.json").read_text())
    assert (summary["n_questions"], summary["n_skipped"], summary["correct"]) == (2, 1, 1.0)
    assert "Gate passed" in (old / "report.html").read_text()

    gate = ["--min", "correct=1.0", "--allow-skipped", "1"]
    code = app.main(["eval", str(bad), "--out", str(new), *gate, "--compare", str(old)])
    out, err = capsys.readouterr()
    assert code == 1
    gate_lines = [line for line in err.splitlines() if line.startswith("gate failed")]
    assert gate_lines == ["gate failed: correct 0 < 1"]
    assert "broken (1): h1" in out and "fixed (0): -" in out

    assert app.main(["eval-compare", str(new), str(old)]) == 0
    out, _ = capsys.readouterr()
    assert "fixed (1): h1" in out and "correct" in out
    assert app.main(["eval-compare", str(new), str(old), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["fixed"] == ["h1"] and data["broken"] == []
    assert {"metric": "correct", "old": 0.0, "new": 1.0, "delta": 1.0} in data["deltas"]

    # bad usage or unreadable input: exit 2 before the model loads
    for args in (
        ["--min", "corect=1"],
        ["--min", "correct=high"],
        ["--min", "correct=95"],
        ["--max", "latency_p95_ms"],
        ["--compare", str(tmp_path / "no-run")],
    ):
        assert app.main(["eval", str(good), "--out", str(tmp_path / "x"), *args]) == 2, args
    assert app.main(["eval", str(good), "--out", str(tmp_path / "x"), "--allow-skipped", "-1"]) == 2
    for missing in ("nope.jsonl", "good.txt"):
        assert app.main(["eval", str(tmp_path / missing), "--out", str(tmp_path / "x")]) == 2
    assert app.main(["eval-compare", str(old), str(tmp_path / "no-run")]) == 2
    assert not (tmp_path / "x").exists()


def test_skipped_lines_fail_a_gate_unless_allowed(cli_env, tmp_path: Path, capsys) -> None:
    """7 of 12 lines malformed (one of them a single byte that isn't UTF-8): the 5 good
    questions all pass, yet the gate fails, naming every bad line by its number."""
    good = [
        json.dumps({"id": f"g{i}", "question": "Who is the president of France?",
                    "answerable": False})
        for i in range(5)
    ]  # fmt: skip
    bad = [
        "{broken", "[1, 2]", '{"question": ""}', '{"id": "x", "answerable": "maybe", '
        '"question": "Q?"}', "not json at all", '{"question": 7}',
    ]  # fmt: skip
    lines = [*good[:2], *bad[:3], good[2], *bad[3:], *good[3:]]
    data = "\n".join(lines).encode() + b'\n{"id": "z", "question": "Caf\xe9?"}\n'
    path = tmp_path / "mostly-broken.jsonl"
    path.write_bytes(data)

    code = app.main(["eval", str(path), "--out", str(tmp_path / "a"), "--min", "correct=0.9"])
    err = capsys.readouterr().err
    assert code == 1
    skipped = [line for line in err.splitlines() if line.startswith("warning: skipped line")]
    assert [int(line.split()[3].rstrip(":")) for line in skipped] == [3, 4, 5, 7, 8, 9, 12]
    assert "warning: skipped line 12: not valid UTF-8 (byte 0xe9 at column 29)" in err
    assert "position" not in err  # no byte offsets into the file
    assert "7 input line(s) skipped (malformed; allowed: 0)" in err.splitlines()[-1]
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert (summary["n_questions"], summary["n_skipped"]) == (5, 7)

    ok = ["--min", "refusal_rate=0.9", "--allow-skipped", "7"]
    assert app.main(["eval", str(path), "--out", str(tmp_path / "b"), *ok]) == 0
    assert "Gate passed" in (tmp_path / "b" / "report.html").read_text()
    capsys.readouterr()
    # Without a gate, skipped lines are warnings and the run succeeds.
    assert app.main(["eval", str(path), "--out", str(tmp_path / "c")]) == 0


# -- the report in a real browser -------------------------------------------------------------
@pytest.mark.browser
def test_report_renders_offline_in_chromium(assistant, artifacts_dir: Path, tmp_path: Path):
    from playwright.sync_api import sync_playwright

    questions = [*DEV[:4], DEV[12], DEV[14]]
    questions.append(  # one that fails for sure, so the failure table is shown
        Question(
            "fail",
            "What did Lee raise about Hanwha Ocean?",
            [],
            True,
            ["<no such gold>"],
            [["<zebra>"]],
        )
    )
    pairs = run(assistant, questions)
    write_outputs(tmp_path, pairs, summarize(pairs), title="browser <check>", gate=["x < 1"])
    url = (tmp_path / "report.html").resolve().as_uri()

    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.goto(url, wait_until="load")
            for selector in ("#metrics-chart", "#latency-chart", "#failures"):
                box = page.locator(selector).bounding_box()
                assert page.locator(selector).is_visible(), selector
                assert box and box["width"] > 0 and box["height"] > 0, selector
            assert page.locator("#metrics-chart rect").count() >= len(RATE_METRICS)
            failed = page.locator("#failures tbody tr")
            assert failed.count() >= 1
            assert "<zebra>" in failed.last.inner_text()  # escaped text shows as text
            page.screenshot(path=str(artifacts_dir / "report.png"), full_page=True)
        finally:
            browser.close()
    assert requests == [url]
