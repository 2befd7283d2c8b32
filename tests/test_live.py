"""A long-running assistant answers from a re-ingested index without a restart."""

from __future__ import annotations

import time

from assistant import Assistant, Settings
from ingest import ingest
from vectorstore.chroma_store import PassageStore

QUESTION = "What did the chess federation decide about the Busan tournament?"
NEWS = "The chess federation decided to move the Busan tournament to the spring.\n"


def test_a_reingest_is_picked_up_by_refresh_and_by_the_poller(
    summit_settings: Settings, embedder
) -> None:
    ingest(summit_settings, embedder)
    live = Assistant(summit_settings, embedder)
    before = live.engine
    assert live.ask(QUESTION).status == "not_found"
    assert live.refresh() is False and live.engine is before  # nothing changed

    (summit_settings.data_dir / "chess.txt").write_text(NEWS, encoding="utf-8")
    ingest(summit_settings, embedder)
    assert live.refresh() is True
    answer = live.ask(QUESTION)
    assert answer.status == "answered"
    assert [c.source for c in answer.citations] == ["chess.txt"]
    assert live.passages_indexed == len(before.passages) + 1

    # The background poller does the same on its own.
    live.start_reloading(interval=0.05)
    try:
        (summit_settings.data_dir / "chess.txt").unlink()
        reloaded_from = live.engine
        ingest(summit_settings, embedder)
        assert live.wait_for_engine_other_than(reloaded_from, timeout=30)
        assert live.ask(QUESTION).status == "not_found"
    finally:
        live.stop_reloading()


def test_a_version_being_written_is_not_loaded_until_published(
    fresh_settings: Settings, embedder
) -> None:
    (fresh_settings.data_dir / "chess.txt").write_text(NEWS, encoding="utf-8")
    ingest(fresh_settings, embedder)
    live = Assistant(fresh_settings, embedder)
    served = PassageStore.current_version(fresh_settings.store_location)
    new = PassageStore.create_version(fresh_settings.store_location, embedder.space)
    new.add(live.passages, embedder.embed_documents([p.text for p in live.passages]))
    assert PassageStore.current_version(fresh_settings.store_location) == served
    assert live.refresh() is False
    new.publish()
    assert live.refresh() is True
    assert (
        live.index_version
        == new.version
        == PassageStore.current_version(fresh_settings.store_location)
    )


def test_a_version_that_cannot_be_loaded_is_reported_while_the_old_one_answers(
    fresh_settings: Settings, embedder
) -> None:
    (fresh_settings.data_dir / "chess.txt").write_text(NEWS, encoding="utf-8")
    ingest(fresh_settings, embedder)
    live = Assistant(fresh_settings, embedder)
    served = live.index_version
    other = PassageStore.create_version(fresh_settings.store_location, "another-model")
    other.publish()  # e.g. an ingest with another embedding backend
    live.start_reloading(interval=0.05)
    try:
        deadline = time.monotonic() + 30
        while live.reload_problem is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)  # the next look at the poller's result
    finally:
        live.stop_reloading()
    assert "was built with embeddings 'another-model'" in live.reload_problem
    assert live.index_version == served
    assert live.ask(QUESTION).status == "answered"
