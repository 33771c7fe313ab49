"""The event journal: SQLite in WAL mode, one row per event, committed at every flush."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
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


#: Events kept in memory while the journal cannot be written (a few minutes of a night).
MAX_QUEUED = 100_000


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
        #: Guards ``_pending``: events are added on the loop thread, committed on another.
        self._lock = threading.Lock()
        #: Events dropped because the journal could not be written for too long.
        self.dropped = 0

    def _storage_state(self) -> str:
        """What the file system says when SQLite's own error hides it ("unable to open
        database file", "disk I/O error"): one byte written and synced beside the journal
        gives the errno (`` (Read-only file system)``, `` (No space left on device)``…), or
        nothing when the file system takes it."""
        probe = self.path.with_name(f".{self.path.name}.probe")
        try:
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, b"\0")
                os.fsync(fd)
            finally:
                os.close(fd)
                os.unlink(probe)
        except OSError as exc:
            return f" ({exc.strerror or exc})"
        return ""

    def add(self, t: float, kind: str, payload: dict[str, Any], sample: int | None) -> None:
        """Queue one event for the next commit."""
        text = json.dumps(payload, default=_json_default, separators=(",", ":"))
        row = (t, time.time(), None if sample is None else int(sample), kind, text)
        with self._lock:
            self._pending.append(row)

    def commit(self) -> None:
        """Write every queued event in one transaction.

        Raises
        ------
        OSError
            When the journal cannot be written (disk full, read-only, I/O error). The
            transaction is rolled back and every queued event stays queued for the next
            commit, so the journal on disk stays consistent and nothing is reordered; at most
            :data:`MAX_QUEUED` events wait (the oldest beyond are dropped and counted in
            :attr:`dropped`).
        """
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO events (t, wall, sample, kind, payload) VALUES (?, ?, ?, ?, ?)", batch)
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            with self._lock:  # back in front of what was added meanwhile, in order
                self._pending = batch + self._pending
                excess = len(self._pending) - MAX_QUEUED
                if excess > 0:
                    del self._pending[:excess]
                    self.dropped += excess
            raise OSError(f"journal {self.path.name}: {exc}{self._storage_state()}") from None

    def close(self) -> None:
        """Commit what is queued and close the database (closed even when the commit fails).

        Raises
        ------
        OSError
            When the last events could not be written.
        """
        if self._db is None:
            return
        try:
            self.commit()
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            self._db.close()
            self._db = None
