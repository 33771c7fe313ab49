"""``JournalTail``: follows the running session's event journal from the control thread.

The journal (SQLite in WAL mode) is the run's record of everything that happened:
decisions, commands and their outcomes, programme actions and suppressions, alarms,
safe states, faults and control changes. A read-only connection sees each batch as the
recorder commits it (at least every ``[recorder] flush_interval_s``), without blocking the
writer, so live views need no hook inside the loop.
"""

from __future__ import annotations

import json
import sqlite3
from collections import deque
from pathlib import Path
from typing import Any

#: Event kinds the live views read (quality flags are not among them: the journal keeps
#: quality per 30-s epoch, so the live view recomputes the last window, see views.py).
KINDS = ("decision", "command", "action", "suppressed", "alarm", "safe_state", "fault",
         "control", "gap", "annotation")
#: Kinds listed as "recent" (what the programme and the safety layer did).
RECENT = ("command", "action", "suppressed", "alarm", "safe_state", "fault", "gap")


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(f"{k}={_short(v)}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def describe(kind: str, p: dict[str, Any]) -> str:
    """One line for an event in the recent list."""
    if kind == "command":
        why = f" ({p['reason']})" if p.get("reason") else ""
        return f"{p.get('target')} {p.get('action')} {_short(p.get('sent') or p.get('asked') or {})} " \
               f"[{p.get('outcome')}]{why}"
    if kind == "alarm":
        return f"{p.get('priority')} {p.get('code')} {p.get('state')}: {p.get('message', '')}"
    if kind == "safe_state":
        return f"{p.get('target')} safe: {p.get('reason')}"
    if kind == "fault":
        return f"{p.get('where') or p.get('target')}: {p.get('error')}"
    if kind == "action":
        cmds = "; ".join(f"{c.get('target')} {c.get('action')} {_short(c.get('params') or {})}"
                         for c in p.get("commands") or [])
        return f"{p.get('rule')} ({p.get('trigger')}): {cmds or 'no command'}"
    if kind == "suppressed":
        return f"{p.get('rule')} held by {p.get('guard')}: {p.get('reason', '')}"
    return _short(p)


class JournalTail:
    """Reads new events of the session journal and keeps what live views show.

    Parameters
    ----------
    path
        The session's ``events.sqlite``.
    recent
        How many recent actions/commands/alarms to keep.
    backlog
        On the first read, start this many rows before the end (context for a late client).
    """

    def __init__(self, path: str | Path, recent: int = 40, backlog: int = 4000) -> None:
        self.path = Path(path)
        self.backlog = backlog
        self._db: sqlite3.Connection | None = None
        self._last_id: int | None = None
        self.stage: dict[str, Any] | None = None
        self.grip: dict[str, Any] | None = None
        self.commanded: dict[str, dict[str, Any]] = {}
        self.recent: deque[dict[str, Any]] = deque(maxlen=recent)
        self.control: deque[dict[str, Any]] = deque(maxlen=recent)

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None and self.path.exists():
            self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=0.05,
                                       check_same_thread=False)
        return self._db

    def poll(self, limit: int = 2000) -> int:
        """Read up to ``limit`` new events; return how many were read.

        Only the newest stage, grip and quality decision of a batch are parsed (SQLite's
        ``json_extract`` tells their kind), so following a fast replay costs the control
        thread little — and a control thread that holds the GIL long slows the loop.
        """
        db = self._connect()
        if db is None:
            return 0
        try:
            if self._last_id is None:
                return self._backlog(db)
            rows = db.execute(self._query("id > ? ORDER BY id LIMIT ?"),
                              (*KINDS, self._last_id, limit)).fetchall()
        except sqlite3.Error:
            return 0  # busy or being checkpointed: next poll
        self._apply(rows)
        return len(rows)

    @staticmethod
    def _query(where: str) -> str:
        marks = ",".join("?" * len(KINDS))
        return ("SELECT id, t, kind, CASE WHEN kind = 'decision' THEN json_extract(payload, '$.kind') "
                f"END, payload FROM events WHERE kind IN ({marks}) AND {where}")  # noqa: S608

    def _backlog(self, db: sqlite3.Connection) -> int:
        """First read: the newest decision of each kind and the last events of each list."""
        top = db.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]
        rows = db.execute(self._query("id > ? ORDER BY id DESC LIMIT ?"),
                          (*KINDS, max(0, top - self.backlog), self.backlog)).fetchall()
        self._last_id = top
        self._apply(rows[::-1])
        return len(rows)

    def _apply(self, rows: list[tuple[int, float, str, str | None, str]]) -> None:
        newest: dict[str, tuple[float, str]] = {}
        for row_id, t, kind, decision_kind, payload in rows:
            self._last_id = max(self._last_id or 0, row_id)
            if kind == "decision":
                newest[decision_kind or ""] = (t, payload)
            else:
                self._take(t, kind, json.loads(payload))
        for t, payload in newest.values():
            self._decision(t, json.loads(payload))

    def _take(self, t: float, kind: str, p: dict[str, Any]) -> None:
        if kind == "control":
            self.control.append({"t": t, **{k: p.get(k) for k in
                                            ("command", "client", "params", "ok", "result", "error")}})
        if kind == "command":
            self.commanded[str(p.get("target"))] = {"action": p.get("action"), "sent": p.get("sent"),
                                                    "outcome": p.get("outcome"), "t": t}
        if kind in RECENT:
            self.recent.append({"t": t, "kind": kind, "text": describe(kind, p)})

    def _decision(self, t: float, p: dict[str, Any]) -> None:
        kind, details = p.get("kind"), p.get("details") or {}
        if kind == "stage":
            self.stage = {"label": p.get("label"), "probabilities": p.get("probabilities") or {},
                          "provisional": bool(details.get("provisional")), "t": t,
                          "model": p.get("model")}
        elif kind == "grip":
            self.grip = {"label": p.get("label"), "force": details.get("force"),
                         "confidence": details.get("confidence"), "raw_label": details.get("raw_label"),
                         "t": t}

    def close(self) -> None:
        """Close the read connection."""
        if self._db is not None:
            self._db.close()
            self._db = None
