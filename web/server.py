"""One FastAPI app: JSON API, the Gradio chat at ``/`` and its compact view at ``/embed``,
and ``/gradio.js`` (the web component, served from the installed gradio package — never a CDN).
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr
from fastapi import FastAPI
from fastapi.responses import FileResponse

from assistant import Assistant, Settings
from web import api, security
from web.feedback import FeedbackStore
from web.render import SourceViewer
from web.ui import CSS, EMBED_CSS, build_chat

#: The web component's entry point inside the installed package; it imports ./assets/…,
#: which the chat mounted at ``/`` serves, so it must be served from the site root.
GRADIO_JS = Path(gr.__file__).parent / "templates" / "frontend" / "gradio.js"


def create_app(settings: Settings, assistant: Assistant) -> FastAPI:
    """The whole server for one assistant (its passages let sources show their paragraph)."""
    app = FastAPI(
        title="News QA assistant",
        version=api.version(),
        docs_url=None,
        redoc_url=None,
        root_path=settings.root_path.rstrip("/"),
    )
    security.install(app, settings)
    api.install_error_handlers(app)
    app.include_router(api.api_router(settings, assistant))

    @app.api_route("/gradio.js", methods=["GET", "HEAD"], include_in_schema=False)
    def gradio_js() -> FileResponse:
        return FileResponse(GRADIO_JS, media_type="text/javascript")

    viewer = SourceViewer(lambda: assistant.passages)
    feedback = FeedbackStore(Path(settings.feedback_db))
    users = security.login_users(settings)
    common = {
        "auth": users or None,
        "run_history": False,
        "show_error": True,
        "ssr_mode": False,
        "theme": gr.themes.Default(font=["system-ui", "sans-serif"]),
    }
    # Mount order matters: "/" would otherwise catch /embed.
    for path, compact in (("/embed", True), ("/", False)):
        root = settings.root_path.rstrip("/")
        gr.mount_gradio_app(
            app,
            build_chat(assistant, viewer, feedback, compact=compact),
            path=path,
            root_path=f"{root}{path.rstrip('/')}" if root else None,
            footer_links=[] if compact else ["api"],
            css=EMBED_CSS if compact else CSS,
            **common,
        )
    return app
