"""The assistant as every front end sees it: validate → run the chain → time it.

Also the one place that builds the components from settings (embedder → store → retriever
→ chain), so the CLI, the web server, benchmarks and tests share one construction.

A server runs for days: the assistant keeps the index it loaded in memory (an
:class:`Engine`) and, when asked to (:meth:`Assistant.start_reloading`), checks the index
version every few seconds (~1 ms); when an ingest changed it, the new index is loaded while the
old one keeps answering, then swapped in by one reference assignment, so each question is
answered wholly from one version.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from langchain_core.runnables import Runnable, RunnableConfig

from assistant.answerer import Answerer, ExtractiveAnswerer
from assistant.chain import (
    MULTILINGUAL_MISSING,
    MULTILINGUAL_OFF,
    MULTILINGUAL_TOO_LARGE,
    ChainInput,
    Pipeline,
    build_chain,
)
from assistant.config import Settings
from assistant.lexicon import load_lexicon
from assistant.multilingual import MultilingualModel, MultilingualSearch
from assistant.query_adapter import QueryAdapter
from assistant.ranking import AnswerModel
from assistant.retrieval import HybridRetriever
from assistant.types import Answer, Message, Passage
from vectorstore.analysis import clean_text
from vectorstore.chroma_store import PassageStore
from vectorstore.embeddings import Embedder
from vectorstore.embeddings import load_embedder as load_backend
from vectorstore.multilingual import MultilingualEmbedder
from vectorstore.snapshot import IndexSnapshot, load_index

log = logging.getLogger(__name__)


class InvalidQuestion(ValueError):
    """A question that can't be asked; ``kind`` is ``empty`` or ``too_long``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Engine:
    """One loaded version of the index and the chain over it."""

    chain: Runnable[ChainInput, Answer]
    pipeline: Pipeline

    @property
    def retriever(self) -> HybridRetriever:
        return self.pipeline.retriever

    @property
    def passages(self) -> list[Passage]:
        return self.retriever.passages

    @property
    def version(self) -> str | None:
        return self.retriever.index_version


