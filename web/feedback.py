"""Like/dislike on answers, kept in one SQLite file so it survives restarts and can be exported.

SQLite (not server memory) because replicas share nothing else; each write opens its own
connection, so any thread of any process can record feedback.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant import inert

COLUMNS = ("id", "answer_id", "created_at", "rating", "question", "answer", "citations")

#: One row per answer: a new vote on the same answer replaces it, an undo deletes it.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS votes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    answer_id TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    rating TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class FeedbackStore:
    """The votes table in ``path`` (created on first use)."""

    path: Path

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=10)
        connection.execute(_SCHEMA)
        return connection

    def record(
        self,
        answer_id: str,
        rating: str,
        question: str,
        answer: str,
        citations: Sequence[dict[str, Any]],
    ) -> int:
        """Store the vote on one answer (replacing an earlier one); returns its row id."""
        created = datetime.now(UTC).isoformat(timespec="seconds")
        with self._connect() as connection:
            row = connection.execute(
                "INSERT INTO votes (answer_id, created_at, rating, question, answer, citations) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(answer_id) DO UPDATE SET "
                "created_at = excluded.created_at, rating = excluded.rating RETURNING id",
                (answer_id, created, rating, question, answer, json.dumps(list(citations))),
            ).fetchone()
            return int(row[0])

    def withdraw(self, answer_id: str) -> None:
        """Undo the vote on one answer."""
        with self._connect() as connection:
            connection.execute("DELETE FROM votes WHERE answer_id = ?", (answer_id,))

    def rows(self) -> list[dict[str, Any]]:
        """Every vote, oldest first."""
        if not self.path.exists():
            return []
        with self._connect() as connection:
            cursor = connection.execute(f"SELECT {', '.join(COLUMNS)} FROM votes ORDER BY id")
            return [dict(zip(COLUMNS, row, strict=True)) for row in cursor.fetchall()]

    def export_csv(self, target: Path) -> int:
        """Write every rating to ``target`` as CSV; returns how many rows were written."""
        rows = self.rows()
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", newline="", encoding="utf-8") as sink:
            writer = csv.DictWriter(sink, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows({key: inert(value) for key, value in row.items()} for row in rows)
        return len(rows)
