"""A shared ``chroma run`` server instead of the embedded directory: what replicas use."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from assistant import Settings, build_assistant
from ingest import ingest
from tests.conftest import CORPUS
from tests.servers import chroma_server


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with chroma_server(tmp_path_factory.mktemp("chroma-server")) as server:
        server.wait_healthy(timeout=60)
        yield server.url


def test_two_assistants_share_one_chroma_server(chroma_url: str, embedder, tmp_path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(CORPUS, data / CORPUS.name)
    settings = Settings(data_dir=data, chroma_url=chroma_url, index_dir=tmp_path / "unused")
    report = ingest(settings, embedder)
    assert report.added == 21
    assert ingest(settings, embedder).added == 0
    assert not (tmp_path / "unused").exists()

    first, second = build_assistant(settings, embedder), build_assistant(settings, embedder)
    a = first.ask("What did Lee raise about Hanwha Ocean?")
    b = second.ask("What did Lee raise about Hanwha Ocean?")
    assert a.status == "answered" and "sanction" in a.answer
    assert (a.answer, a.citations) == (b.answer, b.citations)