class Assistant:
    """Answers questions in a conversation from the current version of the index."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        #: The LLM client and its health, made once (None with the extractive answerer).
        self.llm = LLMSeat.from_settings(settings)
        self.engine = build_engine(settings, embedder, self.llm)
        #: Why the newest published version couldn't be loaded (the loaded one is still
        #: answering); None when the last check succeeded. ``/healthz`` shows it.
        self.reload_problem: str | None = None
        self._stop = threading.Event()
        self._swapped = threading.Condition()

    # -- the index ---------------------------------------------------------------------------
    @property
    def passages(self) -> list[Passage]:
        """Every indexed passage in source and reading order (the chat shows sources in context)."""
        return self.engine.passages

    @property
    def passages_indexed(self) -> int:
        return len(self.engine.passages)

    @property
    def index_version(self) -> str | None:
        return self.engine.version

    def refresh(self) -> bool:
        """Load the index again if an ingest published a new version since; True when it did
        (a version being written is not published, so it is never loaded)."""
        version = PassageStore.current_version(self.settings.store_location)
        if version is None or version == self.engine.version:
            self.reload_problem = None
            return False
        engine = build_engine(self.settings, self.embedder, self.llm)
        self.reload_problem = None
        with self._swapped:
            self.engine = engine  # one assignment: a question in flight keeps its engine
            self._swapped.notify_all()
        return True

    def wait_for_engine_other_than(self, engine: Engine, timeout: float) -> bool:
        """Block until the index loaded is not ``engine`` (or ``timeout`` s pass): True if so."""
        with self._swapped:
            return self._swapped.wait_for(lambda: self.engine is not engine, timeout)

    def start_reloading(self, interval: float) -> None:
        """Check for a re-ingested index every ``interval`` seconds in a daemon thread."""

        def poll() -> None:
            while not self._stop.wait(interval):
                try:
                    if self.refresh():
                        log.warning("index reloaded: version %s", self.engine.version)
                except Exception as exc:  # keep answering from the loaded version
                    self.reload_problem = f"can't reload the index: {type(exc).__name__}: {exc}"
                    log.warning(
                        "can't reload the index (%s: %s); still answering from version %s",
                        type(exc).__name__,
                        exc,
                        self.engine.version,
                    )

        threading.Thread(target=poll, name="index-reload", daemon=True).start()

    def stop_reloading(self) -> None:
        self._stop.set()

    # -- questions ---------------------------------------------------------------------------
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

    def _inputs(self, question: str, history: Sequence[Message]) -> ChainInput:
        limit = self.settings.max_question_chars
        context = [Message(m.role, clean_text(m.content)[:limit]) for m in history]
        return {"question": self.validate(question), "history": context}

    def ask(
        self,
        question: str,
        history: Sequence[Message] = (),
        *,
        id: str | None = None,
        config: RunnableConfig | None = None,
    ) -> Answer:
        """Answer one question in the conversation ``history`` (oldest message first)."""
        started = time.perf_counter()
        if self.llm is not None:  # streamed, to time the first checked sentence
            last = None
            for last in self._streamed(self._inputs(question, history), started, config):  # noqa: B007
                pass
            assert last is not None
            return replace(last, id=id)
        answer = self.engine.chain.invoke(self._inputs(question, history), config)
        return replace(answer, id=id, latency_ms=(time.perf_counter() - started) * 1000)

    def _streamed(
        self, inputs: ChainInput, started: float, config: RunnableConfig | None = None
    ) -> Iterator[Answer]:
        """The chain's stream, each answer timed from ``started``; the LLM's first checked
        sentence timed from ``started`` too."""
        first: float | None = None
        for answer in self.engine.chain.stream(inputs, config):
            elapsed = (time.perf_counter() - started) * 1000
            if answer.answerer == "llm" and first is None:
                first = elapsed
            yield replace(
                answer,
                latency_ms=elapsed,
                first_sentence_ms=first if answer.answerer == "llm" else None,
            )

    def llm_health(self) -> tuple[str, str | None]:
        """``off`` (extractive answerer), ``ok`` or ``degraded``, and the last error's kind."""
        if self.llm is None:
            return "off", None
        return self.llm.health.state, self.llm.health.last_error

    def stream(
        self, question: str, history: Sequence[Message] = (), *, id: str | None = None
    ) -> Iterator[Answer]:
        """:meth:`ask`, yielding the answer as it grows (each one complete so far, the last
        one whole); ``latency_ms`` is the time to each."""
        started = time.perf_counter()
        for answer in self._streamed(self._inputs(question, history), started):
            yield replace(answer, id=id)

    def replay(self, turns: Sequence[str], question: str, *, id: str | None = None) -> Answer:
        """Ask earlier user turns through the assistant first, so the conversation is real."""
        history: list[Message] = []
        for turn in turns:
            earlier = self.ask(turn, history)
            history += [Message("user", turn), Message("assistant", earlier.answer)]
        return self.ask(question, history, id=id)


@dataclass(frozen=True)
class LLMSeat:
    """The LLM client (LangChain's ``ChatOpenAI``), made once per process, and its health.
    ``langchain_openai`` is imported here only, when the settings ask for the LLM."""

    client: Any
    health: Any  # assistant.llm.LLMHealth
    passages: int
    min_coverage: float

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMSeat | None:
        if settings.answerer != "llm":
            return None
        from assistant.llm import LLMHealth, chat_model

        assert settings.llm_base_url and settings.llm_model  # checked by Settings
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        client = chat_model(
            settings.llm_base_url,
            settings.llm_model,
            key,
            settings.llm_timeout,
            settings.llm_max_tokens,
        )
        return cls(client, LLMHealth(), settings.llm_passages, settings.llm_min_coverage)

    def with_fallback(self, fallback: Answerer) -> Answerer:
        from assistant.llm import LLMAnswerer

        return LLMAnswerer(
            self.client, fallback, self.passages, min_coverage=self.min_coverage, health=self.health
        )


