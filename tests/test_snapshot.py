"""The index snapshot: start-up loads it instead of Chroma, and an ingest invalidates it."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant import Settings, build_assistant
from ingest import ingest
from tests.conftest import CORPUS
from vectorstore.chroma_store import PassageStore, open_client

ARTICLE = CORPUS.read_text(encoding="utf-8")
QUESTION = "Where was the summit held?"


def _ingested(settings: Settings, embedder, text: str = ARTICLE) -> PassageStore:
    (settings.data_dir / "summit.txt").write_text(text, encoding="utf-8")
    ingest(settings, embedder)
    return PassageStore.open(settings.store_location, embedder.space)


def _snapshots(settings: Settings) -> list[Path]:
    return sorted(settings.snapshot_options.root.iterdir())


def test_ingest_saves_the_snapshot_and_start_up_loads_it(
    fresh_settings: Settings, embedder
) -> None:
    store = _ingested(fresh_settings, embedder)
    (saved,) = _snapshots(fresh_settings)
    assert saved.name == f"passages-{store.version}-exact"
    first = build_assistant(fresh_settings, embedder)

    # Mark one passage's text in the snapshot: the next start-up must show the mark.
    columns = json.loads((saved / "passages.json").read_text(encoding="utf-8"))
    columns["texts"][0] = "MARKED " + columns["texts"][0]
    (saved / "passages.json").write_text(json.dumps(columns), encoding="utf-8")
    second = build_assistant(fresh_settings, embedder)
    assert second.passages[0].text.startswith("MARKED ")
    assert [p.id for p in second.passages] == [p.id for p in first.passages]
    assert second.ask(QUESTION).answer == first.ask(QUESTION).answer


def test_a_large_index_snapshot_keeps_its_hnsw_graph(fresh_settings: Settings, embedder) -> None:
    large = fresh_settings.model_copy(update={"exact_search_max": 0})
    store = _ingested(large, embedder)
    (saved,) = _snapshots(fresh_settings)
    assert saved.name == f"passages-{store.version}-hnsw"
    assert (saved / "hnsw.faiss").stat().st_size > 0
    assert np.load(saved / "vectors.npy", mmap_mode="r").dtype == np.float16
    first = build_assistant(large, embedder)
    shutil.rmtree(saved)
    second = build_assistant(large, embedder)  # built afresh: the same citations
    for question in (QUESTION, "Who did Lee meet?", "What did they discuss about trade?"):
        assert second.ask(question).citations == first.ask(question).citations


def test_a_snapshot_rebuilt_from_chroma_keeps_the_e5_vectors(
    fresh_settings: Settings, embedder
) -> None:
    """Ingest keeps the e5 vectors in Chroma beside the version, so a snapshot taken from
    Chroma (a replica's, or one deleted) has them: multilingual search and the second opinion
    work there too, with the same vectors."""
    _ingested(fresh_settings, embedder)
    (saved,) = _snapshots(fresh_settings)
    vectors = np.load(saved / "e5.npy")
    shutil.rmtree(saved)
    rebuilt = build_assistant(fresh_settings, embedder)
    assert rebuilt.engine.pipeline.multilingual is not None
    (again,) = _snapshots(fresh_settings)
    assert np.allclose(np.load(again / "e5.npy"), vectors, atol=1e-6)  # Chroma renormalises


def test_an_index_without_e5_vectors_in_chroma_warns_and_ingest_adds_them(
    fresh_settings: Settings, embedder, caplog: pytest.LogCaptureFixture
) -> None:
    """An index ingested before the e5 vectors were kept in Chroma: start-up from a fresh
    snapshot warns (English questions get no second opinion; Korean, Chinese and Japanese
    ones are refused, saying to run ingest). The next ingest copies them from the saved
    snapshot into Chroma, embedding nothing."""
    store = _ingested(fresh_settings, embedder)
    location = fresh_settings.store_location
    open_client(location).delete_collection(location.multilingual_name(str(store.version)))
    (saved,) = _snapshots(fresh_settings)
    kept = saved.with_name("kept")
    shutil.copytree(saved, kept)
    shutil.rmtree(saved)
    with caplog.at_level(logging.WARNING, logger="assistant.service"):
        rebuilt = build_assistant(fresh_settings, embedder)
    assert rebuilt.engine.pipeline.multilingual is None
    assert "no second opinion from e5" in caplog.text
    assert "run `python app.py ingest`" in caplog.text

    shutil.rmtree(saved)
    kept.rename(saved)  # the snapshot the older ingest saved, with its e5.npy
    messages: list[str] = []
    ingest(fresh_settings, embedder, log=messages.append)
    assert not any("with multilingual-e5" in m for m in messages)
    shutil.rmtree(saved)
    assert build_assistant(fresh_settings, embedder).engine.pipeline.multilingual is not None


def test_ingest_renews_the_version_only_when_the_index_changes(
    fresh_settings: Settings, embedder
) -> None:
    version = _ingested(fresh_settings, embedder).version
    assert version is not None
    assert _ingested(fresh_settings, embedder).version == version  # nothing changed
    build_assistant(fresh_settings, embedder)
    edited = ARTICLE.replace("Security concerns", "Grave security concerns")
    renewed = _ingested(fresh_settings, embedder, edited).version
    assert renewed not in (None, version)

    after = build_assistant(fresh_settings, embedder)
    assert any(p.text.startswith("Grave security concerns") for p in after.passages)
    (saved,) = _snapshots(fresh_settings)  # the old version's snapshot is gone
    assert renewed in saved.name


@pytest.mark.parametrize(
    ("damaged", "exact_search_max"), [("vectors.npy", 20_000), ("hnsw.faiss", 0)]
)
def test_a_damaged_snapshot_is_rebuilt_from_the_index(
    fresh_settings: Settings,
    embedder,
    caplog: pytest.LogCaptureFixture,
    damaged: str,
    exact_search_max: int,
) -> None:
    settings = fresh_settings.model_copy(update={"exact_search_max": exact_search_max})
    _ingested(settings, embedder)
    expected = build_assistant(settings, embedder)
    (saved,) = _snapshots(settings)
    (saved / damaged).write_bytes(b"damaged")
    with caplog.at_level(logging.WARNING):
        rebuilt = build_assistant(settings, embedder)
    assert "unreadable" in caplog.text
    assert rebuilt.passages == expected.passages
    assert rebuilt.ask(QUESTION).citations == expected.ask(QUESTION).citations
    (again,) = _snapshots(settings)
    assert (again / damaged).stat().st_size > len(b"damaged")


def test_an_unwritable_snapshot_place_costs_only_time(
    fresh_settings: Settings, embedder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _ingested(fresh_settings, embedder)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    settings = fresh_settings.model_copy(update={"snapshot_dir": blocker / "snapshots"})
    with caplog.at_level(logging.WARNING):
        assistant = build_assistant(settings, embedder)
    assert "can't save the index snapshot" in caplog.text
    assert assistant.ask(QUESTION).status == "answered"
