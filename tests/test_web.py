"""The web front end end to end: real server processes on 127.0.0.1, real headless chromium.

Servers and the browser are module-scoped (starting them is the slow part):
- ``server``: open access; allows the host page's origin (CORS) and framing by it (CSP);
- ``locked``: login and API key on — also the second replica for the same-answers test.
"""

from __future__ import annotations

import csv
import functools
import http.server
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from assistant import ANSWER_FIELDS, REPO_ROOT, Settings
from tests.conftest import CORPUS
from tests.servers import ServerProcess, app_server

pytestmark = [pytest.mark.server, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
QUESTION = "What did Lee raise about Hanwha Ocean?"
API_KEY = "test-key-123"
USER, PASSWORD = "alice", "s3cret"


@dataclass
class Server:
    url: str
    process: ServerProcess
    feedback_db: Path


def start_server(settings: Settings, db: Path, **env: str) -> Server:
    environ = {
        "ASSISTANT_INDEX_DIR": str(settings.index_dir),
        "ASSISTANT_DATA_DIR": str(settings.data_dir),
        "ASSISTANT_FEEDBACK_DB": str(db),
        **env,
    }
    process = app_server(environ)
    return Server(process.url, process, db)


@pytest.fixture(scope="module")
def host_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A static intranet page on another port (another origin) that embeds the chat."""
    root = tmp_path_factory.mktemp("host")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    httpd.shutdown()


@pytest.fixture(scope="module")
def servers(
    indexed_settings: Settings, tmp_path_factory: pytest.TempPathFactory, host_page
) -> Iterator[tuple[Server, Server]]:
    host_url, _ = host_page
    root = tmp_path_factory.mktemp("web")
    open_server = start_server(
        indexed_settings,
        root / "feedback.sqlite3",
        ASSISTANT_ALLOWED_ORIGINS=host_url,
        ASSISTANT_FRAME_ANCESTORS=f"'self' {host_url}",
    )
    locked = start_server(
        indexed_settings,
        root / "locked.sqlite3",
        ASSISTANT_AUTH_USERS=f"{USER}:{PASSWORD}",
        ASSISTANT_API_KEY=API_KEY,
    )
    try:
        open_server.process.wait_healthy()
        locked.process.wait_healthy()
        yield open_server, locked
    finally:
        open_server.process.stop()
        locked.process.stop()


@pytest.fixture(scope="module")
def server(servers: tuple[Server, Server]) -> Server:
    return servers[0]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs  # type: ignore[attr-defined]
    yield page
    context.close()


# -- helpers ------------------------------------------------------------------------------
def ask_in(frame, question: str, answers_before: int) -> str:
    """Type a question into the chat (page or frame) and return the final answer's text."""
    box = frame.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    # A streamed answer gets the ``final`` class with its last chunk.
    done = frame.locator("#chat .a-text.final, #chat .a-error").nth(answers_before)
    done.wait_for(timeout=30_000)
    return done.inner_text()


def api_ask(server: Server, question: str, history=(), **headers: str) -> httpx.Response:
    body = {"question": question, "history": list(history)}
    return httpx.post(f"{server.url}/api/ask", json=body, headers=headers, timeout=30)


# -- the chat page ------------------------------------------------------------------------
def test_chat_cites_highlights_follows_up_and_refuses(server, page, artifacts_dir) -> None:
    page.goto(server.url + "/", wait_until="load")
    answer = ask_in(page, QUESTION, 0)
    assert "Hanwha Ocean" in answer and "[1]" in answer

    source = page.locator("#chat .sources details.source").first
    assert source.locator("summary").inner_text().startswith("[1]")
    source.locator("summary").click()
    mark = source.locator("mark")
    mark.wait_for(state="visible")
    assert "Hanwha Ocean" in mark.inner_text()
    paragraph = source.locator(".paragraph").inner_text()
    assert len(paragraph) >= len(mark.inner_text())
    page.screenshot(path=str(artifacts_dir / "chat.png"), full_page=True)

    follow_up = ask_in(page, "What else did he note?", 1)
    assert "cultural" in follow_up
    assert page.locator("#chat .searched").last.inner_text().startswith("Searched for:")

    not_found = ask_in(page, "Who is the president of France?", 2)
    assert "don't contain" in not_found
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
    page.wait_for_timeout(300)
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_feedback_is_stored_and_exported(server, page, tmp_path: Path) -> None:
    page.goto(server.url + "/", wait_until="load")
    ask_in(page, QUESTION, 0)
    bot = page.locator("#chat .message-row").filter(has=page.locator(".a-text")).last
    bot.hover()
    page.get_by_role("button", name="Like").last.click()
    deadline = time.monotonic() + 10
    rows: list[tuple] = []
    while time.monotonic() < deadline and not rows:
        try:
            with sqlite3.connect(f"file:{server.feedback_db}?mode=ro", uri=True) as db:
                rows = db.execute(
                    "SELECT rating, question, answer, citations FROM feedback"
                ).fetchall()
        except sqlite3.OperationalError:  # the server hasn't created the file or table yet
            pass
        time.sleep(0.2)
    assert rows and rows[-1][0] == "like" and rows[-1][1] == QUESTION
    assert json.loads(rows[-1][3])[0]["n"] == 1

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
    assert exported[-1]["created_at"]


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
    _, locked = servers
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
    assert wrong.status_code == 422
    role = api_ask(server, QUESTION, [{"role": "system", "content": "x"}])
    assert role.status_code == 422

    health = httpx.get(f"{server.url}/healthz").json()
    assert health["model_loaded"] is True and health["passages_indexed"] > 0
    assert health["version"]
    assert "/api/ask" in httpx.get(f"{server.url}/openapi.json").json()["paths"]
    docs = httpx.get(f"{server.url}/docs").text
    assert "openapi.json" in docs and "cdn" not in docs.lower()


def test_gradio_client_predict(server) -> None:
    from gradio_client import Client

    client = Client(server.url + "/", verbose=False)
    bubbles, conversation, _ = client.predict(QUESTION, [], api_name="/chat")
    assert conversation[-1]["answer"]["citations"][0]["n"] == 1
    assert "Hanwha Ocean" in str(bubbles[-1]["content"])  # gradio 6: a list of parts


# -- access control and replicas --------------------------------------------------------------
def test_login_and_api_key_when_configured(servers, page) -> None:
    _, locked = servers
    assert api_ask(locked, QUESTION).status_code == 401
    assert api_ask(locked, QUESTION, Authorization="Bearer wrong").status_code == 401
    ok = api_ask(locked, QUESTION, Authorization=f"Bearer {API_KEY}")
    assert ok.status_code == 200
    assert httpx.get(f"{locked.url}/healthz").status_code == 200

    page.goto(locked.url + "/", wait_until="load")
    page.locator("input[type=password]").wait_for(timeout=20_000)
    assert page.locator("#question").count() == 0
    page.locator("input[type=text], input:not([type])").first.fill(USER)
    page.locator("input[type=password]").fill(PASSWORD)
    page.get_by_role("button", name="Login").click()
    page.locator("#question textarea").wait_for(timeout=20_000)
    assert "Hanwha Ocean" in ask_in(page, QUESTION, 0)


def test_two_replicas_answer_a_conversation_identically(servers) -> None:
    first, second = servers
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
    assert "cultural" in transcripts[0][1]["answer"]


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
