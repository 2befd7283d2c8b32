"""Bad and odd questions get clear messages, never crashes; the CLI's exit codes say why."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import app
from assistant import ANSWER_FIELDS, REPO_ROOT, InvalidQuestion, Message, Settings
from vectorstore import clean_text


@pytest.mark.parametrize(
    "question",
    ["", "   ", "\n\t", "\x00\x01", "\u200b\u200b", "\u2060\u202e\u00ad", "\x85\x9f", "\ud800"],
)
def test_empty_questions_are_refused_clearly(assistant, question: str) -> None:
    with pytest.raises(InvalidQuestion, match="empty") as info:
        assistant.ask(question)
    assert info.value.kind == "empty"


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("Han\u200bwha", "Hanwha"),  # zero-width space inside a word: removed, not a space
        ("Han\u00adwha", "Hanwha"),  # soft hyphen
        ("Han\u2060wha \u202eOcean\u202c", "Hanwha Ocean"),  # word joiner, bidi override
        ("\ufeffHan\u200c\u200dwha", "Hanwha"),  # BOM, zero-width (non-)joiner
        ("\ud800 Hanwha \udcff", "Hanwha"),  # lone surrogates (an undecodable argv byte)
        ("Hanwha\x85Ocean\x9f!", "Hanwha Ocean !"),  # C1 controls separate words
        ("a\x00b\u2028c", "a b c"),
    ],
)
def test_clean_text_removes_what_is_invisible_or_invalid(raw: str, cleaned: str) -> None:
    assert clean_text(raw) == cleaned
    clean_text(raw).encode("utf-8")  # always encodable


def test_huge_question_is_refused_with_the_limit(assistant) -> None:
    with pytest.raises(InvalidQuestion, match="20,000 characters long; the limit is 2,000"):
        assistant.ask("w" * 20_000)


@pytest.mark.parametrize(
    "question",
    [
        "What did Lee raise about\x07 Hanwha\u200b Ocean?",
        "Ｗｈａｔ did Lee raise about Hanwha Ocean？",
        "What did Lee raise about Hanwha Ocean? 🤔🇰🇷",
        "What did Lee raise about Hanwha Ocean?\u202e",
        "ما هو؟ What did Lee raise about Hanwha Ocean?",
    ],
)
def test_odd_unicode_still_answers(assistant, question: str) -> None:
    answer = assistant.ask(question)
    assert answer.status == "answered"
    assert "sanction" in answer.answer


def test_html_in_a_question_is_kept_as_text(assistant) -> None:
    answer = assistant.ask("<script>alert(1)</script> What did Lee raise about Hanwha Ocean?")
    assert answer.question.startswith("<script>alert(1)</script>")
    assert answer.search_query == "What did Lee raise about Hanwha Ocean?"  # markup not searched
    assert answer.status == "answered"
    assert "Hanwha Ocean" in answer.citations[0].text


def test_gibberish_is_not_found(assistant) -> None:
    answer = assistant.ask("asdkjh qwpoeiru zmxnbv?")
    assert answer.status == "not_found" and answer.citations == []


def test_long_history_is_accepted(assistant) -> None:
    history = [Message("user", "x" * 50_000), Message("assistant", "y" * 50_000)]
    assert assistant.ask("How many agreements were signed?", history).status == "answered"


@pytest.fixture()
def index_env(indexed_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(indexed_settings.index_dir))


def test_cli_ask_json_prints_the_contract(index_env, capsys) -> None:
    assert app.main(["ask", "--json", "How many agreements were signed?"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert tuple(data) == ANSWER_FIELDS
    assert data["status"] == "answered" and "seven" in data["answer"]
    assert set(data["citations"][0]) == {"n", "source", "start", "end", "text", "score"}


def test_cli_ask_text_numbers_sources_and_resolves_history(index_env, capsys) -> None:
    code = app.main(["ask", "--history", "Who met at the summit?", "How long did they talk?"])
    out = capsys.readouterr().out
    assert code == 0
    assert "100-minute" in out and "[1] korea_china_summit.txt:" in out
    assert "searched for:" in out


def test_cli_empty_question_exits_2(index_env, capsys) -> None:
    assert app.main(["ask", "  "]) == 2
    assert "empty" in capsys.readouterr().err


def test_cli_without_index_says_what_to_run(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "none"))
    assert app.main(["ask", "Who met?"]) == 1
    assert "python app.py ingest" in capsys.readouterr().err


def test_corrupt_index_is_a_clear_error(tmp_path, monkeypatch, capsys) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(broken))
    assert app.main(["ask", "Who met?"]) == 1
    err = capsys.readouterr().err
    assert "can't be opened" in err or "No collection" in err


def test_cli_removes_an_undecodable_byte(indexed_settings: Settings) -> None:
    """``app.py ask $'\\xff Hanwha…'``: the byte is not a character; it is dropped, no traceback."""
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(indexed_settings.index_dir)}
    question = b"\xff What did Lee raise about Hanwha Ocean?"
    done = subprocess.run(
        [sys.executable, "app.py", "ask", "--json", question],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert b"Traceback" not in done.stderr
    answer = json.loads(done.stdout)
    assert answer["question"] == "What did Lee raise about Hanwha Ocean?"
    assert answer["status"] == "answered"


def test_markup_is_not_searched_but_a_lone_angle_bracket_is_text(assistant) -> None:
    from assistant.question_words import without_markup

    assert without_markup("<b>Which</b> city <i>hosted</i> APEC?") == "Which city hosted APEC?"
    assert without_markup("<style>p{}</style><p>Who met?</p>") == "Who met?"
    assert without_markup("Is 3 < 5 and 7 > 2?") == "Is 3 < 5 and 7 > 2?"
    assert without_markup("<br><hr>") == "<br><hr>"  # nothing but markup: kept as typed
    answer = assistant.ask("<b>Where</b> was the APEC gathering held?")
    assert answer.question == "<b>Where</b> was the APEC gathering held?"
    assert answer.status == "answered" and "Gyeongju" in answer.answer
