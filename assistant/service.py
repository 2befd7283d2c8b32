"""The assistant as every front end sees it: validate → run the chain → time it.

Also the one place that builds the components from settings (embedder → store → retriever
→ chain), so the CLI, the web server, benchmarks and tests share one construction.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assistant.answerability import AnswerabilityCheck
from assistant.answerer import ExtractiveAnswerer
from assistant.chain import build_chain
from assistant.config import Settings
from assistant.embedder import Embedder, load_embedder
from assistant.retrieval import HybridRetriever
from assistant.snapshot import load_index
from assistant.text import clean_text
from assistant.types import Answer, Message, Passage
from vectorstore.chroma_store import PassageStore


class InvalidQuestion(ValueError):
    """A question that can't be asked; ``kind`` is ``empty`` or ``too_long``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class Assistant:
    chain: Any
    settings: Settings
    #: Every indexed passage, as loaded once at start (the web chat shows sources in context).
    passages: list[Passage]
    #: The version of the index these passages are (see ``assistant.live``).
    index_version: str | None = None

    @property
    def passages_indexed(self) -> int:
        return len(self.passages)

    def validate(self, question: object) -> str:
        """The question cleaned of control characters, or a clear :class:`InvalidQuestion`."""
        if not isinstance(question, str):
            raise InvalidQuestion("empty", "The question must be text.")
        cleaned = clean_text(question)
        if not cleaned:
            raise InvalidQuestion("empty", "Please type a question: this one is empty.")
        limit = self.settings.max_question_chars
        if len(cleaned) > limit:
            raise InvalidQuestion(
                "too_long",
                f"The question is {len(cleaned):,} characters long; the limit is {limit:,}. "
                "Please shorten it to the part you want answered.",
            )
        return cleaned

    def ask(
        self, question: str, history: Sequence[Message] = (), *, id: str | None = None
    ) -> Answer:
        """Answer one question in the conversation ``history`` (oldest message first)."""
        started = time.perf_counter()
        cleaned = self.validate(question)
        limit = self.settings.max_question_chars
        context = [Message(m.role, clean_text(m.content)[:limit]) for m in history]
        answer: Answer = self.chain.invoke({"question": cleaned, "history": context})
        answer.id = id
        answer.latency_ms = (time.perf_counter() - started) * 1000
        return answer

    def replay(self, turns: Sequence[str], question: str, *, id: str | None = None) -> Answer:
        """Ask earlier user turns through the assistant first, so the conversation is real."""
        history: list[Message] = []
        for turn in turns:
            earlier = self.ask(turn, history)
            history += [Message("user", turn), Message("assistant", earlier.answer)]
        return self.ask(question, history, id=id)


def build_retriever(settings: Settings, embedder: Embedder) -> HybridRetriever:
    """Open the index and load what retrieval keeps in memory (from its snapshot when saved)."""
    store = PassageStore.open(settings, embedder.space, create=False)
    return HybridRetriever(
        load_index(store, settings),
        embedder,
        candidates=settings.candidates,
        lexical_weight=settings.lexical_weight,
    )


def build_assistant(settings: Settings, embedder: Embedder | None = None) -> Assistant:
    """Load the model (unless given) and open the index; fails with a clear message."""
    embedder = embedder or load_embedder(settings)
    retriever = build_retriever(settings, embedder)
    check = AnswerabilityCheck(
        vocabulary=retriever.lexical,
        min_similarity=settings.min_similarity,
        min_similarity_gap=settings.min_similarity_gap,
    )
    answerer = ExtractiveAnswerer(max_chars=settings.max_answer_chars, top_k=settings.top_k)
    chain = build_chain(retriever, check, answerer)
    return Assistant(
        chain=chain,
        settings=settings,
        passages=retriever.passages,
        index_version=retriever.index_version,
    )
