"""A shared ``chroma run`` server instead of the embedded directory: what replicas use."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from assistant import Settings, build_assistant
from ingest import ingest
from tests.conftest import CORPUS
from tests.servers import chroma_server
from vectorstore import PassageStore
from vectorstore.chroma_store import open_client


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


def test_a_replica_with_its_own_snapshot_has_the_e5_vectors(
    chroma_url: str, embedder, tmp_path
) -> None:
    """Each replica takes its snapshot from the server: the e5 vectors ingest stored beside
    the version come with it, so Korean questions are answered there and English ones get
    the second opinion; a new version replaces them, and the old ones are deleted with it."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(CORPUS, data / CORPUS.name)
    writer = Settings(
        data_dir=data,
        chroma_url=chroma_url,
        collection="replicas",
        index_dir=tmp_path / "unused",
        snapshot_dir=tmp_path / "writer-snapshots",
    )
    ingest(writer, embedder)
    replica = writer.model_copy(update={"snapshot_dir": tmp_path / "replica-snapshots"})
    question = "정상회담 후 두 나라는 몇 개의 협정에 서명했나요?"
    answers = [build_assistant(s, embedder).ask(question) for s in (writer, replica)]
    assert answers[0].status == "answered" and "seven" in answers[0].answer
    assert (answers[1].answer, answers[1].citations) == (answers[0].answer, answers[0].citations)
    assert list((tmp_path / "replica-snapshots").glob("*/e5.npy"))

    (data / CORPUS.name).write_text(
        CORPUS.read_text(encoding="utf-8").replace("seven", "eleven"), encoding="utf-8"
    )
    ingest(writer, embedder)
    location = writer.store_location
    version = PassageStore.current_version(location)
    names = {c.name for c in open_client(location).list_collections()}
    assert {n for n in names if n.startswith("replicas__v")} == {
        f"replicas__v{version}",
        f"replicas__v{version}__e5",
    }
    assert "eleven" in build_assistant(replica, embedder).ask(question).answer
