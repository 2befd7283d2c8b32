"""``python app.py serve`` and ``python app.py feedback``: the web front end (issue 4)."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    """Web commands are added by the web front end."""
