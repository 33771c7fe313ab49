"""Causal streaming rational resampler (polyphase FIR), the stager's one replaceable step.

Kept small and local so it can be swapped for ``dsp.resample`` once that lands. Output
sample ``m`` is at input time ``m * down / up`` and uses only inputs up to that time
(causal FIR, delay ``(n_taps - 1) / 2`` upsampled samples). Any chunking of the input gives
the same output.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy.signal import firwin


class StreamResampler:
    """Resample ``(n_channels, n)`` blocks from ``sfreq_in`` to ``sfreq_out``.

    Parameters
    ----------
    sfreq_in, sfreq_out
        Rates in Hz; their ratio must be a fraction with numerator/denominator ≤ 1000.
    n_channels
        Rows per block.
    half_taps_per_phase
        Filter length per polyphase branch / 2 (sharper anti-alias filter when larger).
    """

    def __init__(self, sfreq_in: float, sfreq_out: float, n_channels: int,
                 half_taps_per_phase: int = 8) -> None:
        if sfreq_in <= 0 or sfreq_out <= 0:
            raise ValueError(f"rates must be > 0, got {sfreq_in} -> {sfreq_out}")
        frac = Fraction(sfreq_out / sfreq_in).limit_denominator(1000)
        if abs(float(frac) - sfreq_out / sfreq_in) > 1e-9:
            raise ValueError(f"cannot resample {sfreq_in} Hz -> {sfreq_out} Hz with a small ratio")
        self.up, self.down = frac.numerator, frac.denominator
        self.n_channels = n_channels
        self.identity = self.up == self.down == 1
        n_taps = 2 * half_taps_per_phase * max(self.up, self.down) + 1
        cutoff = 0.9 / max(self.up, self.down)  # relative to the upsampled Nyquist
        h = firwin(n_taps, cutoff, window=("kaiser", 5.0)) * self.up
        n_phase_taps = -(-n_taps // self.up)
        hp = np.zeros(n_phase_taps * self.up)
        hp[:n_taps] = h
        self._poly = hp.reshape(n_phase_taps, self.up)  # poly[t, p] = h[p + up * t]
        self._hist = n_phase_taps - 1
        self.reset()

    def reset(self) -> None:
        """Forget the history (zeros before the next block)."""
        self._buf = np.zeros((self.n_channels, self._hist))
        self._n_in = 0  # input samples consumed so far
        self._n_out = 0  # output samples produced so far

    def process(self, x: np.ndarray) -> np.ndarray:
        """Feed one block; return every output sample that is now complete."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] != self.n_channels:
            raise ValueError(f"expected ({self.n_channels}, n) block, got shape {x.shape}")
        if self.identity:
            return x.copy()
        buf = np.concatenate([self._buf, x], axis=1)
        offset = self._n_in - self._hist  # absolute input index of buf[:, 0]
        self._n_in += x.shape[1]
        # outputs m with floor(m*down/up) <= last input index
        last = self._n_in - 1
        m_end = (last * self.up) // self.down + 1
        m = np.arange(self._n_out, m_end)
        self._n_out = m_end
        self._buf = buf[:, buf.shape[1] - self._hist :] if self._hist else buf[:, :0]
        if m.size == 0:
            return np.zeros((self.n_channels, 0))
        j = m * self.down
        phase = j % self.up
        base = j // self.up - offset  # index into buf of the newest input used
        taps = self._poly.shape[0]
        idx = base[:, None] - np.arange(taps)[None, :]  # (n_out, taps)
        w = self._poly[:, phase].T  # (n_out, taps)
        return np.einsum("cmt,mt->cm", buf[:, idx], w)
