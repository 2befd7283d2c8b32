"""The web front end: FastAPI with the JSON API, the Gradio chat at ``/`` and ``/embed``,
login, API key, limits and feedback. ``create_app`` imports gradio, so it loads on first use."""

from typing import Any

from web.cli import register

__all__ = ["create_app", "register"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from web.server import create_app

        return create_app
    raise AttributeError(name)
