"""Answers the chat showed, signed by the server, so feedback can only be about them.

The conversation lives in the page and comes back with every event, so anything in it may
have been made up. Each answer the chat shows gets a random id and an HMAC over the whole
answer object; a vote is stored only when the answer it is about carries a valid signature.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from typing import Any

#: Largest answer object (as JSON) a vote may be about; a real one is a few KB.
MAX_SIGNED_BYTES = 64_000


def _canonical(answer: Mapping[str, Any]) -> bytes | None:
    try:
        data = json.dumps(answer, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return None
    raw = data.encode()
    return raw if len(raw) <= MAX_SIGNED_BYTES else None


class AnswerSigner:
    """Signs answer objects with one secret (random per process unless configured)."""

    def __init__(self, secret: str = "") -> None:
        self._key = secret.encode() if secret else secrets.token_bytes(32)

    @staticmethod
    def new_id() -> str:
        return secrets.token_hex(16)

    def sign(self, answer: Mapping[str, Any]) -> str:
        raw = _canonical(answer)
        if raw is None:
            raise ValueError("answer too large to sign")
        return hmac.new(self._key, raw, hashlib.sha256).hexdigest()

    def verify(self, answer: Any, signature: Any) -> bool:
        """True when ``answer`` is an answer object this server signed, unchanged."""
        if not isinstance(answer, Mapping) or not isinstance(signature, str):
            return False
        if not isinstance(answer.get("id"), str):
            return False
        raw = _canonical(answer)
        if raw is None:
            return False
        expected = hmac.new(self._key, raw, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature)
