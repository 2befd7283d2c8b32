"""Access control, limits and the error contract against real servers on 127.0.0.1, one per
access mode (``tests/web_fixtures.py``): every route the app exposes, Gradio's included, is
probed in every mode, so a route that appears without a decision here fails the matrix.
"""

from __future__ import annotations

import json
import re
import select
import socket
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from enum import Enum

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from assistant import Settings
from tests.chat_queue import event_ids, run_event
from tests.web_fixtures import MODES, PASSWORD, QUESTION, USER, Server, chat_session

pytestmark = pytest.mark.server

LIMIT_BYTES = Settings().max_body_bytes
LIMIT_TURNS = Settings().max_history_turns
LIMIT_CHARS = Settings().max_history_chars
GATE_404 = {"error": "not_found", "message": "No such route."}
GATE_401 = {"error": "unauthorized", "message": "Log in to the chat first."}


class Need(Enum):
    PUBLIC = "anyone"
    CHAT = "a chat session when the chat has a login (login, key, both)"
    API = "the API key when one is set (key, both)"
    OFF = "nobody: 404 in every mode"


#: Every route of ours (FastAPI) and what it needs.
OWN = {
    "/openapi.json": Need.PUBLIC,
    "/docs": Need.PUBLIC,
    "/healthz": Need.PUBLIC,
    "/gradio.js": Need.PUBLIC,
    "/embed": Need.PUBLIC,
    "/api/ask": Need.API,
    "/api/documents": Need.API,
    "/api/{rest:path}": Need.PUBLIC,  # the contract's 404 for unknown API paths
}
#: Every route Gradio mounts, at ``/`` and ``/embed``, and what it needs.
CHAT_ROUTES = {
    **dict.fromkeys(
        [
            "/",
            "/login",
            "/login/",
            "/logout",
            "/assets/{path:path}",
            "/static/{path:path}",
            "/favicon.ico",
            "/theme.css",
        ],
        Need.PUBLIC,
    ),
    **dict.fromkeys(
        [
            "/config",
            "/config/",
            "/gradio_api/queue/join",
            "/gradio_api/queue/data",
            "/gradio_api/heartbeat/{session_hash}",
            "/gradio_api/cancel",
            "/gradio_api/info",  # answered empty: the web component asks before each event
            "/gradio_api/info/",
        ],
        Need.CHAT,
    ),
    **dict.fromkeys(
        [
            "/openapi.json",
            "/svelte/{path:path}",
            "/gradio_api/deep_link",
            "/robots.txt",
            "/pwa_icon/{size}",
            "/pwa_icon",
            "/manifest.json",
            "/monitoring",
            "/monitoring/summary",
            "/monitoring/{key}",
            "/gradio_api/user/",
            "/gradio_api/user",
            "/gradio_api/login_check/",
            "/gradio_api/login_check",
            "/gradio_api/token/",
            "/gradio_api/token",
            "/gradio_api/app_id/",
            "/gradio_api/app_id",
            "/gradio_api/dev/reload",
            "/gradio_api/runs/",
            "/gradio_api/runs",
            "/gradio_api/openapi.json",
            "/gradio_api/custom_component/{id}/{environment}/{type}/{file_name}",
            "/gradio_api/proxy={url_path:path}",
            "/gradio_api/file={path_or_url:path}",
            "/gradio_api/stream/{event_id}",
            "/gradio_api/stream/{event_id}/close",
            "/gradio_api/stream/{session_hash}/{run}/{component_id}/playlist.m3u8",
            "/gradio_api/stream/{session_hash}/{run}/{component_id}/{segment_id}.{ext}",
            "/gradio_api/stream/{session_hash}/{run}/{component_id}/playlist-file",
            "/gradio_api/file/{path:path}",
            "/gradio_api/reset",
            "/gradio_api/reset/",
            "/gradio_api/api/{api_name}/",
            "/gradio_api/api/{api_name}",
            "/gradio_api/run/{api_name}/",
            "/gradio_api/run/{api_name}",
            "/gradio_api/call/v2/{api_name}/",
            "/gradio_api/call/v2/{api_name}",
            "/gradio_api/call/{api_name}/",
            "/gradio_api/call/{api_name}",
            "/gradio_api/call/{api_name}/{event_id}",
            "/gradio_api/call/v2/{api_name}/{event_id}",
            "/gradio_api/component_server/",
            "/gradio_api/component_server",
            "/gradio_api/queue/status",
            "/gradio_api/upload_progress",
            "/gradio_api/upload",
            "/gradio_api/startup-events",
            "/gradio_api/theme.css",
            "/gradio_api/process_recording",
            "/gradio_api/vibe-edit",
            "/gradio_api/vibe-edit/",
            "/gradio_api/undo-vibe-edit",
            "/gradio_api/undo-vibe-edit/",
            "/gradio_api/vibe-code",
            "/gradio_api/vibe-code/",
            "/gradio_api/vibe-starter-queries",
            "/gradio_api/vibe-starter-queries/",
        ],
        Need.OFF,
    ),
}
#: Values for path parameters when probing (``chat`` for api names: the chat's own event).
SAMPLES = {"api_name": "chat", "path": "index.html", "path_or_url": "/etc/hostname"}


