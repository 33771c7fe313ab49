"""Causal moving mean (or mean square: band power) of the last ``n`` samples of every channel.

``out[c, k] = mean(x[c, max(0, k - n + 1) : k + 1])`` — fewer samples at the very start,
where only the samples seen so far are averaged (no zero-padding bias). Used for moving
covariances (feed a product of two signals) and for trailing baselines (feed a feature and
its square to get a trailing mean and standard deviation).

With ``square=True`` it averages ``x**2`` — the band power of a band-passed signal (the
neurofeedback feature, the spindle detector's sigma power). The kernel keeps a ring and a
running sum that is recomputed exactly from the ring every time the ring wraps, so rounding
never accumulates and the output is bit-identical whatever the chunking.
"""

from __future__ import annotations

import numpy as np

from dsp._jit import njit
from dsp.validation import as_block, channel_block, check_finite, positive_int

__all__ = ["StreamingMovingMean", "moving_mean"]


@njit
def _moving_mean_kernel(x, ring, sums, counters, out, square):  # noqa: ANN001  # pragma: no cover
    """Stream ``x`` (n_ch, m) (squared when ``square``) through the ring; ``counters`` =
    [position, samples seen]."""
    n_ch, m = x.shape
    n = ring.shape[1]
    pos = counters[0]
    seen = counters[1]
    for k in range(m):
        for c in range(n_ch):
            v = x[c, k] * x[c, k] if square else x[c, k]
            sums[c] += v - ring[c, pos]
            ring[c, pos] = v
        pos += 1
        if seen < n:
            seen += 1
        if pos == n:
            pos = 0
            for c in range(n_ch):
                s = 0.0
                for j in range(n):
                    s += ring[c, j]
                sums[c] = s
        for c in range(n_ch):
            out[c, k] = (max(sums[c], 0.0) if square else sums[c]) / seen
    counters[0] = pos
    counters[1] = seen


class StreamingMovingMean:
    """Moving mean over the last ``n`` samples of every channel, with state.

    Parameters
    ----------
    n
        Window length in samples (>= 1).
    n_channels
        Rows of every block.
    square
        Average the squared samples (mean square, i.e. power) instead of the samples.

    Notes
    -----
    Causal; whatever the chunking, the output equals one call on the whole signal.
    NaN/inf raise :class:`ValueError` and leave the state untouched.
    """

    def __init__(self, n: int, n_channels: int, *, square: bool = False) -> None:
        self.n = positive_int(n, "n")
        self.square = bool(square)
        self.n_channels = positive_int(n_channels, "n_channels")
        self._ring = np.zeros((self.n_channels, self.n))
        self._sums = np.zeros(self.n_channels)
        self._counters = np.zeros(2, dtype=np.int64)

    @property
    def filled(self) -> bool:
        """Whether a whole window has been seen since the last reset."""
        return bool(self._counters[1] >= self.n)

    def reset(self) -> None:
        """Forget the history (the next sample starts a new window)."""
        self._ring[...] = 0.0
        self._sums[...] = 0.0
        self._counters[...] = 0

    def process(self, block: np.ndarray) -> np.ndarray:
        """Mean of the window ending at every sample of a ``(n_channels, m)`` block.

        Raises
        ------
        ValueError
            Wrong shape (expected and actual given) or NaN/inf (state unchanged).
        """
        x = channel_block(block, self.n_channels)
        check_finite(x)
        out = np.empty_like(x)
        if x.shape[1]:
            _moving_mean_kernel(x, self._ring, self._sums, self._counters, out, self.square)
        return out


def moving_mean(x: np.ndarray, n: int, *, square: bool = False) -> np.ndarray:
    """Moving mean (mean square with ``square``) of a whole ``(n_channels, n_samples)`` signal
    from a fresh state.

    Parameters
    ----------
    x
        Signal, one row per channel (a 1-D array is one channel).
    n
        Window length in samples.

    Returns
    -------
    numpy.ndarray
        Same shape as ``x`` (2-D).
    """
    block = as_block(x, "x")
    return StreamingMovingMean(n, block.shape[0], square=square).process(block)
