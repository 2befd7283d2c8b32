"""Progress of the long stages of an ingest (reading, embedding, writing, the snapshot).

On a terminal, a tqdm bar redrawn in place with the rate (passages/s); on a pipe or a file
(CI logs, ``make``), plain lines: one every tenth of a long stage and one when it ends, so a
9,000-passage ingest is never silent and logs stay readable.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

#: Stages shorter than this get only their final line when not on a terminal.
LONG_STAGE = 1000


class Progress:
    """One stage: ``update(n)`` as work is done, ``close()`` when it ends (a context manager)."""

    def __init__(
        self, label: str, total: int, unit: str = "passages", stream: TextIO | None = None
    ):
        self.label, self.total, self.unit = label, total, unit
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self._started = time.perf_counter()
        self._next_line = max(1, total // 10) if total >= LONG_STAGE else total + 1
        self._bar = None
        if self.stream.isatty():
            from tqdm import tqdm

            columns, lines = _size(self.stream)
            self._bar = tqdm(
                total=total,
                desc=label,
                unit=f" {unit}",
                file=self.stream,
                ncols=columns,
                nrows=lines,
                leave=True,
            )

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def rate(self) -> float:
        elapsed = time.perf_counter() - self._started
        return self.done / elapsed if elapsed > 0 else 0.0

    def update(self, n: int) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
        elif self.done >= self._next_line and self.done < self.total:
            step = max(1, self.total // 10)
            self._next_line = (self.done // step + 1) * step
            print(
                f"{self.label}: {self.done:,}/{self.total:,} {self.unit} "
                f"({100 * self.done // self.total}%, {self.rate():,.0f} {self.unit}/s)",
                file=self.stream,
                flush=True,
            )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.total:
            elapsed = time.perf_counter() - self._started
            print(
                f"{self.label}: {self.done:,} {self.unit} in {elapsed:.1f} s "
                f"({self.rate():,.0f} {self.unit}/s)",
                file=self.stream,
                flush=True,
            )
            self.total = 0  # closed: a second close prints nothing


def _size(stream: TextIO) -> tuple[int, int]:
    """The terminal's columns and lines; 80×24 when it reports none (a pseudo-terminal nobody
    sized says 0×0, and tqdm then draws nothing)."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (OSError, ValueError):
        return 80, 24
    return size.columns or 80, size.lines or 24
