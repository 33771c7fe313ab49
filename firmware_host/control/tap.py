"""``TraceTap``: a pass-through stage that keeps the last seconds of raw signal for live views.

The control server puts it first in the stage chain (so it sees the raw signal, like the
quality stage). Its :meth:`TraceTap.update` only copies the chunk into a ring buffer;
:meth:`TraceTap.window` is called on the loop thread when a live view asks for a
snapshot and returns an ordered copy, which the control thread then decimates and
analyses (traces, band powers, EMG envelope) off the loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from firmware_host.chunk import Chunk
from firmware_host.stages.base import StageOutput


@dataclass(frozen=True)
class RawWindow:
    """An ordered copy of the last seconds of signal.

    Parameters
    ----------
    data
        ``(n_channels, n_samples)`` µV, oldest first.
    sfreq
        Sampling rate (Hz).
    channel_names, channel_types
        Layout of the rows.
    end_sample
        Absolute index one past the last sample.
    """

    data: np.ndarray
    sfreq: float
    channel_names: tuple[str, ...]
    channel_types: tuple[str, ...]
    end_sample: int


class TraceTap:
    """Keeps the last ``keep_s`` seconds of every channel; decides nothing.

    Parameters
    ----------
    keep_s
        Seconds of signal kept.
    """

    name = "trace_tap"

    def __init__(self, keep_s: float = 8.0) -> None:
        if not keep_s > 0:
            raise ValueError(f"keep_s must be > 0, got {keep_s}")
        self.keep_s = float(keep_s)
        self._buf: np.ndarray | None = None
        self._layout: tuple[float, tuple[str, ...], tuple[str, ...]] | None = None
        self.reset()

    def reset(self) -> None:
        """Forget the kept signal."""
        self._fill = 0
        self._pos = 0
        self._end = 0

    def update(self, chunk: Chunk) -> StageOutput:
        """Copy the chunk into the ring buffer; pass it on unchanged."""
        layout = (float(chunk.sfreq), tuple(chunk.channel_names), tuple(chunk.channel_types))
        if layout != self._layout or self._buf is None:
            n = max(1, int(round(self.keep_s * chunk.sfreq)))
            self._buf = np.zeros((len(chunk.channel_names), n))
            self._layout = layout
            self.reset()
        buf = self._buf
        cap = buf.shape[1]
        x = chunk.data[:, -cap:]
        m = x.shape[1]
        first = min(m, cap - self._pos)
        buf[:, self._pos:self._pos + first] = x[:, :first]
        buf[:, :m - first] = x[:, first:]
        self._pos = (self._pos + m) % cap
        self._fill = min(cap, self._fill + m)
        self._end = chunk.end_sample
        return StageOutput(chunk)

    def window(self, seconds: float | None = None) -> RawWindow | None:
        """An ordered copy of the last ``seconds`` kept (all when ``None``; ``None`` before data)."""
        if self._buf is None or self._layout is None or self._fill == 0:
            return None
        cap = self._buf.shape[1]
        n = self._fill if seconds is None else min(self._fill, max(1, round(seconds * self._layout[0])))
        idx = (np.arange(self._pos - n, self._pos)) % cap
        sfreq, names, types = self._layout
        return RawWindow(self._buf[:, idx], sfreq, names, types, self._end)
