"""Causal EMG pre-processing: a streaming high-pass that removes DC offsets and motion drift.

One place wraps the DSP core's :class:`dsp.filters.StreamingFilter` for the decoder, the
calibration and the evaluation.
"""

from __future__ import annotations

import numpy as np

from dsp.filters import StreamingFilter, design_highpass


class HighPass:
    """Butterworth high-pass applied chunk by chunk with explicit state.

    The state starts from the first sample of each channel (steady state for a constant
    input), so a large DC offset produces no start-up transient.

    Parameters
    ----------
    n_channels
        Channels per chunk.
    sfreq
        Sampling rate in Hz.
    cutoff
        Cut-off in Hz (0 < cutoff < sfreq / 2).
    order
        Filter order.
    """

    def __init__(self, n_channels: int, sfreq: float, cutoff: float = 20.0, order: int = 4) -> None:
        if not 0 < cutoff < sfreq / 2:
            raise ValueError(f"high-pass cutoff must be in (0, {sfreq / 2}) Hz, got {cutoff}")
        self.n_channels = int(n_channels)
        self._filter = StreamingFilter(design_highpass(cutoff, sfreq, order), n_channels)

    def reset(self) -> None:
        """Forget the state; the next chunk starts a new stream."""
        self._filter.reset()

    def update(self, x: np.ndarray) -> np.ndarray:
        """Filter one ``(n_channels, n)`` chunk."""
        arr = np.asarray(x, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[0] != self.n_channels:
            raise ValueError(
                f"high-pass expects ({self.n_channels}, n) chunks, got shape {arr.shape}"
            )
        return self._filter.process(arr)
