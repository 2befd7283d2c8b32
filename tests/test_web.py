"""The web front end end to end: real server processes on 127.0.0.1, real headless chromium.

Servers (one per access mode) and the browser come from ``tests/web_fixtures.py``; access
control, limits and the route matrix are in ``test_web_security.py``.
"""

from __future__ import annotations

import csv
import http.server
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from assistant import ANSWER_FIELDS, REPO_ROOT, Settings
from tests.conftest import CORPUS
from tests.web_fixtures import (
    API_KEY,
    EXAMPLES,
    PASSWORD,
    QUESTION,
    USER,
    Server,
    api_ask,
    ask_in,
    new_page,
    start_server,
)

pytestmark = [pytest.mark.server, pytest.mark.browser]


def votes(server: Server) -> list[tuple]:
    """The stored votes (rating, question, citations), oldest first."""
    with sqlite3.connect(f"file:{server.feedback_db}?mode=ro", uri=True) as db:
        return db.execute(
            "SELECT id, rating, question, citations FROM votes ORDER BY id"
        ).fetchall()


def vote_on_last_answer(page, button: str, rating: str) -> str:
    """Click a vote button of the last answer (``Like``, ``Dislike``, or ``Liked``/``Disliked``
    to take the vote back); return the vote id the page was told once the server answered with
    ``rating`` (``none`` for an undo)."""
    page.locator(f"#chat .message-buttons button[aria-label='{button}']").last.click()
    done = page.locator(f"#vote-status .vote[data-rating='{rating}']")
    done.wait_for(timeout=10_000)
    return str(done.get_attribute("data-vote-id"))


# -- the chat page ------------------------------------------------------------------------
def test_chat_cites_highlights_follows_up_and_refuses(server, page, artifacts_dir) -> None:
    page.goto(server.url + "/", wait_until="load")
    answer = ask_in(page, QUESTION, 0)
    assert "Hanwha Ocean" in answer and "[1]" in answer

    source = page.locator("#chat .sources details.source").first
    # Sources read as the document's title and paragraph, not file offsets.
    assert source.locator("summary").inner_text() == "[1] Korea China Summit, paragraph 4"
    source.locator("summary").click()
    mark = source.locator("mark")
    mark.wait_for(state="visible")
    assert "Hanwha Ocean" in mark.inner_text()
    paragraph = source.locator(".paragraph").inner_text()
    assert len(paragraph) >= len(mark.inner_text())
    page.screenshot(path=str(artifacts_dir / "chat.png"), full_page=True)

    assert "cultural" in answer  # the sentence leaning on the first ("He also noted …")
    follow_up = ask_in(page, "What else did he note?", 1)
    assert "[1]" in follow_up and "Hanwha Ocean" not in follow_up
    assert page.locator("#chat .searched").last.inner_text().startswith("Searched for:")

    not_found = ask_in(page, "Who is the president of France?", 2)
    assert "don't contain" in not_found
    assert "France" in page.locator("#chat .reason").last.inner_text()  # muted, under it
    assert page.locator("#chat .sources").count() == 2  # only the two cited answers

    page.locator("#clear").click()
    page.wait_for_function("() => !document.querySelector('#chat .a-text')")


