"""Fixtures and helpers shared by the web tests: one real server per access mode, started
once per session on 127.0.0.1, and headless Debian chromium.

- ``open``: no login, no key; allows the host page's origin (CORS) and framing by it (CSP),
  and reads its example questions from a file of the test's own;
- ``login``: a login for the chat (``alice``, and ``carol`` whom the throttling test locks);
- ``key``: an API key and no login (the chat then asks for the key as its password);
- ``both``: login and API key — also the second replica for the same-answers test.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from assistant import Settings
from tests.servers import ServerProcess, app_server

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
QUESTION = "What did Lee raise about Hanwha Ocean?"
API_KEY = "test-key-123"
USER, PASSWORD = "alice", "s3cret"
EXAMPLES = ("How many agreements were signed?", "Who met in Gyeongju?")
MODES = ("open", "login", "key", "both")


@dataclass
class Server:
    url: str
    process: ServerProcess
    feedback_db: Path
    mode: str = "open"

    @property
    def login(self) -> tuple[str, str] | None:
        """The chat's user name and password in this mode (None when the chat is open)."""
        return {
            "login": (USER, PASSWORD),
            "both": (USER, PASSWORD),
            "key": ("anyone", API_KEY),
        }.get(self.mode)

    @property
    def api_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {API_KEY}"} if self.mode in ("key", "both") else {}


def start_server(settings: Settings, db: Path, mode: str = "open", **env: str) -> Server:
    environ = {
        "ASSISTANT_INDEX_DIR": str(settings.index_dir),
        "ASSISTANT_DATA_DIR": str(settings.data_dir),
        "ASSISTANT_FEEDBACK_DB": str(db),
        **env,
    }
    process = app_server(environ)
    return Server(process.url, process, db, mode)


def chat_session(server: Server, mount: str = "") -> httpx.Client:
    """A client logged in to the chat at ``mount`` (``""`` or ``/embed``) when it has a login."""
    client = httpx.Client(timeout=30)
    if server.login:
        user, password = server.login
        form = {"username": user, "password": password}
        client.post(f"{server.url}{mount}/login", data=form).raise_for_status()
    return client


@pytest.fixture(scope="session")
def host_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A static intranet page on another port (another origin) that embeds the chat."""
    root = tmp_path_factory.mktemp("host")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    httpd.shutdown()


@pytest.fixture(scope="session")
def servers(
    indexed_settings: Settings, tmp_path_factory: pytest.TempPathFactory, host_page
) -> Iterator[dict[str, Server]]:
    host_url, _ = host_page
    root = tmp_path_factory.mktemp("web")
    examples = root / "examples.questions"
    examples.write_text("# shown under the chat\n" + "\n".join(EXAMPLES) + "\n", encoding="utf-8")
    env = {
        "open": {
            "ASSISTANT_ALLOWED_ORIGINS": host_url,
            "ASSISTANT_FRAME_ANCESTORS": f"'self' {host_url}",
            "ASSISTANT_EXAMPLES_FILE": str(examples),
        },
        "login": {"ASSISTANT_AUTH_USERS": f"{USER}:{PASSWORD},carol:c4rol"},
        "key": {"ASSISTANT_API_KEY": API_KEY},
        "both": {"ASSISTANT_AUTH_USERS": f"{USER}:{PASSWORD}", "ASSISTANT_API_KEY": API_KEY},
    }
    started = {
        mode: start_server(indexed_settings, root / f"{mode}.sqlite3", mode, **env[mode])
        for mode in MODES
    }
    try:
        for server in started.values():
            server.process.wait_healthy()
        yield started
    finally:
        for server in started.values():
            server.process.stop()


@pytest.fixture(scope="session")
def server(servers: dict[str, Server]) -> Server:
    return servers["open"]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def new_page(browser, width: int = 1100, height: int = 900):
    """A page in a fresh context that records dialogs (none may appear) and may use the
    clipboard (``http://127.0.0.1`` is a secure context)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs  # type: ignore[attr-defined]
    return page


@pytest.fixture()
def page(browser):
    page = new_page(browser)
    yield page
    page.context.close()


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
