"""Drive the chat's Gradio queue over plain HTTP, as the page does (or as an attacker would):
``POST <mount>/gradio_api/queue/join`` then read ``GET …/queue/data`` (server-sent events)
until the event completes."""

from __future__ import annotations

import json
import secrets
from typing import Any

import httpx


def event_ids(base: str, client: httpx.Client) -> dict[str, int]:
    """The chat's event functions by name (``chat``, ``like``) from the page's config."""
    config = client.get(f"{base}/config", timeout=10).raise_for_status().json()
    return {d["api_name"]: d["id"] for d in config["dependencies"] if d.get("backend_fn")}


def run_event(
    base: str,
    client: httpx.Client,
    fn_index: int,
    data: list[Any],
    event_data: dict[str, Any] | None = None,
    timeout: float = 60,
) -> dict[str, Any]:
    """Join the queue with ``data`` and return the completed message (``output``, ``success``);
    raises ``httpx.HTTPStatusError`` when the join itself is refused."""
    session = secrets.token_hex(8)
    body = {
        "data": data,
        "event_data": event_data,
        "fn_index": fn_index,
        "trigger_id": None,
        "session_hash": session,
    }
    client.post(f"{base}/gradio_api/queue/join", json=body, timeout=timeout).raise_for_status()
    url = f"{base}/gradio_api/queue/data"
    with client.stream("GET", url, params={"session_hash": session}, timeout=timeout) as stream:
        for line in stream.iter_lines():
            if not line.startswith("data:"):
                continue
            message = json.loads(line[5:])
            if message.get("msg") == "process_completed":
                return message
    raise AssertionError("the event stream ended before the event completed")
