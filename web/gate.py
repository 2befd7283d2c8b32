"""Which of Gradio's routes are reachable at all, and which need a chat session.

Gradio mounts some eighty routes: its programmatic API (``/gradio_api/call/*``, ``/info``,
``/run/*``), uploads and file serving, monitoring, MCP, run history… The chat needs a handful:
the page and its assets, the login, the config and the queue. This gate is an allow-list in
front of every mount of the chat: everything else is a 404 in every mode, so a route a new
Gradio version adds stays closed until it is listed here (and ``tests/test_web.py`` fails on
it). When the chat has a login, the queue and config also need the session cookie of that
mount — the same check Gradio's ``login_check`` makes, here also for the routes that lack it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum
from typing import Any

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from web.errors import send_error


class Access(Enum):
    """What a route of the chat needs."""

    #: The page shell, its assets and the login form: nothing to protect.
    PUBLIC = "public"
    #: The chat's data (config, queue): a session when the chat has a login.
    CHAT = "chat"
    #: Not used by the chat: 404 in every mode.
    OFF = "off"


#: Gradio's API description: the web component asks for it before its first event, but it
#: describes every endpoint (``?all_endpoints=true`` the private ones too). An empty one is
#: answered instead, so the component works and nothing is described.
_API_INFO = re.compile(r"/gradio_api/info/?")
EMPTY_API_INFO = b'{"named_endpoints": {}, "unnamed_endpoints": {}}'

_PUBLIC = re.compile(r"/|/assets/.+|/static/.+|/theme\.css|/favicon\.ico|/login/?|/logout/?")
_CHAT = re.compile(
    r"/config/?|/gradio_api/queue/join|/gradio_api/queue/data"
    r"|/gradio_api/heartbeat/[^/]+|/gradio_api/cancel"
)


def chat_access(sub_path: str) -> Access:
    """The access a path inside a chat mount (``/embed/x`` → ``/x``) needs."""
    if _PUBLIC.fullmatch(sub_path):
        return Access.PUBLIC
    if _CHAT.fullmatch(sub_path) or _API_INFO.fullmatch(sub_path):
        return Access.CHAT
    return Access.OFF


def route_path(scope: Scope) -> str:
    """The path without the public prefix a proxy may have kept (``/qa/embed/`` → ``/embed/``)."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and (path == root or path.startswith(root + "/")):
        return path[len(root) :] or "/"
    return path


class ChatGate:
    """ASGI middleware: the allow-list and session check for the chat mounts.

    ``own`` are the paths FastAPI serves itself (passed through: their routes guard themselves);
    ``mounts`` maps each chat mount's prefix (``""``, ``/embed``) to its Gradio app, filled in
    once mounted; ``login`` says whether the chat has a login.
    """

    def __init__(
        self,
        app: ASGIApp,
        own: re.Pattern[str],
        mounts: Mapping[str, Any],
        login: bool,
    ) -> None:
        self.app = app
        self.own = own
        self.mounts = mounts
        self.login = login

    def _mount(self, path: str) -> tuple[str, str]:
        """(mount prefix, path inside it); the longest prefix wins."""
        for prefix in sorted(self.mounts, key=len, reverse=True):
            if prefix and (path == prefix or path.startswith(prefix + "/")):
                return prefix, path[len(prefix) :] or "/"
        return "", path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        path = route_path(scope)
        if scope["type"] == "websocket":  # nothing of ours or the chat's uses one
            await send({"type": "websocket.close", "code": 1008})
            return
        if self.own.fullmatch(path) or scope.get("method") == "OPTIONS":
            await self.app(scope, receive, send)
            return
        prefix, sub_path = self._mount(path)
        access = chat_access(sub_path)
        if access is Access.OFF:
            await send_error(send, 404, "not_found", "No such route.")
            return
        if access is Access.CHAT and self.login and not has_session(self.mounts[prefix], scope):
            await send_error(send, 401, "unauthorized", "Log in to the chat first.")
            return
        if _API_INFO.fullmatch(sub_path):
            await _send_json(send, EMPTY_API_INFO)
            return
        await self.app(scope, receive, send)


async def _send_json(send: Send, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def has_session(gradio_app: Any, scope: Scope) -> bool:
    """Whether the request carries a session cookie this Gradio app issued at login."""
    cookies = HTTPConnection(scope).cookies
    cookie_id = gradio_app.cookie_id
    token = cookies.get(f"access-token-{cookie_id}") or cookies.get(
        f"access-token-unsecure-{cookie_id}"
    )
    return token is not None and token in gradio_app.tokens
