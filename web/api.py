"""The JSON API: ``POST /api/ask``, ``GET /api/documents``, ``GET|HEAD /healthz`` and a docs
page that needs no CDN. Every error is ``{"error": code, "message": text}`` (:mod:`web.errors`).

The ask body is read and checked here, step by step, so each way a body can be wrong gets its
own status and message: not JSON at all (415), not UTF-8 or not parsable (400), the wrong shape
(422), too large (413, checked before it is read by :class:`web.limits.BodyLimit`).
"""

from __future__ import annotations

import json
import logging
import tomllib
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from assistant import REPO_ROOT, Answer, Assistant, InvalidQuestion, Message, Settings
from web.documents import Library
from web.errors import ApiError, ErrorOut
from web.limits import ConversationTooLong, check_conversation
from web.security import api_key_guard

log = logging.getLogger(__name__)


class AskRequest(BaseModel):
    question: str = Field(description="The question; cleaned, at most ASSISTANT_MAX_QUESTION_CHARS")
    history: list[Message] = Field(
        default_factory=list,
        description="Earlier turns, oldest first; at most ASSISTANT_MAX_HISTORY_TURNS turns and "
        "ASSISTANT_MAX_HISTORY_CHARS characters",
    )


class Health(BaseModel):
    model_loaded: bool
    passages_indexed: int
    version: str
    index_version: str | None = Field(
        description="The index version served (each ingest that changes the index publishes one)"
    )
    index_problem: str | None = Field(
        description="Why the newest published index version couldn't be loaded (the one "
        "above is still served); null when none"
    )
    llm: Literal["ok", "degraded", "off"] = Field(
        description="The LLM answerer: off (extractive answers), ok, or degraded (its last "
        "call failed and the extractive answer was given)"
    )
    llm_error: str | None = Field(
        description="The kind of the LLM's last failure (timeout, connection, server_error, "
        "malformed_output …); null when none"
    )


class DocumentOut(BaseModel):
    source: str = Field(description="The file, relative to the folder it was ingested from")
    title: str = Field(description="Its first heading, else its file name made readable")
    passages: int
    paragraphs: int
    ingested_at: str | None = Field(description="When the index holding it was written (UTC)")


class Documents(BaseModel):
    documents: list[DocumentOut]


def version() -> str:
    """The project version from ``pyproject.toml`` (the one place it is written)."""
    try:
        with (REPO_ROOT / "pyproject.toml").open("rb") as f:
            return str(tomllib.load(f)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _where(error: dict[str, Any]) -> str:
    return ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"


async def read_ask(request: Request) -> AskRequest:
    """The ask body, or the :class:`ApiError` that says what is wrong with it."""
    if not _is_json(request.headers.get("content-type", "")):
        raise ApiError(
            415,
            "unsupported_media_type",
            "Send the question as JSON, with 'Content-Type: application/json'.",
        )
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(
            400, "invalid_utf8", f"The request body is not valid UTF-8 (byte {exc.start})."
        ) from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise ApiError(400, "too_deeply_nested", "The request body nests too deeply.") from None
    except json.JSONDecodeError:
        raise ApiError(400, "malformed_json", "The request body is not valid JSON.") from None
    try:
        return AskRequest.model_validate(data)
    except ValidationError as exc:
        where = "; ".join(f"{_where(e)}: {e.get('msg')}" for e in exc.errors())
        raise ApiError(
            422, "invalid_request", f"The request body is not as expected ({where})."
        ) from None


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _events(assistant: Assistant, body: AskRequest) -> AsyncIterator[str]:
    """The answer as server-sent events: ``answer`` as each sentence completes (the whole
    answer so far), then ``done`` (the final answer); ``error`` if answering fails."""
    last: dict[str, Any] | None = None
    try:
        async for answer in iterate_in_threadpool(assistant.stream(body.question, body.history)):
            last = answer.to_dict()
            yield _sse("answer", last)
    except Exception:  # the stream has started: the failure is an event, not a status
        log.exception("streaming an answer failed")
        yield _sse("error", {"error": "internal_error", "message": "Answering failed; try again."})
        return
    if last is not None:
        yield _sse("done", last)


def _responses(*codes: tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorOut, "description": text} for code, text in codes}


