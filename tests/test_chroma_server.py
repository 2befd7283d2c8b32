"""A shared ``chroma run`` server instead of the embedded directory: what replicas use."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.config import Settings
from assistant.service import build_assistant
from ingest.pipeline import ingest
from tests.conftest import CORPUS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    chroma = Path(sys.executable).with_name("chroma")
    port = _free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("chroma run did not start within 60 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


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
