"""Bounded requests: every body is capped before it is read, and every conversation (the API's
``history``, the chat's turns) by turns and characters, with the same limits on every route.

The body cap is ASGI middleware in front of everything, FastAPI and Gradio alike: a declared
``Content-Length`` over the cap is refused before a byte is read, and a body without one
(chunked) is counted as it streams and cut off at the cap. Either way the client gets a 413 in
the error contract, and the server never holds more than the cap of one request.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant import Message as Turn
from assistant import Settings
from web.errors import send_error


class BodyTooLarge(Exception):
    """Raised from ``receive`` when a streamed body passes the cap."""


def too_large_message(limit: int) -> str:
    return f"The request body is over the limit of {limit:,} bytes."


class BodyLimit:
    """Refuses request bodies over ``limit`` bytes with 413, before or while they stream."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await send_error(
                send,
                413,
                "body_too_large",
                too_large_message(self.limit),
                {"Connection": "close"},
            )
            return
        seen = 0
        exceeded = started = False

        async def counted() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # the app's reply to a body it couldn't read: the 413 below replaces it
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await send_error(
                send, 413, "body_too_large", too_large_message(self.limit), {"Connection": "close"}
            )


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class ConversationTooLong(ValueError):
    """A conversation over the turn or character limit; the message says which and how to go on."""


def check_conversation(history: Sequence[Turn], settings: Settings, *, chat: bool) -> None:
    """Raise :class:`ConversationTooLong` when ``history`` is over either limit."""
    turns, chars = settings.max_history_turns, settings.max_history_chars
    advice = "Press Clear to start a new conversation." if chat else "Send fewer earlier turns."
    if len(history) > turns:
        raise ConversationTooLong(
            f"This conversation has {len(history):,} turns; the limit is {turns:,}. {advice}"
        )
    total = sum(len(turn.content) for turn in history)
    if total > chars:
        raise ConversationTooLong(
            f"This conversation has {total:,} characters; the limit is {chars:,}. {advice}"
        )