def load_embedder(settings: Settings) -> Embedder:
    """The embedding model the settings ask for (loaded once per process, then passed in)."""
    return load_backend(
        settings.embedding_backend,
        settings.model_cache_dir,
        settings.threads,
        settings.embed_batch_size,
    )


@functools.cache
def load_multilingual_embedder(threads: int = 1) -> MultilingualEmbedder:
    """The multilingual encoder, one per process (its model loads on first use)."""
    return MultilingualEmbedder(threads)


def build_retriever(
    settings: Settings, embedder: Embedder, index: IndexSnapshot | None = None
) -> HybridRetriever:
    """Open the version served and load what retrieval keeps in memory (from its snapshot
    when saved)."""
    return HybridRetriever(
        index or _load_served(settings, embedder),
        embedder,
        candidates=settings.candidates,
        lexical_weight=settings.lexical_weight,
        window_weight=settings.window_weight,
        document_weight=settings.document_weight,
        adapter=load_query_adapter(settings.query_adapter) if settings.query_adapter else None,
    )


@functools.cache
def load_query_adapter(path: Path) -> QueryAdapter:
    """The query adapter at ``path``, read once per process."""
    return QueryAdapter.load(path)


def _load_served(settings: Settings, embedder: Embedder, attempts: int = 3) -> IndexSnapshot:
    """The snapshot of the version served. When an ingest publishes another version and
    deletes this one while it is being read from Chroma, the new one is read instead."""
    attempt = 1
    while True:
        store = PassageStore.open(settings.store_location, embedder.space)
        try:
            return load_index(store, settings.snapshot_options)
        except Exception:
            replaced = PassageStore.current_version(settings.store_location) != store.version
            if not replaced or attempt == attempts:
                raise
            attempt += 1


def build_engine(settings: Settings, embedder: Embedder, llm: LLMSeat | None = None) -> Engine:
    """The chain over the index as it is now; fails with a clear message when it can't open.
    With ``llm``, the LLM answers and the extractive answerer is its fallback."""
    index = _load_served(settings, embedder)
    retriever = build_retriever(settings, embedder, index)
    model = AnswerModel.load()
    if settings.answer_threshold is not None:
        model = replace(model, threshold=settings.answer_threshold)
    answerer: Answerer = ExtractiveAnswerer(
        next_passage=retriever.next_passage,
        max_chars=settings.max_answer_chars,
        top_k=settings.top_k,
    )
    if llm is not None:
        answerer = llm.with_fallback(answerer)
    multilingual, problem = None, MULTILINGUAL_OFF
    if settings.multilingual is not False and index.multilingual is None:
        wanted = settings.multilingual_for(len(index.passages))
        problem = MULTILINGUAL_MISSING if wanted else MULTILINGUAL_TOO_LARGE
        if wanted:  # ingested before the setting was on, or before Chroma kept the vectors
            log.warning("%s; until then English questions get no second opinion from e5", problem)
    elif settings.multilingual is not False and index.multilingual is not None:
        multilingual = MultilingualSearch(
            index.passages,
            index.multilingual,
            load_multilingual_embedder(settings.threads),
            MultilingualModel.load(),
            retriever.acronyms,
            settings.candidates,
        )
    pipeline = Pipeline(retriever, model, answerer, load_lexicon(), multilingual, problem)
    return Engine(build_chain(pipeline), pipeline)


def build_assistant(settings: Settings, embedder: Embedder | None = None) -> Assistant:
    """Load the model (unless given) and open the index; fails with a clear message."""
    return Assistant(settings, embedder or load_embedder(settings))
