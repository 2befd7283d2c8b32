"""One writer per index and no half-written index ever served, with real processes.

Each ingest here is ``python app.py ingest`` in its own process, against a real Chroma (an
embedded directory, and a ``chroma run`` server). An ingest is stopped at a named stage by the
pause hook (``ASSISTANT_TEST_PAUSE_AT``, :mod:`ingest.pause`): it writes a marker file and
waits, and the test then kills it with SIGKILL, or starts a second ingest against it, or lets
it go on by deleting the marker. Nothing waits on timing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import CORPUS
from tests.servers import REPO_ROOT, app_server, chroma_server
from vectorstore import PassageStore, StoreLocation
from vectorstore.chroma_store import get_collection, open_client

ARTICLE = CORPUS.read_text(encoding="utf-8")
QUESTION = "How many agreements were signed?"
#: The edit each "new version" makes: the answer to QUESTION changes with it.
EDITED = ARTICLE.replace("signed seven agreements", "signed eleven agreements")
PROCESS_TIMEOUT = 300


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with chroma_server(tmp_path_factory.mktemp("chroma-server")) as server:
        server.wait_healthy(timeout=60)
        yield server.url


@pytest.fixture(params=["embedded", "server"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """Settings (as the environment of the processes) for a fresh index of the test's own."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "summit.txt").write_text(ARTICLE, encoding="utf-8")
    values = {
        "ASSISTANT_DATA_DIR": str(data),
        "ASSISTANT_INDEX_DIR": str(tmp_path / "index"),
        "ASSISTANT_SNAPSHOT_DIR": str(tmp_path / "snapshots"),
        "ASSISTANT_FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"),
        "ASSISTANT_COLLECTION": f"t{uuid.uuid4().hex[:12]}",
    }
    if request.param == "server":
        values["ASSISTANT_CHROMA_URL"] = request.getfixturevalue("chroma_url")
    return values


def location(env: dict[str, str]) -> StoreLocation:
    return StoreLocation(
        Path(env["ASSISTANT_INDEX_DIR"]),
        env["ASSISTANT_COLLECTION"],
        env.get("ASSISTANT_CHROMA_URL"),
    )


