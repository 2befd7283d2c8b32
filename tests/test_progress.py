"""Ingest progress: a bar with passages/s on a terminal, plain lines in logs."""

from __future__ import annotations

import io
import os
import select
import shutil
import subprocess
import sys
from pathlib import Path

from ingest.progress import Progress
from tests.conftest import CORPUS
from tests.servers import REPO_ROOT


def _drain(master: int, proc: subprocess.Popen | None = None) -> str:
    """Everything written to the pty until the writer is done (a read may bring a part)."""
    drawn = b""
    while True:
        ready = select.select([master], [], [], 1.0)[0]
        if not ready:
            if proc is None or proc.poll() is not None:
                break
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the writer is closed and everything has been read
            break
        if not chunk:
            break
        drawn += chunk
    os.close(master)
    return drawn.decode(errors="replace")


def test_a_bar_with_the_rate_on_a_terminal() -> None:
    master, slave = os.openpty()
    with os.fdopen(slave, "w") as tty, Progress("embedding", 300, stream=tty) as bar:
        for _ in range(3):
            bar.update(100)
    drawn = _drain(master)
    assert "\r" in drawn and "embedding" in drawn and "300/300" in drawn
    assert "passages/s" in drawn


def test_plain_lines_every_tenth_of_a_long_stage_and_one_at_the_end() -> None:
    log = io.StringIO()
    with Progress("embedding", 2000, stream=log) as bar:
        for _ in range(20):
            bar.update(100)
    lines = log.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines[:-1]] == [
        f"embedding: {n:,}/2,000 passages" for n in range(200, 2000, 200)
    ]
    assert lines[-1].startswith("embedding: 2,000 passages in ") and "passages/s)" in lines[-1]

    short = io.StringIO()
    with Progress("snapshot", 21, stream=short) as bar:
        bar.update(21)
    assert short.getvalue().startswith("snapshot: 21 passages in ")
    assert len(short.getvalue().splitlines()) == 1


def _env(tmp_path: Path) -> dict[str, str]:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    shutil.copy(CORPUS, data / CORPUS.name)
    return {
        **os.environ,
        "ASSISTANT_DATA_DIR": str(data),
        "ASSISTANT_INDEX_DIR": str(tmp_path / "index"),
    }


def test_ingest_shows_each_stage_on_a_terminal(tmp_path: Path) -> None:
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "app.py", "ingest"],
        cwd=REPO_ROOT,
        env=_env(tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    drawn = _drain(master, proc)
    assert proc.wait(timeout=300) == 0, drawn
    for stage in ("reading", "embedding", "writing", "snapshot"):
        assert stage in drawn, stage
    assert "\r" in drawn and "passages/s" in drawn and "21/21" in drawn


def test_ingest_logs_plain_lines_when_not_on_a_terminal(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "app.py", "ingest"],
        cwd=REPO_ROOT,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stderr
    stages = [line.split(":")[0] for line in done.stderr.splitlines() if " in " in line]
    # The multilingual (e5) vectors are on by default: their stage follows the snapshot's.
    assert stages == ["reading", "embedding", "writing", "snapshot", "multilingual"]
    assert "embedding: 21 passages in " in done.stderr and "passages/s)" in done.stderr