def test_hostile_question_is_shown_literally(server, page) -> None:
    page.goto(server.url + "/", wait_until="load")
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)> **bold** $x$"
    ask_in(page, hostile, 0)
    assert page.locator("#chat .q-text").first.inner_text() == hostile
    assert page.locator("#chat img[src='x'], #chat strong").count() == 0
    too_long = "why " * 1000
    error = ask_in(page, too_long, 1)
    assert "limit is 2,000" in error
    # The chat goes on after the refusal: the next answer arriving is the event to wait for.
    assert "Hanwha Ocean" in ask_in(page, QUESTION, 2)
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_invalid_and_invisible_characters_in_the_chat(server, page) -> None:
    """A lone surrogate (what a broken paste gives) and zero-width characters inside a word
    are removed: the question is answered, no error overlay, and the chat goes on; a question
    of invisible characters only is empty and leaves no bubble."""
    page.goto(server.url + "/", wait_until="load")
    box = page.locator("#question textarea")
    typed = "(box, text) => { box.value = text; box.dispatchEvent(new Event('input')) }"
    box.evaluate(typed, "\ud800 What did Lee raise about Han\u200bwha Ocean?")
    box.press("Enter")
    page.locator("#chat .a-text.final").first.wait_for(timeout=30_000)
    assert page.locator("#chat .q-text").first.inner_text() == QUESTION
    assert "sanctions" in page.locator("#chat .a-text.final").first.inner_text()

    box.fill("\u200b\u2060\u202e \u00ad")
    box.press("Enter")
    # Handled when the server gives the box back empty (a new question before that is ignored).
    page.wait_for_function("() => document.querySelector('#question textarea').value === ''")
    assert "seven" in ask_in(page, "How many agreements were signed?", 1)
    assert page.locator("#chat .q-text").count() == 2  # the invisible question left no bubble
    assert page.locator(".toast-body, .error").count() == 0
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_error_bubbles_have_no_votes(server, page) -> None:
    page.goto(server.url + "/", wait_until="load")
    ask_in(page, QUESTION, 0)
    ask_in(page, "why " * 1000, 1)
    assert page.locator("#chat .a-error").count() == 1
    # One answer, one error: Like and Dislike only for the answer (hidden ones don't count).
    assert page.locator("#chat").get_by_role("button", name="Like", exact=True).count() == 1
    assert page.locator("#chat").get_by_role("button", name="Dislike", exact=True).count() == 1


def test_copy_gives_plain_text_with_its_sources(server, page) -> None:
    page.goto(server.url + "/", wait_until="load")
    ask_in(page, QUESTION, 0)
    button = page.locator("#chat button.copy-answer").first
    button.click()
    page.locator("#chat button.copy-answer", has_text="Copied").wait_for(timeout=5_000)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "<" not in copied and "class=" not in copied
    text, sources = copied.split("\n\nSources:\n")
    assert text.startswith("President Lee raised") and text.endswith("[2]")
    assert sources.startswith("[1] Korea China Summit, paragraph 4 (korea_china_summit.txt): “")