def app(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``python app.py ARGS`` to the end."""
    return subprocess.run(
        [sys.executable, "app.py", *args],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT,
    )


class Paused:
    """``python app.py ingest ARGS`` stopped at ``stage`` (awaited: the marker file exists)."""

    def __init__(self, env: dict[str, str], stage: str, *args: str) -> None:
        self.marker = Path(env["ASSISTANT_DATA_DIR"]).parent / f"paused-{uuid.uuid4().hex}"
        self.log = self.marker.with_suffix(".log")
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "app.py", "ingest", *args],
                cwd=REPO_ROOT,
                env={
                    **os.environ,
                    **env,
                    "ASSISTANT_TEST_PAUSE_AT": stage,
                    "ASSISTANT_TEST_PAUSE_MARKER": str(self.marker),
                },
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )
        deadline = time.monotonic() + PROCESS_TIMEOUT
        while not self.marker.exists():
            if self.proc.poll() is not None:
                raise AssertionError(f"ingest ended before {stage}: {self.output()}")
            assert time.monotonic() < deadline, f"ingest never reached {stage}"
            time.sleep(0.05)  # the next look for the marker

    def output(self) -> str:
        return self.log.read_text()

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        assert self.proc.wait(timeout=30) == -signal.SIGKILL

    def resume(self) -> int:
        self.marker.unlink()
        return self.proc.wait(timeout=PROCESS_TIMEOUT)


def ask(env: dict[str, str], question: str = QUESTION) -> dict:
    done = app(env, "ask", "--json", question)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def served_version(env: dict[str, str]) -> str | None:
    return PassageStore.current_version(location(env))


def collections(env: dict[str, str]) -> list[str]:
    """The index's collections but the versions' e5 companions, each of which must belong to
    a version listed (deleted with it)."""
    prefix = env["ASSISTANT_COLLECTION"]
    names = [c.name for c in open_client(location(env)).list_collections()]
    ours = sorted(n.removeprefix(prefix) for n in names if n.startswith(prefix))
    versions = [n for n in ours if not n.endswith("__e5")]
    assert {n.removesuffix("__e5") for n in ours} <= set(versions), ours
    return versions


def _ingested(env: dict[str, str]) -> str:
    done = app(env, "ingest")
    assert done.returncode == 0, done.stderr
    version = served_version(env)
    assert version is not None
    return version


# -- one writer ---------------------------------------------------------------------------
def test_a_second_ingest_exits_2_naming_the_holder_and_the_first_completes(env) -> None:
    first = Paused(env, "after-first-write")
    second = app(env, "ingest")
    assert second.returncode == 2
    (line,) = [x for x in second.stderr.splitlines() if x.startswith("error:")]
    assert "another ingest is writing the index" in line
    assert f"pid {first.proc.pid} on " in line and "--wait" in line
    assert first.resume() == 0, first.output()
    assert ask(env)["answer"].startswith("After the summit, both nations signed seven")
    assert PassageStore.open_published(location(env)).count() == 21
    assert collections(env) == ["__current", f"__v{served_version(env)}"]


def test_a_second_ingest_with_wait_goes_on_when_the_first_is_done(env, tmp_path: Path) -> None:
    _ingested(env)
    (Path(env["ASSISTANT_DATA_DIR"]) / "summit.txt").write_text(EDITED, encoding="utf-8")
    first = Paused(env, "locked")
    log = tmp_path / "second.log"
    with log.open("w") as out:
        second = subprocess.Popen(
            [sys.executable, "app.py", "ingest", "--wait", str(PROCESS_TIMEOUT)],
            cwd=REPO_ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    deadline = time.monotonic() + PROCESS_TIMEOUT
    while "waiting up to" not in log.read_text():
        assert second.poll() is None, log.read_text()
        assert time.monotonic() < deadline
        time.sleep(0.05)  # the next look at its output
    assert f"pid {first.proc.pid}" in log.read_text()
    assert first.resume() == 0, first.output()
    assert second.wait(timeout=PROCESS_TIMEOUT) == 0, log.read_text()
    # The second saw the first's work: nothing left to do, and the index is the edited one.
    assert "0 passage(s) added, 0 updated (moved), 0 removed, 21 unchanged" in log.read_text()
    assert "eleven" in ask(env)["answer"]


def test_the_lock_of_a_killed_ingest_is_taken_over(env) -> None:
    first = Paused(env, "locked")
    first.kill()
    second = app(env, "ingest")
    assert second.returncode == 0, second.stderr
    assert f"taking over the index lock of a stopped ingest (pid {first.proc.pid}" in second.stderr
    assert "__lock" not in collections(env)
    assert "seven" in ask(env)["answer"]


# -- never a half-written index ---------------------------------------------------------------
@pytest.mark.parametrize("stage", ["after-first-write", "before-publish"])
def test_sigkill_during_a_rebuild_leaves_the_previous_version_served(env, stage: str) -> None:
    before = _ingested(env)
    old_answer = ask(env)
    (Path(env["ASSISTANT_DATA_DIR"]) / "summit.txt").write_text(EDITED, encoding="utf-8")
    Paused(env, stage, "--rebuild").kill()

    assert served_version(env) == before
    shutil.rmtree(env["ASSISTANT_SNAPSHOT_DIR"])  # a fresh start reads Chroma itself
    again = ask(env)
    assert {**again, "latency_ms": 0} == {**old_answer, "latency_ms": 0}
    if stage == "after-first-write":
        with app_server(env) as server:
            server.wait_healthy()
            health = httpx.get(f"{server.url}/healthz").json()
        assert health["index_version"] == before and health["passages_indexed"] == 21

    # The next ingest takes the dead one's lock over, deletes the version it left, publishes.
    left = collections(env)
    assert left[:3] == ["__current", "__lock", f"__v{before}"] or left[:2] == [
        "__current",
        "__lock",
    ]
    assert len(left) == 4  # the pointer, the lock, the served version, the abandoned one
    after = _ingested(env)
    assert after != before and "eleven" in ask(env)["answer"]
    assert collections(env) == ["__current", f"__v{after}"]
    assert get_collection(
        open_client(location(env)), f"{env['ASSISTANT_COLLECTION']}__v{after}__e5"
    )


def test_sigkill_after_publishing_serves_the_new_version(env) -> None:
    before = _ingested(env)
    (Path(env["ASSISTANT_DATA_DIR"]) / "summit.txt").write_text(EDITED, encoding="utf-8")
    Paused(env, "after-publish").kill()
    assert served_version(env) not in (None, before)
    assert "eleven" in ask(env)["answer"]
    # The old version is still there (and the lock), never served again.
    assert len(collections(env)) == 4
    after = _ingested(env)
    assert collections(env) == ["__current", f"__v{after}"]


def test_sigkill_during_a_backend_change_keeps_the_old_backend_served(env) -> None:
    before = _ingested(env)
    fp32 = {**env, "ASSISTANT_EMBEDDING_BACKEND": "onnx"}
    Paused(fp32, "before-publish").kill()
    assert served_version(env) == before
    assert "seven" in ask(env)["answer"]  # the default (int8) backend: the previous version
    refused = app(fp32, "ask", QUESTION)
    assert refused.returncode == 1
    assert "was built with embeddings" in refused.stderr and "ASSISTANT_EMBEDDING_BACKEND" in (
        refused.stderr
    )


def test_an_index_written_in_place_by_an_older_ingest_is_never_served(env) -> None:
    """Indexes from before versions were written in place and flagged while written."""
    loc = location(env)
    legacy = open_client(loc).create_collection(
        loc.collection,
        embedding_function=None,
        metadata={"embedding_space": "x", "index_version": "0" * 32, "index_writing": True},
    )
    assert legacy.count() == 0
    refused = app(env, "ask", QUESTION)
    assert refused.returncode == 1 and "half-written" in refused.stderr
    done = app(env, "ingest")
    assert done.returncode == 0 and "building it again" in done.stderr
    assert "seven" in ask(env)["answer"]
    assert collections(env) == ["__current", f"__v{served_version(env)}"]
