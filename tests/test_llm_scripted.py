"""The LLM answerer against a scripted OpenAI-compatible server on 127.0.0.1 (real HTTP, exact
replies): wrong citations corrected, unsupported sentences dropped, every failure of the
service answered extractively with ``/healthz`` degraded, and the SSE stream of the API.

The real model (SmolLM2 under llama.cpp) is exercised in ``tests/test_llm.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant import Assistant, Settings, build_assistant
from tests.servers import REPO_ROOT, ServerProcess, app_server, free_port

pytestmark = pytest.mark.llm

HANWHA = "What did Lee raise about Hanwha Ocean?"
AGREEMENTS = "How many agreements were signed?"
SCRIPT = {
    # right facts, wrong [n] (3 and 9) and a fact the passages don't give
    "Hanwha": "Lee raised Chinese sanctions on US-based subsidiaries of Hanwha Ocean [3]. "
    "Hanwha Ocean builds warships for the US Navy [1].",
    "agreements": "Both nations signed seven agreements [9]. They also renewed a currency "
    "swap deal.[2] The deal is worth 70 trillion won [1].",
    "summit take place": "It took place in Busan, where Lee met Kishida [1].",
    "cultural": "!500",
    "West Sea": "!cut The two leaders discussed maritime issues in the West Sea. [1] They",
    "currency": "!stall They renewed a won-yuan currency swap deal. [1]",
    "*": "I don't know.",
}


@pytest.fixture(scope="module")
def scripted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    script = tmp_path_factory.mktemp("scripted") / "script.json"
    script.write_text(json.dumps(SCRIPT), encoding="utf-8")
    port = free_port()
    command = [sys.executable, "-m", "tests.scripted_llm", str(port), str(script)]
    with ServerProcess(command, port=port, health_path="/health") as server:
        server.wait_healthy(30)
        yield server


def llm_settings(settings: Settings, url: str, **more: object) -> Settings:
    """The LLM answerer on ``url``; the coverage rule off unless asked (the check is tested)."""
    update = {"answerer": "llm", "llm_base_url": url, "llm_model": "scripted"}
    return settings.model_copy(update={**update, "llm_min_coverage": 0.0, **more})


@pytest.fixture(scope="module")
def llm_assistant(indexed_settings: Settings, embedder, scripted: ServerProcess) -> Assistant:
    settings = llm_settings(indexed_settings, scripted.url + "/v1", llm_timeout=3.0)
    return build_assistant(settings, embedder)


def test_wrong_citations_are_corrected_and_an_added_fact_dropped(llm_assistant) -> None:
    answer = llm_assistant.ask(HANWHA)
    assert answer.answerer == "llm" and answer.fallback is None
    kept = "Lee raised Chinese sanctions on US-based subsidiaries of Hanwha Ocean. [1]"
    assert answer.answer == kept
    assert [c.text for c in answer.citations] == [
        "President Lee raised the issue of Chinese sanctions on US-based subsidiaries of South "
        "Korean firm Hanwha Ocean."
    ]
    assert answer.sentences_dropped == 1
    assert answer.first_sentence_ms is not None and answer.first_sentence_ms <= answer.latency_ms
    assert answer.to_dict()["answerer"] == "llm"


def test_an_answer_that_leaves_out_what_the_passage_says_is_not_used(
    indexed_settings: Settings, embedder, scripted: ServerProcess, assistant
) -> None:
    """ "Lee raised Chinese sanctions on … Hanwha Ocean" is supported, but leaves out half of
    what the extractive answer adds to the question ("South Korean firm", "the issue")."""
    settings = llm_settings(indexed_settings, scripted.url + "/v1", llm_min_coverage=0.9)
    answer = build_assistant(settings, embedder).ask(HANWHA)
    assert answer.answerer == "extractive"
    assert answer.fallback == "it left out what the extractive answer says"
    assert answer.answer == assistant.ask(HANWHA).answer


def test_each_kept_sentence_cites_the_passage_that_supports_it(llm_assistant) -> None:
    answer = llm_assistant.ask(AGREEMENTS)
    assert answer.answerer == "llm"
    assert answer.answer.startswith("Both nations signed seven agreements. [1]")
    assert "70 trillion" not in answer.answer and answer.sentences_dropped >= 1
    cited = {c.n: c.text for c in answer.citations}
    assert "seven agreements" in cited[1]
    if len(cited) > 1:  # the swap deal, when retrieval gave its passage too
        assert "currency swap" in cited[2]


def test_nothing_supported_gives_the_extractive_answer(llm_assistant, assistant) -> None:
    question = "Where did the summit take place?"
    answer = llm_assistant.ask(question)
    assert answer.answerer == "extractive" and answer.fallback == "no sentence passed the check"
    assert answer.sentences_dropped == 1
    assert answer.answer == assistant.ask(question).answer


def test_i_dont_know_gives_the_extractive_answer(llm_assistant, assistant) -> None:
    answer = llm_assistant.ask("Who met at the summit?")
    assert answer.answerer == "extractive"
    assert answer.answer == assistant.ask("Who met at the summit?").answer


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What restrictions did Lee note on cultural exports?", "server_error"),
        ("Which maritime issues were discussed in the West Sea?", "connection"),
        ("What currency deal was renewed?", "timeout"),
    ],
)
def test_a_failing_service_gives_the_extractive_answer(
    llm_assistant, assistant, question: str, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    streamed = list(llm_assistant.stream(question))
    final = streamed[-1]
    assert final.answerer == "extractive" and final.fallback == f"llm {kind}"
    assert final.answer == assistant.ask(question).answer and final.status == "answered"
    assert llm_assistant.llm_health() == ("degraded", kind)
    assert f"LLM answer failed ({kind})" in caplog.text
    llm_assistant.ask(HANWHA)  # the next good call restores it
    assert llm_assistant.llm_health() == ("ok", kind)


def test_a_refused_connection_gives_the_extractive_answer(
    indexed_settings: Settings, embedder, assistant
) -> None:
    settings = llm_settings(indexed_settings, f"http://127.0.0.1:{free_port()}/v1")
    dead = build_assistant(settings, embedder)
    answer = dead.ask(HANWHA)
    assert answer.answerer == "extractive" and answer.fallback == "llm connection"
    assert answer.answer == assistant.ask(HANWHA).answer
    assert dead.llm_health() == ("degraded", "connection")


def test_refusals_never_reach_the_model(llm_assistant) -> None:
    answer = llm_assistant.ask("Who is the president of France?")
    assert answer.status == "not_found" and answer.answerer == "extractive"
    assert answer.fallback is None and answer.sentences_dropped is None


def _ask_with(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    environ = {"ASSISTANT_INDEX_DIR": str(tmp_path / "none"), "PATH": "/usr/bin:/bin", **env}
    command = [sys.executable, "app.py", "ask", "Who met?"]
    return subprocess.run(command, cwd=REPO_ROOT, env=environ, capture_output=True, text=True)


def test_settings_need_url_and_model_and_never_echo_the_key(tmp_path: Path) -> None:
    secret = "sk-very-secret"
    done = _ask_with({"ASSISTANT_ANSWERER": "llm", "ASSISTANT_LLM_API_KEY": secret}, tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: ASSISTANT_LLM_BASE_URL: required with ASSISTANT_ANSWERER=llm",
        "error: ASSISTANT_LLM_MODEL: required with ASSISTANT_ANSWERER=llm",
    ]
    env = {"ASSISTANT_ANSWERER": "llm", "ASSISTANT_LLM_BASE_URL": f"ftp://{secret}@host"}
    done = _ask_with(env, tmp_path)
    assert done.returncode == 2
    assert "ASSISTANT_LLM_BASE_URL: not a URL like http://host:port/v1" in done.stderr
    assert secret not in done.stderr + done.stdout
    done = _ask_with({"ASSISTANT_ANSWERER": "gpt"}, tmp_path)
    assert "ASSISTANT_ANSWERER: unknown answerer; choose one of extractive, llm" in done.stderr


def test_the_api_streams_checked_sentences_as_server_sent_events(
    indexed_settings: Settings, scripted: ServerProcess, tmp_path: Path
) -> None:
    env = {
        "ASSISTANT_INDEX_DIR": str(indexed_settings.index_dir),
        "ASSISTANT_DATA_DIR": str(indexed_settings.data_dir),
        "ASSISTANT_FEEDBACK_DB": str(tmp_path / "fb.sqlite3"),
        "ASSISTANT_ANSWERER": "llm",
        "ASSISTANT_LLM_BASE_URL": scripted.url + "/v1",
        "ASSISTANT_LLM_MODEL": "scripted",
        "ASSISTANT_LLM_API_KEY": "sk-never-shown",
        "ASSISTANT_LLM_TIMEOUT": "3",
        "ASSISTANT_LLM_MIN_COVERAGE": "0",
    }
    with app_server(env) as server:
        server.wait_healthy()
        health = httpx.get(f"{server.url}/healthz").json()
        assert health["llm"] == "ok" and health["llm_error"] is None
        body = {"question": AGREEMENTS, "history": []}
        with httpx.stream(
            "POST", f"{server.url}/api/ask?stream=true", json=body, timeout=30
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = _events(response.iter_lines())
        names = [name for name, _ in events]
        assert names[-1] == "done" and names.count("answer") >= 1  # one per checked sentence
        first, final = events[0][1], events[-1][1]
        assert first["answer"] == "Both nations signed seven agreements. [1]"
        assert final["answerer"] == "llm" and final["answer"].startswith(first["answer"])
        assert final["first_sentence_ms"] <= final["latency_ms"]
        plain = httpx.post(f"{server.url}/api/ask", json=body, timeout=30).json()
        assert plain["answer"] == final["answer"] and plain["sentences_dropped"] >= 1
        failed = httpx.post(
            f"{server.url}/api/ask",
            json={"question": "What did Lee note about cultural exports?"},
            timeout=30,
        ).json()
        assert failed["answerer"] == "extractive" and failed["fallback"] == "llm server_error"
        health = httpx.get(f"{server.url}/healthz").json()
        assert health["llm"] == "degraded" and health["llm_error"] == "server_error"
        empty = httpx.post(f"{server.url}/api/ask?stream=true", json={"question": " "})
        assert empty.status_code == 422
        assert "sk-never-shown" not in server.output()


def _events(lines: Iterator[str]) -> list[tuple[str, dict]]:
    events, name = [], ""
    for line in lines:
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            events.append((name, json.loads(line.removeprefix("data: "))))
    return events


def test_a_question_in_korean_keeps_the_extractive_answer(llm_assistant, assistant) -> None:
    """The check reads English: the multilingual path's answer is the extractive one."""
    question = "이재명 대통령은 한화오션과 관련해 어떤 문제를 제기했나요?"
    answer = llm_assistant.ask(question)
    assert answer.status == "answered" and answer.answerer == "extractive"
    assert answer.fallback is None and answer.answer == assistant.ask(question).answer


def test_the_chat_says_the_model_wrote_an_answer_and_what_its_check_left_out(
    llm_assistant, assistant
) -> None:
    from web.documents import Library
    from web.render import answer_message

    library = Library(lambda: assistant.engine.retriever.passages)
    written = answer_message(llm_assistant.ask(HANWHA).to_dict(), library)
    assert '<div class="written">Written by the language model' in written
    assert "1 unsupported sentence left out" in written
    quoted = answer_message(assistant.ask(HANWHA).to_dict(), library)
    assert 'class="written"' not in quoted