def test_feedback_one_vote_per_answer_undo_and_export(server, page, tmp_path: Path) -> None:
    page.goto(server.url + "/", wait_until="load")
    before = len(votes(server)) if server.feedback_db.exists() else 0
    ask_in(page, QUESTION, 0)
    liked = vote_on_last_answer(page, "Like", "like")
    rows = votes(server)
    assert len(rows) == before + 1 and rows[-1][0] == int(liked)
    assert rows[-1][1:3] == ("like", QUESTION) and json.loads(rows[-1][3])[0]["n"] == 1

    disliked = vote_on_last_answer(page, "Dislike", "dislike")
    assert disliked == liked  # the same answer's vote, replaced
    assert [r[:2] for r in votes(server)[before:]] == [(int(liked), "dislike")]

    vote_on_last_answer(page, "Disliked", "none")  # clicking it again takes the vote back
    assert len(votes(server)) == before

    vote_on_last_answer(page, "Like", "like")
    target = tmp_path / "feedback.csv"
    env = {**os.environ, "ASSISTANT_FEEDBACK_DB": str(server.feedback_db)}
    done = subprocess.run(
        [sys.executable, "app.py", "feedback", "export", str(target)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "written" in done.stdout
    with target.open(encoding="utf-8") as f:
        exported = list(csv.DictReader(f))
    assert exported[-1]["rating"] == "like" and exported[-1]["question"] == QUESTION
    assert exported[-1]["created_at"] and exported[-1]["answer_id"]


def test_documents_panel_and_example_questions_from_a_file(server, page) -> None:
    page.goto(server.url + "/", wait_until="load")
    buttons = page.locator("#examples button")
    buttons.first.wait_for()
    assert buttons.all_inner_texts() == list(EXAMPLES)
    page.locator("#documents").get_by_text("Documents").click()
    row = page.locator("#documents tbody tr").first
    row.wait_for(timeout=10_000)
    cells = row.locator("td").all_inner_texts()
    assert cells[:3] == ["Korea China Summit", "korea_china_summit.txt", "21"]
    assert cells[3][:4].isdigit()  # when its index was written

    listed = httpx.get(f"{server.url}/api/documents", timeout=10).json()["documents"]
    assert [(d["title"], d["source"], d["passages"]) for d in listed] == [
        ("Korea China Summit", "korea_china_summit.txt", 21)
    ]

    buttons.first.click()  # an example asks itself
    assert "seven" in page.locator("#chat .a-text.final").first.inner_text(timeout=30_000)


def _box(page, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box


@pytest.mark.parametrize(
    ("name", "path", "width", "height"),
    [("embed-420", "/embed/", 420, 640), ("phone-390", "/", 390, 844)],
)
def test_narrow_layouts(server, browser, artifacts_dir, name, path, width, height) -> None:
    """In the compact view at 420 px and on a phone: the placeholder sits below the
    "Conversation" label, and Ask and Clear stay on the question's row."""
    page = new_page(browser, width, height)
    try:
        page.goto(server.url + path, wait_until="load")
        page.locator("#question textarea").wait_for(timeout=30_000)
        label = _box(page, "#chat label[data-testid='block-label']")
        text = page.locator("#chat").get_by_text("Ask a question about the news.")
        placeholder = text.bounding_box()
        assert placeholder is not None
        assert placeholder["y"] >= label["y"] + label["height"], (label, placeholder)
        ask, clear, question = (_box(page, s) for s in ("#ask", "#clear", "#question"))
        assert abs(clear["y"] - ask["y"]) < 2 and abs(question["y"] - ask["y"]) < 20
        assert clear["x"] + clear["width"] <= width
        page.screenshot(path=str(artifacts_dir / f"{name}-empty.png"))
        ask_in(page, QUESTION, 0)
        page.screenshot(path=str(artifacts_dir / f"{name}.png"), full_page=True)
    finally:
        page.context.close()


# -- embedding ------------------------------------------------------------------------------
def test_embed_iframe_on_another_origin(server, page, host_page) -> None:
    host_url, root = host_page
    (root / "iframe.html").write_text(
        f'<!doctype html><h1>Intranet</h1><iframe id="qa" src="{server.url}/embed/" '
        'style="width:100%;height:600px;border:0"></iframe>'
    )
    response = httpx.get(f"{server.url}/embed/")
    assert host_url in response.headers["content-security-policy"]
    page.goto(f"{host_url}/iframe.html", wait_until="load")
    frame = page.frame_locator("#qa")
    frame.locator("#question textarea").wait_for(timeout=30_000)
    answer = ask_in(frame, QUESTION, 0)
    assert "Hanwha Ocean" in answer
    assert frame.locator("footer").count() == 0 or not frame.locator("footer").is_visible()


def test_embed_without_the_slash_redirects(server) -> None:
    response = httpx.get(f"{server.url}/embed?x=1", timeout=10)
    assert response.status_code == 308
    assert response.headers["location"].endswith("/embed/?x=1")
    assert httpx.get(f"{server.url}/embed", follow_redirects=True, timeout=10).status_code == 200


def test_web_component_loads_only_from_our_server(server, page, host_page) -> None:
    host_url, root = host_page
    (root / "component.html").write_text(
        f'<!doctype html><script type="module" src="{server.url}/gradio.js"></script>'
        f'<h1>Intranet</h1><gradio-app src="{server.url}/embed/"></gradio-app>'
    )
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{host_url}/component.html", wait_until="load")
    page.locator("#question textarea").wait_for(timeout=30_000)
    answer = ask_in(page, QUESTION, 0)
    assert "Hanwha Ocean" in answer
    outside = [u for u in requests if not u.startswith("http://127.0.0.1:")]
    assert outside == [], outside
    assert f"{server.url}/gradio.js" in requests


def test_framing_and_cors_are_strict_by_default(servers) -> None:
    locked = servers["both"]
    response = httpx.get(f"{locked.url}/healthz", headers={"Origin": "http://evil.example"})
    assert response.headers["content-security-policy"] == "frame-ancestors 'self'"
    assert "access-control-allow-origin" not in response.headers


# -- JSON API ---------------------------------------------------------------------------------
def test_api_contract_and_errors(server) -> None:
    response = api_ask(server, QUESTION)
    assert response.status_code == 200
    data = response.json()
    assert tuple(data) == ANSWER_FIELDS
    assert data["status"] == "answered" and data["citations"][0]["n"] == 1
    assert data["citations"][0]["start"] == 1118  # offsets stay in the API
    assert api_ask(server, "Who is the president of France?").json()["citations"] == []

    assert api_ask(server, "   ").status_code == 422
    too_long = api_ask(server, "x" * 2001)
    assert too_long.status_code == 413 and "limit" in too_long.json()["message"]
    bad = httpx.post(
        f"{server.url}/api/ask",
        content=b"{not json",
        timeout=10,
        headers={"Content-Type": "application/json"},
    )
    assert bad.status_code == 400 and bad.json()["error"] == "malformed_json"
    wrong = httpx.post(f"{server.url}/api/ask", json={"history": "x"}, timeout=10)
    assert wrong.status_code == 422 and wrong.json()["error"] == "invalid_request"
    role = api_ask(server, QUESTION, [{"role": "system", "content": "x"}])
    assert role.status_code == 422

    health = httpx.get(f"{server.url}/healthz").json()
    assert health["model_loaded"] is True and health["passages_indexed"] > 0
    assert health["version"]
    assert "/api/ask" in httpx.get(f"{server.url}/openapi.json").json()["paths"]
    docs = httpx.get(f"{server.url}/docs").text
    assert "openapi.json" in docs and "cdn" not in docs.lower()


# -- access control and replicas --------------------------------------------------------------
def login_in(page, user: str, password: str) -> None:
    page.locator("input[type=password]").wait_for(timeout=20_000)
    assert page.locator("#question").count() == 0
    page.locator("input[type=text], input:not([type])").first.fill(user)
    page.locator("input[type=password]").fill(password)
    page.get_by_role("button", name="Login").click()
    page.locator("#question textarea").wait_for(timeout=20_000)


def test_login_and_api_key_when_configured(servers, page) -> None:
    locked = servers["both"]
    assert api_ask(locked, QUESTION).status_code == 401
    assert api_ask(locked, QUESTION, Authorization="Bearer wrong").status_code == 401
    ok = api_ask(locked, QUESTION, Authorization=f"Bearer {API_KEY}")
    assert ok.status_code == 200
    assert httpx.get(f"{locked.url}/healthz").status_code == 200

    page.goto(locked.url + "/", wait_until="load")
    login_in(page, USER, PASSWORD)
    assert "Hanwha Ocean" in ask_in(page, QUESTION, 0)


def test_with_only_an_api_key_the_chat_asks_for_it(servers, page) -> None:
    keyed = servers["key"]
    page.goto(keyed.url + "/embed/", wait_until="load")
    login_in(page, "anyone", API_KEY)
    assert "Hanwha Ocean" in ask_in(page, QUESTION, 0)


def test_two_replicas_answer_a_conversation_identically(servers) -> None:
    first, second = servers["open"], servers["both"]
    auth = {"Authorization": f"Bearer {API_KEY}"}
    turns = [QUESTION, "What else did he note?", "How many agreements were signed?"]
    transcripts = []
    for server in (first, second):
        history: list[dict[str, str]] = []
        answers = []
        for turn in turns:
            data = api_ask(server, turn, history, **auth).json()
            data.pop("latency_ms")
            answers.append(data)
            history += [
                {"role": "user", "content": turn},
                {"role": "assistant", "content": data["answer"]},
            ]
        transcripts.append(answers)
    assert transcripts[0] == transcripts[1]
    assert "cultural" in transcripts[0][0]["answer"]
    assert "Hanwha Ocean" not in transcripts[0][1]["answer"]  # "what else" moves on


def test_serve_ingests_when_the_index_is_missing(indexed_settings, tmp_path: Path) -> None:
    fresh = indexed_settings.model_copy(update={"index_dir": tmp_path / "new-index"})
    server = start_server(fresh, tmp_path / "fb.sqlite3")
    try:
        server.process.wait_healthy()
        health = httpx.get(f"{server.url}/healthz").json()
        assert health["passages_indexed"] > 0
        assert "ingesting" in server.process.output()
        assert api_ask(server, QUESTION).json()["citations"][0]["n"] == 1
    finally:
        server.process.stop()


def test_a_running_server_answers_from_a_reingested_index(
    fresh_settings: Settings, embedder, tmp_path: Path
) -> None:
    """An ingest by another process (here: the test) is served within the reload interval."""
    from ingest import ingest

    question = "What did the chess federation decide about the Busan tournament?"
    (fresh_settings.data_dir / "summit.txt").write_bytes(CORPUS.read_bytes())
    ingest(fresh_settings, embedder)
    server = start_server(fresh_settings, tmp_path / "fb.sqlite3", ASSISTANT_RELOAD_INTERVAL="0.2")
    try:
        server.process.wait_healthy()
        assert api_ask(server, question).json()["status"] == "not_found"
        indexed = httpx.get(f"{server.url}/healthz", timeout=5).json()["passages_indexed"]

        (fresh_settings.data_dir / "chess.txt").write_text(
            "The chess federation decided to move the Busan tournament to the spring.\n",
            encoding="utf-8",
        )
        ingest(fresh_settings, embedder)
        deadline = time.monotonic() + 20
        while (answer := api_ask(server, question).json())["status"] != "answered":
            assert time.monotonic() < deadline, server.process.output()
            time.sleep(0.2)  # the next poll of the API
        assert [c["source"] for c in answer["citations"]] == ["chess.txt"]
        health = httpx.get(f"{server.url}/healthz", timeout=5).json()
        assert health["passages_indexed"] == indexed + 1
    finally:
        server.process.stop()


class _PrefixProxy(http.server.BaseHTTPRequestHandler):
    """A reverse proxy like the README's nginx one: only ``/qa/…`` is forwarded, path as it
    is, with ``X-Forwarded-*``; responses are streamed (answers arrive as server-sent events).
    Anything else is another part of the intranet: 404 here."""

    protocol_version = "HTTP/1.1"
    prefix = "/qa"
    upstream_port = 0
    seen: ClassVar[list[str]] = []

    def log_message(self, *args: object) -> None:
        pass

    def _forward(self) -> None:
        import http.client

        self.seen.append(f"{self.command} {self.path}")
        if self.path != self.prefix and not self.path.startswith(self.prefix + "/"):
            self.send_error(404, "not under the proxied prefix")  # the rest of the intranet
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        hop = {"connection", "keep-alive", "transfer-encoding", "upgrade"}
        headers = {k: v for k, v in self.headers.items() if k.lower() not in hop}
        headers |= {
            "X-Forwarded-Host": self.headers["Host"],
            "X-Forwarded-Proto": "http",
            "X-Forwarded-For": self.client_address[0],
        }
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=60)
        upstream.request(self.command, self.path, body=body, headers=headers)
        response = upstream.getresponse()
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in hop | {"content-length"}:
                self.send_header(key, value)
        self.send_header("Connection", "close")
        self.close_connection = True
        if self.command == "HEAD":
            self.end_headers()
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        while chunk := response.read1(65536):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        upstream.close()

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _forward


def test_chat_behind_a_reverse_proxy_under_a_sub_path(
    indexed_settings: Settings, page, tmp_path: Path
) -> None:
    """``ASSISTANT_ROOT_PATH=/qa`` behind a proxy: the page, its assets, the answer stream
    and the API all work through ``/qa/``, and the browser never needs the server's own port."""
    server = start_server(indexed_settings, tmp_path / "fb.sqlite3", ASSISTANT_ROOT_PATH="/qa")
    handler = type("Proxy", (_PrefixProxy,), {"seen": []})
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    public = f"http://127.0.0.1:{proxy.server_address[1]}/qa"
    try:
        server.process.wait_healthy()
        handler.upstream_port = int(server.url.rsplit(":", 1)[1])
        direct: list[str] = []
        failed: list[str] = []
        page.on("request", lambda r: direct.append(r.url) if server.url in r.url else None)
        page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
        page.goto(public + "/", wait_until="load")
        answer = ask_in(page, QUESTION, 0)
        assert "Hanwha Ocean" in answer and "[1]" in answer
        assert direct == [] and failed == []
        assert any("/qa/" in line and line.startswith("POST") for line in handler.seen)

        api = httpx.post(f"{public}/api/ask", json={"question": QUESTION}, timeout=30)
        assert api.status_code == 200 and api.json()["status"] == "answered"
    finally:
        proxy.shutdown()
        server.process.stop()
