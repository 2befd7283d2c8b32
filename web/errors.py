"""One error contract, ``{"error": code, "message": text}``, for every 4xx and 5xx of the
JSON routes (``/api/*``, ``/healthz``) and of the guards in front of the whole server.

Clients (and the README) can rely on one shape: FastAPI's own ``{"detail": …}`` never
reaches them, and a failure inside a handler is a JSON 500 without a traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.types import Send

log = logging.getLogger(__name__)

#: Paths whose errors follow the contract (the chat's Gradio routes have their own).
JSON_PREFIXES = ("/api/", "/healthz")

#: The code for each status when the handler gave none.
DEFAULT_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    500: "internal_error",
}


class ErrorOut(BaseModel):
    """The body of every error response of the JSON API."""

    error: str
    message: str


class ApiError(HTTPException):
    """An error with its contract code; raise it anywhere a request is handled."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status_code=status, detail=message, headers=dict(headers or {}))
        self.code = code


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": code, "message": message}).encode()


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status, headers=dict(headers or {}))


async def send_error(
    send: Send, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> None:
    """The contract's error straight to an ASGI ``send`` (for middleware, before any app)."""
    body = error_body(code, message)
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def is_json_route(path: str) -> bool:
    return path == "/healthz" or path.startswith(JSON_PREFIXES)


def _message(exc: HTTPException) -> str:
    detail = exc.detail
    if isinstance(detail, str) and detail:
        return detail
    return {404: "No such route.", 405: "Method not allowed."}.get(
        exc.status_code, "The request can't be handled."
    )


def install_error_handlers(app: FastAPI) -> None:
    """HTTP errors and unexpected failures of our routes in the contract's shape."""

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = getattr(exc, "code", None) or DEFAULT_CODES.get(exc.status_code, "error")
        return error_response(exc.status_code, code, _message(exc), exc.headers)

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(
            500, "internal_error", "The server failed to handle this request; please try again."
        )

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        where = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'body'}: {e.get('msg')}"
            for e in exc.errors()
        )
        return error_response(422, "invalid_request", f"The request is not as expected ({where}).")

    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(Exception, unexpected)
