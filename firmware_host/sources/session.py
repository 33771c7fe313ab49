"""Replay of our own recorded sessions (both formats), paced by a clock.

Every channel comes back with its name and type, at the session's own sample indices (a
replay of a night keeps its indices, so decisions can be compared sample for sample). Ranges
the session does not hold come out as a ``gap`` event at the first chunk after them, with the
reader's cause; journalled ``annotation`` and ``marker`` events come out as chunk events at
their sample. A real clock replays at 1× (or N× with ``RealClock(speed)``), a fake clock that
the loop advances as fast as possible.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from firmware_host.chunk import Chunk, SourceEvent
from firmware_host.clock import Clock
from firmware_host.config.schema import SessionSourceConfig
from firmware_host.session import Session, SessionError
from firmware_host.sources.base import SourceError
from firmware_host.sources.paced import MAX_CHUNK_S

#: Journal event kinds replayed as chunk events.
REPLAYED_KINDS = ("annotation", "marker")


class SessionSource:
    """A recorded session as a :class:`~firmware_host.sources.base.Source`.

    Parameters
    ----------
    cfg
        ``[source.session]``: the session directory.
    clock
        Paces the replay: sample ``k`` is due once ``(k - first + 1) / sfreq`` clock seconds
        have passed since :meth:`open`, ``first`` being the session's first sample.
    max_chunk_s
        Longest chunk one read returns.

    Raises
    ------
    SourceError
        If the path is not a readable session or holds no intact sample.
    """

    def __init__(self, cfg: SessionSourceConfig, clock: Clock, max_chunk_s: float = MAX_CHUNK_S) -> None:
        if not cfg.path:
            raise SourceError("source.session.path is empty; give a session directory to replay")
        try:
            self.session = Session(Path(cfg.path).expanduser())
            blocks = self.session.blocks()
            events = [e for e in self.session.events() if e.kind in REPLAYED_KINDS
                      and e.sample is not None]
        except SessionError as exc:
            raise SourceError(f"source.session.path={cfg.path!r}: {exc}") from None
        if not blocks:
            raise SourceError(f"source.session.path={cfg.path!r}: the session holds no intact sample")
        if max_chunk_s <= 0:
            raise ValueError(f"max_chunk_s must be > 0, got {max_chunk_s}")
        self.clock = clock
        self.max_chunk = max(1, int(max_chunk_s * self.session.sfreq))
        self.sfreq = self.session.sfreq
        self.channel_names = tuple(self.session.channel_names)
        self.channel_types = tuple(self.session.channel_types)
        order = sorted(blocks, key=lambda b: b.first_sample)
        self._blocks = order
        self._starts = np.array([b.first_sample for b in order], dtype=np.int64)
        self._ends = np.array([b.end_sample for b in order], dtype=np.int64)
        self._gap_cause = {g.stop: g.cause for g in self.session.gaps()}
        self._events = sorted(((e.sample, e.kind, e.payload) for e in events), key=lambda e: e[0])
        self._event_samples = np.array([e[0] for e in self._events], dtype=np.int64)
        self.first_sample = int(self._starts[0])
        self.end_sample = int(self._ends.max())
        self._pos = self.first_sample
        self._next_event = 0
        self._cache: tuple[int, np.ndarray] | None = None
        self._t0: float | None = None
        self._closed = False

    def open(self) -> None:
        """Start the clock."""
        if self._closed:
            raise SourceError("SessionSource is closed and cannot be reopened")
        if self._t0 is None:
            self._t0 = self.clock.now()

    @property
    def finished(self) -> bool:
        """True once every recorded sample was delivered."""
        return self._pos >= self.end_sample

    def close(self) -> None:
        """Stop; idempotent."""
        self._closed = True

    def _block_data(self, k: int) -> np.ndarray:
        if self._cache is None or self._cache[0] != k:
            decoded = next(self.session.decode([self._blocks[k]]), None)
            if decoded is None:
                raise SourceError(f"{self.session.path}: block at sample "
                                  f"{self._blocks[k].first_sample} passed its CRC but does not decode")
            self._cache = (k, decoded[1])
        return self._cache[1]

    def read(self) -> Chunk | None:
        """Recorded samples due by the clock since the last read (never across a gap)."""
        if self._t0 is None or self._closed:
            raise SourceError("SessionSource.read() needs open() first (and not closed)")
        due = self.first_sample + math.floor((self.clock.now() - self._t0) * self.sfreq + 1e-6)
        k = int(np.searchsorted(self._ends, self._pos, side="right"))
        if k >= len(self._blocks):
            return None
        start = max(self._pos, int(self._starts[k]))
        gap_from = self._pos if start > self._pos else None
        stop = min(due, start + self.max_chunk, self.end_sample)
        if stop <= start:
            return None
        parts = []
        pos = start
        while pos < stop and k < len(self._blocks) and self._starts[k] <= pos:
            b = self._blocks[k]
            hi = min(stop, b.end_sample)
            parts.append(self._block_data(k)[:, pos - b.first_sample:hi - b.first_sample])
            pos = hi
            if pos >= b.end_sample:
                k += 1
        self._pos = pos
        events = self._chunk_events(start, pos)
        if gap_from is not None:
            events.insert(0, SourceEvent("gap", gap_from, {
                "missing": start - gap_from, "detected_by": "session",
                "cause": self._gap_cause.get(start, "source")}))
        return Chunk(
            data=parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1),
            first_sample=start,
            sfreq=self.sfreq,
            channel_names=self.channel_names,
            channel_types=self.channel_types,
            timestamps=self._t0 + (np.arange(start, pos) - self.first_sample) / self.sfreq,
            events=tuple(events),
        )

    def _chunk_events(self, start: int, stop: int) -> list[SourceEvent]:
        """Journal events not yet delivered whose sample is before ``stop``."""
        hi = int(np.searchsorted(self._event_samples, stop))
        out = [SourceEvent(kind, int(sample), dict(payload))
               for sample, kind, payload in self._events[self._next_event:hi]]
        self._next_event = max(self._next_event, hi)
        return out
