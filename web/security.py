"""Who may use the server and from where: login, API key, CORS and framing.

Everything is off or strict by default (no login, no key, same-origin only, framing by our
own pages only) and opened up through settings, so an intranet deployment states its policy
in configuration rather than code.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from fastapi import FastAPI, HTTPException, Request
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant import Settings


def split_list(value: str, sep: str = ",") -> list[str]:
    """``"a, b,,c"`` → ``["a", "b", "c"]``."""
    return [part.strip() for part in value.split(sep) if part.strip()]


def login_users(settings: Settings) -> list[tuple[str, str]]:
    """``user:password`` pairs for the chat login (ASSISTANT_AUTH_USERS and ASSISTANT_AUTH_FILE,
    checked when the settings were read); empty when login is off."""
    return settings.login_users()


def api_key_guard(settings: Settings) -> Callable[[Request], None]:
    """A FastAPI dependency: with an API key configured, require ``Authorization: Bearer``."""
    expected = settings.api_key.encode()

    def guard(request: Request) -> None:
        if not expected:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
            raise HTTPException(
                status_code=401,
                detail="A valid API key is required: send 'Authorization: Bearer <key>'.",
                headers={"WWW-Authenticate": "Bearer"},
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


def install(app: FastAPI, settings: Settings) -> None:
    """CORS and framing middleware. CORS is always installed so Gradio defers to our policy."""
    app.add_middleware(FramingPolicy, frame_ancestors=settings.frame_ancestors.strip() or "'none'")
    app.add_middleware(
        CORSMiddleware,
        allow_origins=split_list(settings.allowed_origins),
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["*"],
        allow_credentials=True,
    )