def exposed_routes(app) -> list[tuple[str | None, str, frozenset[str]]]:
    """(mount, route path, methods) of every route the app serves, mounts walked into; the
    mount is None for our own routes, ``""`` for the chat at ``/``."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Mount):
            for inner in iter_route_contexts(route.app.routes):
                found.append((route.path, str(inner.path), frozenset(inner.methods or ())))
        else:
            found.append((None, str(context.path), frozenset(context.methods or ())))
    return found


@pytest.fixture(scope="module")
def routes(assistant, indexed_settings: Settings) -> list[tuple[str | None, str, frozenset[str]]]:
    """The routes of the app the servers run, built here the same way (not served)."""
    from web.server import create_app

    return exposed_routes(create_app(indexed_settings, assistant))


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: SAMPLES.get(m.group(1), f"x{m.group(1)}"), path)


def probe(client: httpx.Client, method: str, url: str, **kwargs) -> tuple[int, object]:
    """Status and (for JSON errors) body of one request; streams are closed after the head."""
    with client.stream(method, url, timeout=10, follow_redirects=False, **kwargs) as response:
        body: object = None
        if response.status_code >= 400 and "json" in response.headers.get("content-type", ""):
            body = json.loads(response.read())
        return response.status_code, body


def _refused(status: int, body: object) -> bool:
    return status == 401 or body in (GATE_404, GATE_401)


def test_every_route_has_a_decision(routes) -> None:
    """A route Gradio (or we) add without a line in the tables above fails here."""
    unknown = [
        f"{'ours' if mount is None else mount or '/'}: {path}"
        for mount, path, _ in routes
        if (OWN if mount is None else CHAT_ROUTES).get(path) is None
    ]
    assert unknown == [], "classify these routes in OWN or CHAT_ROUTES: " + ", ".join(unknown)


@pytest.mark.parametrize("mode", MODES)
def test_route_matrix(servers: dict[str, Server], routes, mode: str) -> None:
    """Each route in each mode: refused without the credential its row needs, let through
    with it (the answer may still be a 404 of a missing file or a 422 of an empty body)."""
    server = servers[mode]
    failures: list[str] = []
    sessions = {mount: chat_session(server, mount) for mount in ("", "/embed")}
    anonymous = httpx.Client()
    try:
        for mount, path, methods in routes:
            need = (OWN if mount is None else CHAT_ROUTES)[path]
            if mount == "" and path in OWN:  # shadowed by our own route of the same path
                continue
            url = f"{server.url}{mount or ''}{concrete(path)}"
            for method in sorted(methods - {"HEAD"}) or ["GET"]:
                body = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
                status, payload = probe(anonymous, method, url, **body)
                locked = (need is Need.CHAT and server.login is not None) or (
                    need is Need.API and bool(server.api_headers)
                )
                if need is Need.OFF and payload != GATE_404:
                    failures.append(f"{method} {url}: {status} {payload} (should be closed)")
                elif need is not Need.OFF and locked != _refused(status, payload):
                    failures.append(f"{method} {url} anonymous: {status} {payload}")
                if need is Need.PUBLIC and path in ("/logout",):
                    continue  # with a session it would end it
                if need in (Need.CHAT, Need.OFF) and server.login:
                    client = sessions[mount or ""]
                    status, payload = probe(client, method, url, **body)
                    if (need is Need.OFF) != (payload == GATE_404) or status == 401:
                        failures.append(f"{method} {url} with a session: {status} {payload}")
                if need is Need.API and server.api_headers:
                    status, payload = probe(anonymous, method, url, headers=server.api_headers)
                    if _refused(status, payload):
                        failures.append(f"{method} {url} with the key: {status} {payload}")
    finally:
        anonymous.close()
        for client in sessions.values():
            client.close()
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize("mode", MODES)
def test_gradio_side_doors_are_closed(servers: dict[str, Server], tmp_path, mode: str) -> None:
    """The attacks of the review, with a chat session where there is a login: Gradio's call
    API, its API description, uploads and file reads are closed in every mode."""
    server = servers[mode]
    upload = tmp_path / "small.bin"
    upload.write_bytes(b"x" * 100)
    for mount in ("", "/embed"):
        with closing(chat_session(server, mount)) as client:
            base = f"{server.url}{mount}"
            call = client.post(
                f"{base}/gradio_api/call/chat", json={"data": ["How many agreements?", []]}
            )
            assert call.status_code == 404 and call.json() == GATE_404
            info = client.get(f"{base}/gradio_api/info", params={"all_endpoints": "true"})
            assert info.json() == {"named_endpoints": {}, "unnamed_endpoints": {}}
            with upload.open("rb") as f:
                sent = client.post(f"{base}/gradio_api/upload", files={"files": f})
            assert sent.status_code == 404
            assert client.get(f"{base}/gradio_api/file=/etc/hostname").status_code == 404
            page = client.get(f"{base}/").text
            links = re.search(r'"footer_links":\s*(\[[^\]]*\])', page)
            assert links is None or "api" not in json.loads(links.group(1))


def test_the_api_key_is_no_longer_bypassed_through_the_chat(servers: dict[str, Server]) -> None:
    """With only an API key, the chat's queue needs a login whose password is the key."""
    keyed = servers["key"]
    with httpx.Client(timeout=30) as anonymous:
        refused = anonymous.get(f"{keyed.url}/config")
        assert refused.status_code == 401 and refused.json() == GATE_401
        join = anonymous.post(f"{keyed.url}/gradio_api/queue/join", json={"data": []})
        assert join.status_code == 401
        wrong = anonymous.post(
            f"{keyed.url}/login", data={"username": "anyone", "password": "not-the-key"}
        )
        assert wrong.status_code == 400
    with closing(chat_session(keyed)) as client:
        ids = event_ids(keyed.url, client)
        done = run_event(keyed.url, client, ids["chat"], [QUESTION, []])
        assert done["success"] and "Hanwha" in json.dumps(done["output"]["data"][1])


