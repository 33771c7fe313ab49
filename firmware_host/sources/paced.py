"""Clock pacing shared by the file-like sources (synthetic night, replay).

A paced source makes sample ``k`` available once ``clock.now() - t_open >= (k + 1) / sfreq``
(after ``T`` clock seconds exactly ``floor(T * sfreq)`` samples have been delivered).
With :class:`~firmware_host.clock.RealClock` that is real time (or N× with ``speed``);
with a :class:`~firmware_host.clock.FakeClock` that the loop advances, it is as fast as the
loop can go — the same source code serves 1×, N× and max speed.
"""

from __future__ import annotations

import math

import numpy as np

from firmware_host.chunk import Chunk, SourceEvent
from firmware_host.clock import Clock
from firmware_host.sources.base import SourceError

#: Longest chunk one ``read`` returns; a big clock jump is delivered over several reads.
MAX_CHUNK_S = 10.0


class PacedSource:
    """Base for sources whose samples are a function of their index.

    Subclasses set ``sfreq``, ``channel_names``, ``channel_types``, ``n_samples`` (``None`` =
    endless) and implement :meth:`_fetch` and optionally :meth:`_events`.

    Parameters
    ----------
    clock
        Paces the samples.
    max_chunk_s
        Cap on the length of one chunk.
    """

    sfreq: float
    channel_names: tuple[str, ...]
    channel_types: tuple[str, ...]
    n_samples: int | None

    def __init__(self, clock: Clock, max_chunk_s: float = MAX_CHUNK_S) -> None:
        if max_chunk_s <= 0:
            raise ValueError(f"max_chunk_s must be > 0, got {max_chunk_s}")
        self.clock = clock
        self.max_chunk_s = float(max_chunk_s)
        self._t0: float | None = None
        self._pos = 0
        self._closed = False

    # ---------------------------------------------------------------- to implement
    def _fetch(self, start: int, stop: int) -> np.ndarray:
        """``(n_channels, stop - start)`` µV for absolute samples ``[start, stop)``."""
        raise NotImplementedError

    def _events(self, start: int, stop: int) -> list[SourceEvent]:
        """Events whose sample lies in ``[start, stop)``."""
        return []

    # ---------------------------------------------------------------- Source protocol
    @property
    def position(self) -> int:
        """Index of the next sample ``read`` will return."""
        return self._pos

    @property
    def start_time(self) -> float | None:
        """Clock time at :meth:`open` (timestamp of sample 0)."""
        return self._t0

    def open(self) -> None:
        """Start the clock (sample 0 is due one sample period later)."""
        if self._closed:
            raise SourceError(f"{type(self).__name__} is closed and cannot be reopened")
        if self._t0 is None:
            self._t0 = self.clock.now()

    def read(self) -> Chunk | None:
        """Every sample due by the clock since the last read (at most ``max_chunk_s``)."""
        if self._t0 is None or self._closed:
            raise SourceError(f"{type(self).__name__}.read() needs open() first (and not closed)")
        due = math.floor((self.clock.now() - self._t0) * self.sfreq + 1e-6)
        stop = min(due, self._pos + max(1, int(self.max_chunk_s * self.sfreq)))
        if self.n_samples is not None:
            stop = min(stop, self.n_samples)
        if stop <= self._pos:
            return None
        start, self._pos = self._pos, stop
        data = self._fetch(start, stop)
        return Chunk(
            data=data,
            first_sample=start,
            sfreq=self.sfreq,
            channel_names=self.channel_names,
            channel_types=self.channel_types,
            timestamps=self._t0 + np.arange(start, stop) / self.sfreq,
            events=tuple(self._events(start, stop)),
        )

    @property
    def finished(self) -> bool:
        """True once every sample of a finite source was read."""
        return self.n_samples is not None and self._pos >= self.n_samples

    def close(self) -> None:
        """Stop; idempotent."""
        self._closed = True
