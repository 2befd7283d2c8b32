"""The assistant of the index as it is now, for servers that run for days.

A server loads the index into memory once; without this it would answer from that copy until
restarted, and replicas sharing a Chroma server would drift apart after a re-ingest. A
background thread reads the index version every ``reload_interval`` seconds (~1 ms); when an
ingest changed it, the new index is loaded (from the snapshot that ingest saved) while the
old one keeps answering, then swapped in by one reference assignment, so each question is
answered wholly from one version.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from assistant.config import Settings
from assistant.embedder import Embedder
from assistant.service import Assistant, build_assistant
from assistant.types import Answer, Message, Passage
from vectorstore.chroma_store import PassageStore

log = logging.getLogger(__name__)


class LiveAssistant:
    """Answers like :class:`Assistant`, always from the index's current version."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self._settings = settings
        self._embedder = embedder
        self.current: Assistant = build_assistant(settings, embedder)
        self._stop = threading.Event()

    def refresh(self) -> bool:
        """Load the index again if an ingest finished changing it since; True when it did
        (an index being written has no version yet, so it waits for the finished one)."""
        version = PassageStore.current_version(self._settings)
        if version is None or version == self.current.index_version:
            return False
        self.current = build_assistant(self._settings, self._embedder)
        return True

    def start(self, interval: float) -> None:
        """Check every ``interval`` seconds in a daemon thread, until :meth:`stop`."""

        def poll() -> None:
            while not self._stop.wait(interval):
                try:
                    if self.refresh():
                        log.warning("index reloaded: version %s", self.current.index_version)
                except Exception as exc:  # keep answering from the loaded version
                    log.warning(
                        "can't reload the index (%s: %s); still answering from version %s",
                        type(exc).__name__,
                        exc,
                        self.current.index_version,
                    )

        threading.Thread(target=poll, name="index-reload", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    # -- the Assistant interface, answered by the current version -----------------------------
    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def passages(self) -> list[Passage]:
        return self.current.passages

    @property
    def passages_indexed(self) -> int:
        return self.current.passages_indexed

    def validate(self, question: object) -> str:
        return self.current.validate(question)

    def ask(
        self, question: str, history: Sequence[Message] = (), *, id: str | None = None
    ) -> Answer:
        return self.current.ask(question, history, id=id)

    def replay(self, turns: Sequence[str], question: str, *, id: str | None = None) -> Answer:
        return self.current.replay(turns, question, id=id)
