"""A test hook: stop an ingest at a named stage so a test can kill it there (SIGKILL) or
start a second ingest against it, without guessing at timing.

With ``ASSISTANT_TEST_PAUSE_AT=<stage>`` and ``ASSISTANT_TEST_PAUSE_MARKER=<file>`` set, an
ingest reaching that stage writes its pid to the marker file and waits until the file is
deleted (then goes on). Unset (always, outside tests), :func:`pause_at` does nothing.

Stages, in order: ``locked`` (the lock taken, nothing read), ``after-first-write`` (the first
batch written into the new version), ``before-publish`` (the new version and its snapshot
complete, not yet served), ``after-publish`` (served, the old version not yet deleted).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

STAGES = ("locked", "after-first-write", "before-publish", "after-publish")


def pause_at(stage: str) -> None:
    """Wait here while the marker file exists, if the environment asks to pause at ``stage``."""
    if stage not in STAGES:
        raise ValueError(f"unknown pause stage {stage!r}; known: {STAGES}")
    if os.environ.get("ASSISTANT_TEST_PAUSE_AT") != stage:
        return
    marker = Path(os.environ["ASSISTANT_TEST_PAUSE_MARKER"])
    marker.write_text(str(os.getpid()), encoding="utf-8")
    while marker.exists():
        time.sleep(0.05)
