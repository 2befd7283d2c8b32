"""Login rate limiting: repeated failed logins lock the user name and the client address.

Gradio's login form posts to ``<mount>/login`` and answers 200 (with a session cookie) or
400; it never slows down. This middleware reads the posted user name, refuses with 429 while
the name or the address has had too many failures within the window (the right password
included, so guessing gains nothing), and counts each failure from the response status.
State is in memory, per process, pruned as it goes and capped in size.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.errors import send_error
from web.gate import route_path

#: Largest login form read (user name and password); longer ones are refused.
MAX_LOGIN_BYTES = 8192
#: Most user names and addresses remembered at once (oldest forgotten first).
MAX_TRACKED = 10_000


class FailureLog:
    """Times of recent failures per key, within ``window`` seconds."""

    def __init__(self, window: float, clock: Callable[[], float]) -> None:
        self.window = window
        self.clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str) -> deque[float]:
        times = self._failures.get(key, deque())
        horizon = self.clock() - self.window
        while times and times[0] <= horizon:
            times.popleft()
        if not times:
            self._failures.pop(key, None)
        return times

    def count(self, key: str) -> int:
        return len(self._recent(key))

    def retry_after(self, key: str, limit: int) -> float:
        """Seconds until ``key`` is under ``limit`` again (0 when it is)."""
        times = self._recent(key)
        if len(times) < limit:
            return 0.0
        return max(0.0, times[len(times) - limit] + self.window - self.clock())

    def add(self, key: str) -> None:
        times = self._recent(key)
        times.append(self.clock())
        self._failures[key] = times
        self._failures.move_to_end(key)
        while len(self._failures) > MAX_TRACKED:
            self._failures.popitem(last=False)

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)


class LoginThrottle:
    """ASGI middleware around every ``POST …/login`` of the chat mounts."""

    def __init__(
        self,
        app: ASGIApp,
        max_per_user: int,
        max_per_address: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.max_per_user = max_per_user
        self.max_per_address = max_per_address
        self.users = FailureLog(window, clock)
        self.addresses = FailureLog(window, clock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not route_path(scope).rstrip("/").endswith("/login")
        ):
            await self.app(scope, receive, send)
            return
        body = await _read(receive, MAX_LOGIN_BYTES)
        if body is None:
            await send_error(send, 413, "body_too_large", "The login form is too large.")
            return
        replay = _replay(body, receive)
        form = await Request(scope, replay()).form()
        user = f"user:{str(form.get('username') or '').strip()}"
        address = f"address:{(scope.get('client') or ('unknown',))[0]}"
        wait = max(
            self.users.retry_after(user, self.max_per_user),
            self.addresses.retry_after(address, self.max_per_address),
        )
        if wait > 0:
            seconds = math.ceil(wait)
            await send_error(
                send,
                429,
                "too_many_logins",
                f"Too many failed logins; try again in {seconds} seconds.",
                {"Retry-After": str(seconds)},
            )
            return

        async def observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                if message["status"] == 200:
                    self.users.clear(user)
                elif message["status"] in (400, 401, 403):
                    self.users.add(user)
                    self.addresses.add(address)
            await send(message)

        await self.app(scope, replay(), observed)


async def _read(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None when it is over ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, then: Receive) -> Callable[[], Receive]:
    """Makes a fresh ``receive`` that gives ``body`` once, then what ``then`` gives."""

    def make() -> Receive:
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if sent:
                return await then()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return receive

    return make