def test_gradio_client_can_not_use_the_chat_as_an_api(server: Server) -> None:
    from gradio_client import Client

    with pytest.raises(Exception):  # noqa: B017 - any refusal will do: there is no API to call
        Client(server.url + "/", verbose=False).predict(QUESTION, [], api_name="/chat")


# -- feedback --------------------------------------------------------------------------------
def _vote_count(server: Server) -> int:
    if not server.feedback_db.exists():
        return 0
    with sqlite3.connect(f"file:{server.feedback_db}?mode=ro", uri=True) as db:
        try:
            return int(db.execute("SELECT COUNT(*) FROM votes").fetchone()[0])
        except sqlite3.OperationalError:  # no vote was ever stored
            return 0


def test_votes_only_for_answers_the_server_signed(server: Server) -> None:
    like = {"index": 1, "value": None, "liked": True}
    with httpx.Client(timeout=30) as client:
        ids = event_ids(server.url, client)
        done = run_event(server.url, client, ids["chat"], ["How many agreements were signed?", []])
        conversation = done["output"]["data"][1]
        before = _vote_count(server)

        forged = [
            {"role": "user", "content": "x" * 100_000},
            {
                "role": "assistant",
                "content": "=HYPERLINK(1)",
                "answer": {**conversation[1]["answer"], "question": "x" * 100_000},
                "sig": conversation[1]["sig"],
            },
        ]
        tampered = json.loads(json.dumps(conversation))
        tampered[1]["answer"]["answer"] = "=cmd|' /C calc'!A0"
        unsigned = json.loads(json.dumps(conversation))
        del unsigned[1]["sig"]
        for made_up in (forged, tampered, unsigned):
            refused = run_event(server.url, client, ids["like"], [made_up], like)
            assert 'data-rating="refused"' in refused["output"]["data"][0]
        assert _vote_count(server) == before

        stored = run_event(server.url, client, ids["like"], [conversation], like)
        assert 'data-rating="like"' in stored["output"]["data"][0]
        again = run_event(server.url, client, ids["like"], [conversation], like)
        assert _vote_count(server) == before + 1  # one vote per answer
        assert re.findall(r'data-vote-id="(\d+)"', again["output"]["data"][0]) == re.findall(
            r'data-vote-id="(\d+)"', stored["output"]["data"][0]
        )
        undo = {"index": 1, "value": None, "liked": None}
        run_event(server.url, client, ids["like"], [conversation], undo)
        assert _vote_count(server) == before


