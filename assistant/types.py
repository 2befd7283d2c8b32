"""The data that travels between ingest, store, retrieval, answering and presentation.

One definition each, shared by the CLI, the HTTP API, the web chat and evaluation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from vectorstore.records import Passage

__all__ = ["ANSWER_FIELDS", "Answer", "Citation", "Evidence", "Message", "Passage", "Status"]

#: ``error`` only in evaluation runs: a question the assistant refused to take (too long).
Status = Literal["answered", "not_found", "error"]
Role = Literal["user", "assistant"]

#: The answer object's keys, in contract order (CLI ``--json``, API, ``answers.jsonl``).
ANSWER_FIELDS = (
    "id",
    "question",
    "search_query",
    "status",
    "reason",
    "answer",
    "citations",
    "latency_ms",
    "answerer",
    "sentences_dropped",
    "first_sentence_ms",
    "fallback",
)


@dataclass(frozen=True)
class Evidence:
    """A retrieved passage with its scores (``score`` is the fused rank score, higher is better)."""

    passage: Passage
    score: float
    #: Cosine similarity of the passage to the search text.
    dense: float
    #: Cosine similarity of its window (the sentences either side too), of its paragraph up
    #: to it, and of its document.
    window: float = 0.0
    prefix: float = 0.0
    document: float = 0.0
    #: Its BM25 score over the best candidate's (0–1).
    lexical: float = 0.0
    #: How much the search's words the documents never use draw the search to it: ``dense``
    #: minus its cosine to the search pooled without them (0 when there are none).
    absent_pull: float = 0.0


@dataclass(frozen=True)
class Citation:
    """A source the answer cites as ``[n]``."""

    n: int
    source: str
    start: int
    end: int
    text: str
    score: float


@dataclass(frozen=True)
class Message:
    """One chat message; the conversation travels with each request (no server-side state)."""

    role: Role
    content: str


@dataclass
class Answer:
    """The answer object: the one contract shared by CLI, API, UI and evaluation."""

    question: str
    search_query: str
    status: Status
    answer: str
    citations: list[Citation] = field(default_factory=list)
    latency_ms: float = 0.0
    id: str | None = None
    #: Why the documents don't answer (``not_found`` only), in words a user can act on.
    reason: str | None = None
    #: ``extractive`` or ``llm``: who wrote the answer text (``extractive`` when the LLM path
    #: fell back, and for refusals).
    answerer: Literal["extractive", "llm"] = "extractive"
    #: LLM path: generated sentences dropped by the grounding check (None on the extractive).
    sentences_dropped: int | None = None
    #: Time to the first checked sentence, when the LLM path answered (ms from the question).
    first_sentence_ms: float | None = None
    #: Why the LLM path gave the extractive answer instead (None when it didn't).
    fallback: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the contract's key order."""
        data = asdict(self)
        data["latency_ms"] = round(data["latency_ms"], 3)
        if data["first_sentence_ms"] is not None:
            data["first_sentence_ms"] = round(data["first_sentence_ms"], 1)
        return {key: data[key] for key in ANSWER_FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        """Inverse of :meth:`to_dict` (used to read ``answers.jsonl`` back)."""
        return cls(
            id=data.get("id"),
            question=data["question"],
            search_query=data.get("search_query", data["question"]),
            status=data["status"],
            answer=data["answer"],
            citations=[Citation(**c) for c in data.get("citations", [])],
            latency_ms=float(data.get("latency_ms", 0.0)),
            reason=data.get("reason"),
            answerer=data.get("answerer", "extractive"),
            sentences_dropped=data.get("sentences_dropped"),
            first_sentence_ms=data.get("first_sentence_ms"),
            fallback=data.get("fallback"),
        )