def api_router(settings: Settings, assistant: Assistant, library: Library) -> APIRouter:
    router = APIRouter()
    guarded = [Depends(api_key_guard(settings))]
    unauthorized = (401, "Missing or wrong API key (when one is configured)")

    @router.post(
        "/api/ask",
        response_model=Answer,
        dependencies=guarded,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/AskRequest"},
                    }
                },
            }
        },
        responses=_responses(
            (400, "Body not UTF-8, not JSON, or nested too deeply"),
            unauthorized,
            (413, "Body, question or history over its limit"),
            (415, "Body not sent as application/json"),
            (422, "Empty question or a body of the wrong shape"),
            (500, "Unexpected failure"),
        ),
    )
    async def ask(request: Request, stream: bool = False) -> Response:
        """Answer a question in a conversation; the answer object is the CLI's ``--json``.

        With ``?stream=true``, server-sent events instead: an ``answer`` event each time a
        sentence completes (the answer object so far), then ``done`` with the whole answer."""
        body = await read_ask(request)
        try:
            check_conversation(body.history, settings, chat=False)
        except ConversationTooLong as exc:
            raise ApiError(413, "history_too_long", str(exc)) from None
        try:  # in a worker thread: the model releases the GIL, and the event loop stays free
            if stream:
                assistant.validate(body.question)  # a bad question is a status, not an event
                return StreamingResponse(
                    _events(assistant, body),
                    media_type="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
                )
            answer = await run_in_threadpool(assistant.ask, body.question, body.history)
        except InvalidQuestion as exc:
            status = 413 if exc.kind == "too_long" else 422
            raise ApiError(status, f"{exc.kind}_question", str(exc)) from None
        return JSONResponse(answer.to_dict())

    @router.api_route(
        "/api/ask",
        methods=["GET", "HEAD", "PUT", "PATCH", "DELETE"],
        dependencies=guarded,
        include_in_schema=False,
    )
    def ask_other_methods() -> None:
        raise ApiError(
            405, "method_not_allowed", "Use POST to ask a question.", {"Allow": "POST, OPTIONS"}
        )

    @router.get(
        "/api/documents",
        response_model=Documents,
        dependencies=guarded,
        responses=_responses(unauthorized),
    )
    def documents() -> Documents:
        """The ingested documents: title, file, passages, when their index was written."""
        return Documents(
            documents=[DocumentOut(**d.to_dict()) for d in library.documents()]  # type: ignore[arg-type]
        )

    @router.api_route(
        "/healthz",
        methods=["GET", "HEAD"],
        response_model=Health,
        responses=_responses((500, "Unexpected failure")),
    )
    def healthz() -> Health:
        """Ready when the model is loaded and the index open (the assistant exists); a
        degraded LLM still answers (extractively), so it is reported, not a failure."""
        llm, llm_error = assistant.llm_health()
        return Health(
            model_loaded=True,
            passages_indexed=assistant.passages_indexed,
            version=version(),
            index_version=assistant.index_version,
            index_problem=assistant.reload_problem,
            llm=llm,
            llm_error=llm_error,
        )

    @router.api_route(
        "/api/{rest:path}",
        methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
        include_in_schema=False,
    )
    def unknown(rest: str) -> Response:
        raise ApiError(404, "not_found", f"No such API route: /api/{rest}.")

    @router.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(DOCS_HTML)

    return router


#: A self-contained API reference built from /openapi.json (FastAPI's /docs loads a CDN).
DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>News QA API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
pre{background:#f4f4f5;padding:.8rem;overflow:auto}h2{font-size:1.1rem;margin-top:2rem}
code{background:#f4f4f5;padding:0 .2em}</style></head>
<body><h1>News QA API</h1>
<p>Machine-readable schema: <a href="openapi.json">openapi.json</a>.</p>
<pre>curl -s -X POST http://HOST:PORT/api/ask -H 'Content-Type: application/json' \\
  -d '{"question": "What did Lee raise about Hanwha Ocean?", "history": []}'</pre>
<div id="ops"></div>
<script>
fetch("openapi.json").then(r => r.json()).then(spec => {
  const ops = document.getElementById("ops");
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const h = document.createElement("h2");
      h.textContent = method.toUpperCase() + " " + path;
      const p = document.createElement("p");
      p.textContent = op.description || op.summary || "";
      const codes = document.createElement("p");
      codes.textContent = "Responses: " + Object.keys(op.responses || {}).join(", ");
      ops.append(h, p, codes);
    }
  }
  const schemas = document.createElement("pre");
  schemas.textContent = JSON.stringify(spec.components, null, 2);
  const h = document.createElement("h2");
  h.textContent = "Schemas";
  ops.append(h, schemas);
});
</script></body></html>
"""