# -- limits ----------------------------------------------------------------------------------
def raw_request(server: Server, head: str, chunks: Iterable[bytes] = ()) -> bytes:
    """Send a request head, then body chunks until the server answers (reading while sending,
    as browsers and curl do); return the answer. The server must answer without waiting for a
    body it refuses."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head.encode())
        sock.setblocking(False)
        for chunk in chunks:
            view = memoryview(chunk)
            while view:
                readable, writable, _ = select.select([sock], [sock], [], 30)
                if readable:
                    return _read_all(sock)
                if writable:
                    try:
                        view = view[sock.send(view) :]
                    except (ConnectionResetError, BrokenPipeError):
                        # It answered and closed between the select and the send (seen on a
                        # busy machine): its answer is in our receive buffer.
                        return _read_all(sock)
        return _read_all(sock)


def _read_all(sock: socket.socket) -> bytes:
    sock.settimeout(30)
    answer = b""
    try:
        while chunk := sock.recv(65536):  # the refusal closes the connection
            answer += chunk
    except ConnectionResetError:  # closed with our unread body in its buffer: answer is in
        pass
    return answer


def declared(path: str, length: int) -> str:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
    )


def chunked(path: str, total: int) -> tuple[str, Iterator[bytes]]:
    """A body of ``total`` bytes, streamed without a length."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    piece = b"x" * 65536
    chunks = (b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(total // len(piece)))
    return head, chunks


def _status_and_body(raw: bytes) -> tuple[int, dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


@pytest.mark.parametrize(
    ("path", "streamed"),
    [("/api/ask", 413), ("/gradio_api/queue/join", 413), ("/embed/gradio_api/upload", 404)],
)
def test_bodies_over_the_limit_are_refused_before_they_are_read(
    server: Server, path: str, streamed: int
) -> None:
    # 200 MB declared and never sent: the 413 comes back at once.
    status, body = _status_and_body(raw_request(server, declared(path, 200_000_000)))
    assert status == 413 and body["error"] == "body_too_large"
    # Streamed without a length: cut off at the limit (an upload: refused before any byte).
    status, body = _status_and_body(raw_request(server, *chunked(path, 2 * LIMIT_BYTES)))
    assert status == streamed and body["error"] in ("body_too_large", "not_found")


def test_conversations_over_the_limits_are_refused_everywhere(server: Server) -> None:
    turn = {"role": "user", "content": "x"}
    too_many = api_post(server, {"question": QUESTION, "history": [turn] * (LIMIT_TURNS + 1)})
    assert too_many.status_code == 413 and too_many.json()["error"] == "history_too_long"
    chars = LIMIT_CHARS // 10 + 1
    too_long = api_post(
        server, {"question": QUESTION, "history": [{"role": "user", "content": "y" * chars}] * 10}
    )
    assert too_long.status_code == 413 and "characters" in too_long.json()["message"]

    with httpx.Client(timeout=60) as client:
        ids = event_ids(server.url, client)
        # The review's attack: 10,000 turns to the chat's queue (here small enough to pass the
        # body limit, so the turn limit is what refuses it).
        many = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}] * 5000
        done = run_event(server.url, client, ids["chat"], [QUESTION, many])
        bubbles, conversation, _ = done["output"]["data"]
        assert "limit is 100" in json.dumps(bubbles[-1]) and len(conversation) == 10_000
        assert len(json.dumps(done["output"])) < 2 * LIMIT_BYTES


def api_post(server: Server, body: object, **headers: str) -> httpx.Response:
    """POST JSON as escaped ASCII, so a lone surrogate travels as ``\\ud800`` (as browsers send
    it) rather than failing to encode here."""
    headers = {"Content-Type": "application/json", **headers}
    return httpx.post(
        f"{server.url}/api/ask", content=json.dumps(body), headers=headers, timeout=60
    )


def vm_rss_kb(server: Server) -> int:
    with open(f"/proc/{server.process.proc.pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_memory_stays_bounded_at_every_limit(server: Server) -> None:
    """20 requests at each limit (and just over it) leave the server within +50 MB."""
    history = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": "z" * (LIMIT_CHARS // 100)}
        for i in range(LIMIT_TURNS)
    ]
    at_limit = {"question": "w" * 2000, "history": history}
    pad = LIMIT_BYTES - len(json.dumps(at_limit)) - 100
    full_body = {**at_limit, "padding": "p" * pad}
    conversation = [
        {"role": t["role"], "content": t["content"]} for t in history[: LIMIT_TURNS - 2]
    ]

    def one_round(client: httpx.Client, ids: dict[str, int]) -> None:
        assert api_post(server, full_body).status_code == 200
        assert api_post(server, {**at_limit, "history": [*history, history[0]]}).status_code == 413
        assert api_post(server, {"question": "w" * 2001}).status_code == 413
        assert _status_and_body(raw_request(server, declared("/api/ask", 200_000_000)))[0] == 413
        head, chunks = chunked("/gradio_api/queue/join", 2 * LIMIT_BYTES)
        assert _status_and_body(raw_request(server, head, chunks))[0] == 413
        done = run_event(server.url, client, ids["chat"], [QUESTION, conversation])
        assert done["success"]

    with httpx.Client(timeout=60) as client:
        ids = event_ids(server.url, client)
        one_round(client, ids)  # warm: first-use allocations are not growth
        before = vm_rss_kb(server)
        for _ in range(20):
            one_round(client, ids)
        grown_mb = (vm_rss_kb(server) - before) / 1024
    print(f"server RSS grew {grown_mb:.1f} MB over 20 rounds at the limits")
    assert grown_mb <= 50


# -- login throttling ------------------------------------------------------------------------
@contextmanager
def from_address(address: str) -> Iterator[httpx.Client]:
    """A client whose requests come, for the server, from ``address`` (the loopback proxy
    it trusts passes it in ``X-Forwarded-For``)."""
    with httpx.Client(timeout=10, headers={"X-Forwarded-For": address}) as client:
        yield client


def test_logins_are_rate_limited_per_user_and_per_address(servers: dict[str, Server]) -> None:
    server = servers["login"]
    login = f"{server.url}/login"
    for n in range(5):  # carol's password guessed from five addresses
        with from_address(f"127.0.0.{10 + n}") as client:
            assert (
                client.post(login, data={"username": "carol", "password": "guess"}).status_code
                == 400
            )
    with from_address("127.0.0.30") as client:
        locked = client.post(login, data={"username": "carol", "password": "c4rol"})
        assert locked.status_code == 429 and locked.json()["error"] == "too_many_logins"
        assert int(locked.headers["retry-after"]) > 0
        assert client.post(login, data={"username": USER, "password": PASSWORD}).status_code == 200

    with from_address("127.0.0.40") as client:  # one address trying many names
        for n in range(20):
            client.post(login, data={"username": f"user{n}", "password": "guess"})
        refused = client.post(login, data={"username": USER, "password": PASSWORD})
        assert refused.status_code == 429
    with from_address("127.0.0.41") as client:
        assert client.post(login, data={"username": USER, "password": PASSWORD}).status_code == 200


# -- the error contract ----------------------------------------------------------------------
def _contract(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"error": code, "message": response.json()["message"]}
    assert response.json()["message"]


def test_one_error_contract(servers: dict[str, Server]) -> None:
    server, keyed = servers["open"], servers["key"]
    ask = f"{server.url}/api/ask"
    _contract(httpx.post(f"{keyed.url}/api/ask", json={"question": QUESTION}), 401, "unauthorized")
    _contract(httpx.get(f"{keyed.url}/api/documents"), 401, "unauthorized")
    headers = {"Content-Type": "application/json"}
    _contract(
        httpx.post(ask, content=b'{"question": "\xff Hanwha"}', headers=headers),
        400,
        "invalid_utf8",
    )
    nested = b"[" * 100_000 + b"]" * 100_000
    _contract(httpx.post(ask, content=nested, headers=headers), 400, "too_deeply_nested")
    plain = httpx.post(
        ask, content=json.dumps({"question": QUESTION}), headers={"Content-Type": "text/plain"}
    )
    _contract(plain, 415, "unsupported_media_type")
    for method in ("GET", "PUT", "DELETE"):
        wrong = httpx.request(method, ask)
        _contract(wrong, 405, "method_not_allowed")
        assert wrong.headers["allow"] == "POST, OPTIONS"
    _contract(httpx.get(f"{server.url}/api/nothing"), 404, "not_found")
    head = httpx.head(f"{server.url}/healthz")
    assert head.status_code == 200 and head.content == b""

    spec = httpx.get(f"{server.url}/openapi.json").json()
    responses = spec["paths"]["/api/ask"]["post"]["responses"]
    for code in ("400", "401", "413", "415", "422", "500"):
        schema = responses[code]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorOut"}
    assert "AskRequest" in json.dumps(spec["paths"]["/api/ask"]["post"]["requestBody"])


def test_invalid_and_invisible_characters_in_the_api(server: Server) -> None:
    lone = api_post(server, {"question": "\ud800 What did Lee raise about Hanwha Ocean?"})
    assert lone.status_code == 200 and lone.json()["question"] == QUESTION
    hidden = api_post(server, {"question": "What did Lee raise about Han\u200bwha O\u00adcean?"})
    assert hidden.json()["question"] == QUESTION and hidden.json()["status"] == "answered"
    for invisible in ("\u200b\u2060\u202e", "\u0085\u009f\u00ad", "\ufeff\u200d"):
        _contract(api_post(server, {"question": invisible}), 422, "empty_question")
    history = [{"role": "user", "content": "\udcff Hanwha \u202eOcean"}]
    assert api_post(server, {"question": "What else?", "history": history}).status_code == 200
