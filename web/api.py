"""The JSON API: ``POST /api/ask``, ``GET /healthz`` and a docs page that needs no CDN."""

from __future__ import annotations

import tomllib
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from assistant import REPO_ROOT, Answer, Assistant, InvalidQuestion, Message, Settings
from web.security import api_key_guard

#: Longest conversation a request may carry; a follow-up needs only the last few turns.
MAX_HISTORY = 200


class AskRequest(BaseModel):
    question: str = Field(description="The question; cleaned, at most ASSISTANT_MAX_QUESTION_CHARS")
    history: list[Message] = Field(
        default_factory=list, max_length=MAX_HISTORY, description="Earlier turns, oldest first"
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


class ErrorOut(BaseModel):
    error: str
    message: str


def version() -> str:
    """The project version from ``pyproject.toml`` (the one place it is written)."""
    try:
        with (REPO_ROOT / "pyproject.toml").open("rb") as f:
            return str(tomllib.load(f)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def _error(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"error": kind, "message": message}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    """Bad bodies as JSON: unparsable JSON is 400, a body of the wrong shape 422."""

    async def invalid(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return _error(400, "malformed_json", "The request body is not valid JSON.")
        where = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'body'}: {e.get('msg')}"
            for e in errors
        )
        return _error(422, "invalid_request", f"The request body is not as expected ({where}).")

    app.add_exception_handler(RequestValidationError, invalid)


def api_router(settings: Settings, assistant: Assistant) -> APIRouter:
    router = APIRouter()
    guarded = [Depends(api_key_guard(settings))]
    errors: dict[int | str, dict[str, Any]] = {
        code: {"model": ErrorOut, "description": text}
        for code, text in (
            (400, "Body is not JSON"),
            (401, "Missing or wrong API key (when one is configured)"),
            (413, "Question too long"),
            (422, "Empty question or malformed body"),
        )
    }

    @router.post("/api/ask", response_model=Answer, responses=errors, dependencies=guarded)
    def ask(body: AskRequest) -> JSONResponse:
        """Answer a question in a conversation; the answer object is the CLI's ``--json``."""
        try:
            answer = assistant.ask(body.question, body.history)
        except InvalidQuestion as exc:
            status = 413 if exc.kind == "too_long" else 422
            return _error(status, f"{exc.kind}_question", str(exc))
        return JSONResponse(answer.to_dict())

    @router.get("/healthz", response_model=Health)
    def healthz() -> Health:
        """Ready when the model is loaded and the index open (the assistant exists)."""
        return Health(
            model_loaded=True,
            passages_indexed=assistant.passages_indexed,
            version=version(),
            index_version=assistant.index_version,
            index_problem=assistant.reload_problem,
        )

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
