"""What the sessions root holds: one :class:`SessionInfo` per session directory.

The night logic (:mod:`.nights`) and the retention policy (:mod:`.retention`) are pure and
work on these records; :func:`scan_sessions` is the only part that reads the disk.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from firmware_host.session.recorder import EVENTS, META

#: A session whose clinician report was generated holds this directory.
REPORT_DIR = "report"
#: A session exported elsewhere (EDF+, a clinic server) holds this file.
EXPORT_MARKER = "exported"


@dataclass(frozen=True)
class SessionInfo:
    """One recorded session, as the service sees it.

    Parameters
    ----------
    name
        Directory name under the sessions root.
    started_unix
        Wall-clock start (``meta.json``'s ``created_unix``).
    complete
        The journal holds a ``stop`` event (closed cleanly); false after a crash or power cut.
    night
        ``YYYY-MM-DD`` of the night the session was started for (``meta.json``'s ``night``),
        or ``""`` when unknown (derived from ``started_unix`` then).
    trigger
        What started it: ``"rollover"``, ``"lights_off"`` or ``"first_start"``.
    size_bytes
        Bytes on disk (every file under the directory).
    reported
        A report was generated or the session was exported (safe to delete under budget).
    """

    name: str
    started_unix: float
    complete: bool = True
    night: str = ""
    trigger: str = "rollover"
    size_bytes: int = 0
    reported: bool = False


def scan_sessions(root: str | Path) -> list[SessionInfo]:
    """Every session directory under ``root`` (oldest first); others are ignored.

    A directory is a session when it holds ``meta.json``; names starting with ``.`` are
    skipped (a session being deleted is renamed to one first).
    """
    root = Path(root)
    if not root.is_dir():
        return []
    out = [info for path in root.iterdir() if not path.name.startswith(".")
           if (info := read_session_info(path)) is not None]
    return sorted(out, key=lambda s: (s.started_unix, s.name))


def read_session_info(path: str | Path) -> SessionInfo | None:
    """The :class:`SessionInfo` of one session directory, or ``None`` when it is not one."""
    path = Path(path)
    if not (path / META).is_file():
        return None
    try:
        meta = json.loads((path / META).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    night = meta.get("night") or {}
    return SessionInfo(
        name=path.name,
        started_unix=float(meta.get("created_unix", path.stat().st_mtime)),
        complete=journal_has_stop(path / EVENTS),
        night=str(night.get("date", "")),
        trigger=str(night.get("trigger", "rollover")),
        size_bytes=dir_size(path),
        reported=(path / REPORT_DIR).is_dir() or (path / EXPORT_MARKER).exists(),
    )


def journal_has_stop(path: Path) -> bool:
    """Whether the journal's last lifecycle event is a ``stop`` (read-only, never creates it)."""
    if not path.is_file():
        return False
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = db.execute(
                "SELECT kind FROM events WHERE kind IN ('start', 'stop') ORDER BY id DESC LIMIT 1"
            ).fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return False
    return row is not None and row[0] == "stop"


def dir_size(path: Path) -> int:
    """Bytes of every regular file under ``path``."""
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except FileNotFoundError:
                continue
    return total
