"""The event journal: SQLite in WAL mode, one row per event, committed at every flush."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id      INTEGER PRIMARY KEY,
    t       REAL NOT NULL,      -- loop clock time (s); simulated in replay
    wall    REAL NOT NULL,      -- wall-clock unix time (s)
    sample  INTEGER,            -- absolute sample index, if the event has one
    kind    TEXT NOT NULL,
    payload TEXT NOT NULL       -- JSON
);
CREATE INDEX IF NOT EXISTS events_kind ON events(kind);
"""


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    return str(obj)


class Journal:
    """Append-only event journal.

    Events are buffered in memory and written in one transaction by :meth:`commit`; with
    ``synchronous=FULL`` a committed event survives power loss, with WAL it survives
    ``kill -9`` at any moment without corrupting earlier events.

    Parameters
    ----------
    path
        SQLite file to create or append to.
    durable
        ``synchronous=FULL`` when true, ``NORMAL`` otherwise.
    """

    def __init__(self, path: Path, durable: bool = True) -> None:
        self.path = Path(path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        self._db.executescript(SCHEMA)
        self._pending: list[tuple[float, float, int | None, str, str]] = []

    def add(self, t: float, kind: str, payload: dict[str, Any], sample: int | None) -> None:
        """Queue one event for the next commit."""
        text = json.dumps(payload, default=_json_default, separators=(",", ":"))
        self._pending.append((t, time.time(), None if sample is None else int(sample), kind, text))

    def commit(self) -> None:
        """Write every queued event in one transaction."""
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        self._db.execute("BEGIN")
        self._db.executemany(
            "INSERT INTO events (t, wall, sample, kind, payload) VALUES (?, ?, ?, ?, ?)", rows
        )
        self._db.execute("COMMIT")

    def close(self) -> None:
        """Commit what is queued and close the database."""
        if self._db is None:
            return
        self.commit()
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._db.close()
        self._db = None
