"""Causal EMG pre-processing: a streaming high-pass that removes DC offsets and motion drift.

Kept in one place so the DSP core's ``StreamingFilter`` can replace the scipy call here
without touching the decoder, the calibration or the evaluation.
"""

from __future__ import annotations

import numpy as np
from scipy import signal


class HighPass:
    """Butterworth high-pass applied chunk by chunk with explicit state (``sosfilt`` + ``zi``).

    The state is initialised from the first sample of each channel (steady state for a
    constant input), so a large DC offset produces no start-up transient.

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
        self.sos = signal.butter(order, cutoff, btype="highpass", fs=sfreq, output="sos")
        self._zi_unit = signal.sosfilt_zi(self.sos)  # (n_sections, 2)
        self.reset()

    def reset(self) -> None:
        """Forget the state; the next chunk starts a new stream."""
        self._zi: np.ndarray | None = None

    def update(self, x: np.ndarray) -> np.ndarray:
        """Filter one ``(n_channels, n)`` chunk."""
        arr = np.asarray(x, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[0] != self.n_channels:
            raise ValueError(
                f"high-pass expects ({self.n_channels}, n) chunks, got shape {arr.shape}"
            )
        if arr.shape[1] == 0:
            return arr.copy()
        if self._zi is None:
            self._zi = self._zi_unit[:, None, :] * arr[None, :, 0, None]
        y, self._zi = signal.sosfilt(self.sos, arr, axis=1, zi=self._zi)
        return y
