"""``create_app``: one FastAPI app with the JSON API, the Gradio chat at ``/``, its compact view
at ``/embed/``, and ``/gradio.js`` (the web component, served from the installed gradio package
— never a CDN). Gradio's own programmatic API, uploads and other routes the chat doesn't use
are closed by :class:`web.gate.ChatGate`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse

from assistant import Assistant, Settings
from web import api, security
from web.documents import Library, index_written_at, load_examples
from web.errors import install_error_handlers
from web.feedback import FeedbackStore
from web.signing import AnswerSigner
from web.ui import COPY_JS, CSS, EMBED_CSS, ChatHandlers, build_chat

#: The web component's entry point inside the installed package; it imports ./assets/…,
#: which the chat mounted at ``/`` serves, so it must be served from the site root.
GRADIO_JS = Path(gr.__file__).parent / "templates" / "frontend" / "gradio.js"

#: Mount order matters: "/" would otherwise catch /embed.
MOUNTS = (("/embed", True), ("/", False))


def create_app(settings: Settings, assistant: Assistant) -> FastAPI:
    """The whole server for one assistant (its passages let sources show their paragraph)."""
    root = settings.root_path.rstrip("/")
    app = FastAPI(
        title="News QA assistant",
        version=api.version(),
        docs_url=None,
        redoc_url=None,
        root_path=root,
    )
    mounts: dict[str, Any] = {}  # filled below, read by the gate once requests arrive
    security.install(app, settings, mounts)
    install_error_handlers(app)
    library = Library(
        lambda: assistant.passages,
        lambda: index_written_at(settings, assistant.index_version),
    )
    app.include_router(api.api_router(settings, assistant, library))

    @app.api_route("/gradio.js", methods=["GET", "HEAD"], include_in_schema=False)
    def gradio_js() -> FileResponse:
        return FileResponse(GRADIO_JS, media_type="text/javascript")

    @app.api_route("/embed", methods=["GET", "HEAD"], include_in_schema=False)
    def embed(request: Request) -> RedirectResponse:
        """``/embed`` is the compact chat's folder: its assets resolve from ``/embed/``."""
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"{root}/embed/{query}", status_code=308)

    handlers = ChatHandlers(
        assistant,
        library,
        FeedbackStore(Path(settings.feedback_db)),
        AnswerSigner(settings.signing_key),
        settings,
    )
    examples = load_examples(settings)
    common: dict[str, Any] = {
        "auth": security.chat_login(settings),
        "auth_message": security.login_message(settings),
        "run_history": False,
        "show_error": False,
        "ssr_mode": False,
        "footer_links": [],
        "js": COPY_JS,
        "theme": gr.themes.Default(font=["system-ui", "sans-serif"]),
    }
    for path, compact in MOUNTS:
        gr.mount_gradio_app(
            app,
            build_chat(handlers, examples, compact=compact),
            path=path,
            root_path=f"{root}{path.rstrip('/')}" if root else None,
            css=EMBED_CSS if compact else CSS,
            **common,
        )
        mounts[path.rstrip("/")] = app.routes[-1].app  # type: ignore[attr-defined]
    return app
