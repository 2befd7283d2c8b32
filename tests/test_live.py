"""A long-running assistant answers from a re-ingested index without a restart."""

from __future__ import annotations

import time

from assistant.config import Settings
from assistant.live import LiveAssistant
from ingest.pipeline import ingest
from tests.conftest import CORPUS
from vectorstore.chroma_store import PassageStore

QUESTION = "What did the chess federation decide about the Busan tournament?"
NEWS = "The chess federation decided to move the Busan tournament to the spring.\n"


def test_a_reingest_is_picked_up_by_refresh_and_by_the_poller(
    fresh_settings: Settings, embedder
) -> None:
    (fresh_settings.data_dir / "summit.txt").write_text(
        CORPUS.read_text(encoding="utf-8"), encoding="utf-8"
    )
    ingest(fresh_settings, embedder)
    live = LiveAssistant(fresh_settings, embedder)
    before = live.current
    assert live.ask(QUESTION).status == "not_found"
    assert live.refresh() is False and live.current is before  # nothing changed

    (fresh_settings.data_dir / "chess.txt").write_text(NEWS, encoding="utf-8")
    ingest(fresh_settings, embedder)
    assert live.refresh() is True
    answer = live.ask(QUESTION)
    assert answer.status == "answered"
    assert [c.source for c in answer.citations] == ["chess.txt"]
    assert live.passages_indexed == before.passages_indexed + 1

    # The background poller does the same on its own.
    live.start(interval=0.05)
    try:
        (fresh_settings.data_dir / "chess.txt").unlink()
        reloaded_from = live.current
        ingest(fresh_settings, embedder)
        deadline = time.monotonic() + 10
        while live.current is reloaded_from and time.monotonic() < deadline:
            time.sleep(0.05)
        assert live.current is not reloaded_from
        assert live.ask(QUESTION).status == "not_found"
    finally:
        live.stop()


def test_an_index_being_written_is_not_loaded(fresh_settings: Settings, embedder) -> None:
    (fresh_settings.data_dir / "chess.txt").write_text(NEWS, encoding="utf-8")
    ingest(fresh_settings, embedder)
    live = LiveAssistant(fresh_settings, embedder)
    store = PassageStore.open(fresh_settings, embedder.space, create=False)
    store.mark_changed(writing=True)  # what ingest does before its first write
    assert PassageStore.current_version(fresh_settings) is None
    assert live.refresh() is False
    store.mark_changed()  # ... and after its last
    assert live.refresh() is True
    assert live.current.index_version == PassageStore.current_version(fresh_settings)
