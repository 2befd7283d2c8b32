"""Who may use the server and from where: login, API key, CORS and framing.

Everything is off or strict by default (no login, no key, same-origin only, framing by our
own pages only) and opened up through settings, so an intranet deployment states its policy
in configuration rather than code. Four modes (the README's security section has the table):

- no login, no key: everything open except what no mode opens (Gradio's own API, uploads);
- login: the chat needs a login; ``/api/*`` stays open;
- API key: ``/api/*`` needs the key, and so does the chat (as the password of its login form),
  so the chat's queue is no way around the key;
- both: the chat needs a login, ``/api/*`` the key.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant import Settings
from web.errors import ApiError
from web.gate import ChatGate
from web.limits import BodyLimit
from web.logins import LoginThrottle

#: Paths FastAPI serves itself; their routes guard themselves (the API key dependency).
OWN_ROUTES = re.compile(r"/api(/.*)?|/healthz|/docs|/openapi\.json|/gradio\.js|/embed")


def split_list(value: str, sep: str = ",") -> list[str]:
    """``"a, b,,c"`` → ``["a", "b", "c"]``."""
    return [part.strip() for part in value.split(sep) if part.strip()]


def login_users(settings: Settings) -> list[tuple[str, str]]:
    """``user:password`` pairs for the chat login (ASSISTANT_AUTH_USERS and ASSISTANT_AUTH_FILE,
    checked when the settings were read); empty when login is off."""
    return settings.login_users()


def chat_login(settings: Settings) -> Any:
    """What Gradio's ``auth`` gets: the users' pairs; with only an API key, a check that takes
    the key as the password (any user name); None when the chat is open."""
    users = login_users(settings)
    if users:
        return users
    key = settings.api_key.encode()
    if key:

        def key_as_password(_user: str, password: str) -> bool:
            return hmac.compare_digest(password.encode(), key)

        return key_as_password
    return None


def login_message(settings: Settings) -> str | None:
    """What the chat's login form says above its fields (Gradio shows only "Incorrect
    Credentials" on any refusal, a lockout included)."""
    minutes = max(1, round(settings.login_window / 60))
    lockout = (
        f"After {settings.login_max_failures} failed attempts a user name is locked for up to "
        f"{minutes} minute{'s' if minutes != 1 else ''}."
    )
    if login_users(settings):
        return lockout
    if settings.api_key:
        return f"Log in with any user name and the API key as the password. {lockout}"
    return None


def api_key_guard(settings: Settings) -> Callable[[Request], None]:
    """A FastAPI dependency: with an API key configured, require ``Authorization: Bearer``."""
    expected = settings.api_key.encode()

    def guard(request: Request) -> None:
        if not expected:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
            raise ApiError(
                401,
                "unauthorized",
                "A valid API key is required: send 'Authorization: Bearer <key>'.",
                {"WWW-Authenticate": "Bearer"},
            )

    return guard


class FramingPolicy:
    """Adds ``Content-Security-Policy: frame-ancestors …`` (and ``nosniff``) to every response.

    ``frame-ancestors`` is the modern, list-capable replacement for ``X-Frame-Options``: it
    names exactly which intranet pages may show the chat in an iframe.
    """

    def __init__(self, app: ASGIApp, frame_ancestors: str) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", f"frame-ancestors {frame_ancestors}".encode()),
            (b"x-content-type-options", b"nosniff"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI, settings: Settings, mounts: Mapping[str, Any]) -> None:
    """The guards in front of everything, innermost first: login throttling, the chat's
    allow-list and sessions, the body cap; then framing and CORS around all of them (CORS is
    always installed so Gradio defers to our policy, and answers preflights first)."""
    app.add_middleware(
        LoginThrottle,
        max_per_user=settings.login_max_failures,
        max_per_address=settings.login_max_failures_per_address,
        window=settings.login_window,
    )
    app.add_middleware(
        ChatGate, own=OWN_ROUTES, mounts=mounts, login=chat_login(settings) is not None
    )
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(FramingPolicy, frame_ancestors=settings.frame_ancestors.strip() or "'none'")
    app.add_middleware(
        CORSMiddleware,
        allow_origins=split_list(settings.allowed_origins),
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["*"],
        allow_credentials=True,
    )
