"""One writer per index: the lock an ingest holds while it writes, in Chroma itself.

The lock is an empty collection, ``<name>__lock``, whose metadata says who holds it (host,
pid, command, since when) and when it last beat (every ``heartbeat`` seconds, from a thread).
Creating a collection whose name exists fails, so taking the lock is one atomic step, and
the same code serves an embedded directory (any process on this machine) and a ``chroma run``
server (processes on any machine sharing it).

A lock is stale when its holder is known dead (same host, no such pid) or has not beaten for
``stale_after`` seconds (a holder on another host that died, or hung). A stale lock is taken
over: deleted if it is still the one judged stale (same collection id), then taken as usual.
Two processes that judge the same lock stale at the same instant could both take over (the
second deletes the first's fresh lock between its check and its delete, milliseconds); each
holder checks the lock is still its own (:meth:`IndexLock.check`) before it publishes, so
at most one of them publishes and the other stops with :class:`IndexLocked`.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from vectorstore.chroma_store import IndexUnavailable, StoreLocation, get_collection, open_client

log = logging.getLogger(__name__)


class IndexLocked(IndexUnavailable):
    """Another ingest holds the index's lock (or took it over from this one)."""


@dataclass(frozen=True)
class Holder:
    """Who holds a lock, as recorded in it."""

    host: str
    pid: int
    command: str
    since: float
    heartbeat: float
    token: str

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> Holder:
        return cls(
            host=str(meta.get("host", "?")),
            pid=int(meta.get("pid", 0)),
            command=str(meta.get("command", "")),
            since=float(meta.get("since", 0.0)),
            heartbeat=float(meta.get("heartbeat", 0.0)),
            token=str(meta.get("token", "")),
        )

    def metadata(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "pid": self.pid,
            "command": self.command,
            "since": self.since,
            "heartbeat": self.heartbeat,
            "token": self.token,
        }

    def describe(self, now: float) -> str:
        started = time.strftime("%H:%M:%S", time.localtime(self.since))
        return (
            f"pid {self.pid} on {self.host} (`{self.command}`), since {started}, "
            f"last heartbeat {max(0.0, now - self.heartbeat):.0f} s ago"
        )

    def stale_reason(self, now: float, stale_after: float) -> str | None:
        """Why the holder is gone, or None when it may still be writing."""
        if self.host == socket.gethostname() and not _alive(self.pid):
            return f"pid {self.pid} on {self.host} is not running"
        if now - self.heartbeat > stale_after:
            return f"no heartbeat for {now - self.heartbeat:.0f} s"
        return None


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class IndexLock:
    """The index's writer lock, held by this process between :meth:`acquire` and
    :meth:`release` (a context manager). Waits up to ``wait`` seconds for another holder."""

    def __init__(
        self,
        location: StoreLocation,
        *,
        wait: float = 0.0,
        heartbeat: float = 5.0,
        stale_after: float = 60.0,
        log: Callable[[str], None] = lambda _msg: None,
    ) -> None:
        self.location = location
        self.wait = wait
        self.heartbeat = heartbeat
        self.stale_after = stale_after
        self.log = log
        self._client: Any = None
        self._collection_id: Any = None
        self._holder: Holder | None = None
        self._stop = threading.Event()
        self._beating: threading.Thread | None = None

    def __enter__(self) -> IndexLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock, taking over a stale one; :class:`IndexLocked` when another ingest
        still holds it after ``wait`` seconds."""
        self._client = open_client(self.location)
        deadline = time.monotonic() + self.wait
        announced = False
        while True:
            now = time.time()
            mine = Holder(socket.gethostname(), os.getpid(), _command(), now, now, uuid4().hex)
            if self._create(mine):
                return
            found = get_collection(self._client, self.location.lock_name)
            if found is None:  # released in between
                continue
            holder = Holder.from_metadata(dict(found.metadata or {}))
            reason = holder.stale_reason(now, self.stale_after)
            if reason is not None:
                self.log(f"taking over the index lock of a stopped ingest ({reason})")
                self._delete_if(found.id)
                continue
            if time.monotonic() >= deadline:
                raise IndexLocked(
                    f"another ingest is writing the index at {self.location.describe()}: "
                    f"{holder.describe(now)}. Wait for it to finish (or re-run with "
                    "--wait SECONDS to wait for it)."
                )
            if not announced:
                self.log(
                    f"waiting up to {self.wait:.0f} s for the ingest writing the index "
                    f"({holder.describe(now)})"
                )
                announced = True
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))

    def _create(self, holder: Holder) -> bool:
        try:
            collection = self._client.create_collection(
                self.location.lock_name, embedding_function=None, metadata=holder.metadata()
            )
        except Exception as exc:  # "already exists": InternalError embedded, others via HTTP
            if "already exists" in str(exc).lower():
                return False
            raise
        self._collection_id, self._holder = collection.id, holder
        self._stop.clear()
        self._beating = threading.Thread(
            target=self._beat, args=(collection,), name="index-lock-heartbeat", daemon=True
        )
        self._beating.start()
        return True

    def _beat(self, collection: Any) -> None:
        while not self._stop.wait(self.heartbeat):
            holder = self._holder
            if holder is None:
                return
            try:
                collection.modify(metadata={**holder.metadata(), "heartbeat": time.time()})
            except Exception as exc:  # the next beat tries again; check() reports a loss
                log.warning("index lock heartbeat failed (%s); trying again", exc)

    def _delete_if(self, collection_id: Any) -> None:
        """Delete the lock collection if it is still the one with ``collection_id``."""
        found = get_collection(self._client, self.location.lock_name)
        if found is not None and found.id == collection_id:
            try:
                self._client.delete_collection(self.location.lock_name)
            except Exception as exc:  # deleted by another process in between
                if "does not exist" not in str(exc).lower():
                    raise

    def check(self) -> None:
        """:class:`IndexLocked` unless this process still holds the lock (call before a step
        that readers will see, such as publishing a version)."""
        found = get_collection(self._client, self.location.lock_name)
        if found is None or found.id != self._collection_id:
            raise IndexLocked(
                f"this ingest lost the index lock at {self.location.describe()} (another "
                "process took it over); nothing was published: run the ingest again."
            )

    def release(self) -> None:
        """Stop the heartbeat and delete the lock if it is still this process's."""
        self._stop.set()
        if self._beating is not None:
            self._beating.join(timeout=5)
        self._holder = None
        if self._collection_id is not None:
            self._delete_if(self._collection_id)
            self._collection_id = None


def _command() -> str:
    return " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))[:200]
