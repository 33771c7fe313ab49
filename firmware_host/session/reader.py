"""Reading a session directory back, including one left behind by a killed run."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from firmware_host.events import EVENT_KINDS
from firmware_host.session.blocks import ScanResult, iter_blocks
from firmware_host.session.recorder import EVENTS, META, SAMPLES


class SessionError(ValueError):
    """A directory is not a readable session; the message says what is missing."""


@dataclass(frozen=True)
class Gap:
    """Samples missing between two recorded blocks."""

    start: int
    stop: int

    @property
    def n_missing(self) -> int:
        """How many samples are missing."""
        return self.stop - self.start


@dataclass(frozen=True)
class Event:
    """One journal row."""

    t: float
    wall: float
    sample: int | None
    kind: str
    payload: dict[str, Any]


class Session:
    """A recorded session.

    Parameters
    ----------
    path
        The session directory written by :class:`~firmware_host.session.SessionRecorder`.

    Raises
    ------
    SessionError
        If the directory or its ``meta.json`` is missing or unreadable.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise SessionError(f"{self.path} is not a directory")
        try:
            self.meta: dict[str, Any] = json.loads((self.path / META).read_text())
        except FileNotFoundError:
            raise SessionError(f"{self.path} is not a session: {META} is missing") from None
        except json.JSONDecodeError as exc:
            raise SessionError(f"{self.path / META} is not valid JSON: {exc}") from None
        self.sfreq = float(self.meta["sfreq"])
        self.channel_names: list[str] = list(self.meta["channel_names"])
        self.channel_types: list[str] = list(self.meta["channel_types"])
        self._index: list[tuple[int, int]] | None = None
        self.scan = ScanResult()

    # ------------------------------------------------------------------ samples
    def block_index(self) -> list[tuple[int, int]]:
        """``(first_sample, n_samples)`` of every intact block, in file order."""
        if self._index is None:
            self.scan = ScanResult()
            path = self.path / SAMPLES
            if not path.exists():
                self._index = []
            else:
                with open(path, "rb") as fh:
                    self._index = [
                        (b.first_sample, b.n_samples)
                        for b in iter_blocks(fh, self.scan, headers_only=True)
                    ]
        return self._index

    @property
    def n_samples(self) -> int:
        """Recorded samples per channel (gaps excluded)."""
        return sum(n for _, n in self.block_index())

    @property
    def first_sample(self) -> int:
        """Absolute index of the first recorded sample (0 when empty)."""
        idx = self.block_index()
        return idx[0][0] if idx else 0

    @property
    def end_sample(self) -> int:
        """One past the last recorded absolute sample index."""
        idx = self.block_index()
        return idx[-1][0] + idx[-1][1] if idx else 0

    def gaps(self) -> list[Gap]:
        """Index ranges missing between consecutive blocks."""
        out = []
        expected = None
        for first, n in self.block_index():
            if expected is not None and first > expected:
                out.append(Gap(expected, first))
            expected = first + n
        return out

    def read(self, start: int | None = None, stop: int | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Samples with absolute index in ``[start, stop)``.

        Returns
        -------
        data
            ``(n_channels, n)`` float64 µV (gaps are skipped, not filled).
        samples
            ``(n,)`` absolute sample indices.
        timestamps
            ``(n,)`` seconds.
        """
        start = self.first_sample if start is None else start
        stop = self.end_sample if stop is None else stop
        parts, idx, ts = [], [], []
        with open(self.path / SAMPLES, "rb") as fh:
            for b in iter_blocks(fh):
                lo, hi = max(start, b.first_sample), min(stop, b.first_sample + b.n_samples)
                if lo >= hi:
                    continue
                sl = slice(lo - b.first_sample, hi - b.first_sample)
                parts.append(b.data[:, sl].astype(np.float64))
                idx.append(np.arange(lo, hi, dtype=np.int64))
                ts.append(b.timestamps[sl])
        if not parts:
            n_ch = len(self.channel_names)
            return np.empty((n_ch, 0)), np.empty(0, np.int64), np.empty(0)
        return np.concatenate(parts, axis=1), np.concatenate(idx), np.concatenate(ts)

    # ------------------------------------------------------------------- events
    def _connect(self) -> sqlite3.Connection:
        path = self.path / EVENTS
        if not path.exists():
            raise SessionError(f"{self.path} has no event journal ({EVENTS})")
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def events(self, kind: str | None = None) -> list[Event]:
        """Journal events in order, optionally of one kind."""
        with self._connect() as db:
            if kind is None:
                rows = db.execute("SELECT t, wall, sample, kind, payload FROM events ORDER BY id")
            else:
                rows = db.execute(
                    "SELECT t, wall, sample, kind, payload FROM events WHERE kind=? ORDER BY id",
                    (kind,),
                )
            return [Event(t, w, s, k, json.loads(p)) for t, w, s, k, p in rows.fetchall()]

    def decisions(self, decision_kind: str) -> list[Event]:
        """Journalled ``decision`` events of one decision kind (e.g. ``"neurofeedback"``), in order."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT t, wall, sample, kind, payload FROM events WHERE kind='decision' "
                "AND json_extract(payload, '$.kind')=? ORDER BY id", (decision_kind,),
            ).fetchall()
        return [Event(t, w, s, k, json.loads(p)) for t, w, s, k, p in rows]

    def event_counts(self) -> dict[str, int]:
        """Number of events of each kind; every standard kind is present, 0 when absent."""
        with self._connect() as db:
            rows = db.execute("SELECT kind, COUNT(*) FROM events GROUP BY kind").fetchall()
        return dict(sorted({**dict.fromkeys(EVENT_KINDS, 0), **dict(rows)}.items()))

    def decision_counts(self, decision_kind: str) -> Counter[str]:
        """How often each label was decided for ``decision_kind`` (e.g. ``"stage"``)."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT json_extract(payload, '$.label'), COUNT(*) FROM events "
                "WHERE kind='decision' AND json_extract(payload, '$.kind')=? "
                "AND NOT COALESCE(json_extract(payload, '$.details.provisional'), 0) "
                "GROUP BY 1",
                (decision_kind,),
            ).fetchall()
        return Counter(dict(rows))

    def summary(self) -> dict[str, Any]:
        """The figures ``somnoloop info`` prints."""
        n = self.n_samples
        gaps = self.gaps()
        events = self.event_counts()
        stop = self.events("stop")
        return {
            "path": str(self.path),
            "software_version": self.meta.get("software_version"),
            "config_name": self.meta.get("config_name"),
            "source": self.meta.get("source"),
            "sfreq": self.sfreq,
            "channels": list(self.channel_names),
            "channel_types": list(self.channel_types),
            "n_samples": n,
            "duration_s": n / self.sfreq,
            "span_s": (self.end_sample - self.first_sample) / self.sfreq,
            "n_gaps": len(gaps),
            "missing_samples": sum(g.n_missing for g in gaps),
            "events": events,
            "stages": dict(self.decision_counts("stage")),
            "complete": bool(stop),
            "torn_tail": self.scan.problem or None,
        }
