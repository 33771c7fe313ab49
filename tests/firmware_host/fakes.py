"""Small deterministic test doubles shared by the firmware_host tests."""

from __future__ import annotations

import numpy as np

from firmware_host.chunk import Chunk, SourceEvent
from firmware_host.clock import Clock


class RampSource:
    """A clock-paced source whose sample k of channel c is ``1000 * c + k`` (µV).

    Parameters
    ----------
    clock
        Paces the source like the real ones: samples up to ``clock.now() * sfreq``.
    n_samples
        Total length; ``finished`` after that.
    drop
        ``(start, stop)`` absolute ranges never delivered (simulated lost packets).
    """

    def __init__(self, clock: Clock, n_samples: int, sfreq: float = 100.0, n_channels: int = 2,
                 drop: tuple[tuple[int, int], ...] = ()) -> None:
        self.clock = clock
        self.sfreq = sfreq
        self.n_total = n_samples
        self.channel_names = tuple(f"ch{i}" for i in range(n_channels))
        self.channel_types = ("eeg",) * n_channels
        self.drop = drop
        self.pos = 0
        self.opened = self.closed = False

    def open(self) -> None:
        self.opened = True

    @property
    def finished(self) -> bool:
        return self.pos >= self.n_total

    def read(self) -> Chunk | None:
        stop = min(self.n_total, int(self.clock.now() * self.sfreq))
        for lo, hi in self.drop:
            if lo <= self.pos < hi:
                self.pos = hi
        for lo, _ in self.drop:
            if self.pos < lo < stop:
                stop = lo
        if stop <= self.pos:
            return None
        idx = np.arange(self.pos, stop)
        data = np.vstack([1000.0 * c + idx for c in range(len(self.channel_names))])
        events = (SourceEvent("marker", self.pos, {"value": 1}),) if self.pos == 0 else ()
        chunk = Chunk(data, self.pos, self.sfreq, self.channel_names, self.channel_types,
                      idx / self.sfreq, events)
        self.pos = stop
        return chunk

    def close(self) -> None:
        self.closed = True
