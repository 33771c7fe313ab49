"""Streaming rational resampling (polyphase FIR), stateful across chunks.

``StreamingResampler(sfreq_in, sfreq_out, n_channels)`` converts by ``up / down`` (the
reduced ratio of the two rates), e.g. 250 → 100 Hz is ``2 / 5``, 1000 → 200 Hz is ``1 / 5``,
50 → 100 Hz is ``2 / 1``. The anti-alias / anti-imaging filter is the one
``scipy.signal.resample_poly`` designs (Kaiser-windowed sinc, cutoff at the lower Nyquist)
with its half-length rounded up to a multiple of ``down`` so the group delay is a whole
number of output samples (:attr:`StreamingResampler.delay`).

Output bookkeeping
    After ``n`` input samples in total (since the start or the last :meth:`reset`), exactly
    ``ceil(n * up / down)`` output samples have been produced (:meth:`n_out_for`); output
    sample ``m`` is the causal FIR output at input time ``m * down / up`` and represents the
    signal at input time ``m * down / up - delay * down / up`` (the group delay). The output
    is identical whatever the chunking. With ``init="zeros"`` it equals the first
    ``ceil(n * up / down)`` samples of ``scipy.signal.upfirdn(h, x, up, down)`` with
    ``h = self.taps``; with the default ``init="edge"`` the signal is taken to have been at
    its first value forever before it started (no start-up ramp on a DC offset).

Non-finite input is rejected with :class:`ValueError` (state unchanged).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from dsp._jit import njit
from dsp.design import firwin_kaiser
from dsp.validation import channel_block, check_finite, positive_int, positive_rate

__all__ = ["StreamingResampler", "design_resampling_filter", "rational_ratio"]


def rational_ratio(sfreq_in: float, sfreq_out: float, max_denominator: int = 1000) -> tuple[int, int]:
    """``(up, down)`` in lowest terms with ``sfreq_out / sfreq_in == up / down``.

    Raises
    ------
    ValueError
        When the rates are not positive or their ratio is not a fraction with a denominator
        up to ``max_denominator`` (e.g. 250 → 100.3 Hz).
    """
    fin = positive_rate(sfreq_in, "sfreq_in")
    fout = positive_rate(sfreq_out, "sfreq_out")
    frac = Fraction(fout / fin).limit_denominator(max_denominator)
    if frac.numerator == 0 or abs(frac.numerator / frac.denominator * fin - fout) > 1e-9 * fout:
        raise ValueError(
            f"cannot resample {fin:g} Hz -> {fout:g} Hz with a rational ratio up/down "
            f"(up, down <= {max_denominator}); choose rates with a simple ratio such as "
            "250 -> 100 (2/5) or 1000 -> 200 (1/5)"
        )
    return frac.numerator, frac.denominator


def design_resampling_filter(up: int, down: int, beta: float = 5.0) -> np.ndarray:
    """Low-pass FIR for ``up/down`` resampling, scaled by ``up`` (unit gain at DC).

    Kaiser-windowed sinc with cutoff ``1 / max(up, down)`` of the upsampled Nyquist, like
    ``scipy.signal.resample_poly``; half-length ``10 * max(up, down)`` rounded up to a
    multiple of ``down`` (so the delay is an integer number of output samples).
    """
    up = positive_int(up, "up")
    down = positive_int(down, "down")
    if up == down == 1:
        return np.ones(1)  # same rate: identity, no delay
    max_rate = max(up, down)
    half_len = math.ceil(10 * max_rate / down) * down
    h = firwin_kaiser(2 * half_len + 1, 1.0 / max_rate, beta)
    return h * up


@njit
def _polyphase_kernel(hp, ext, offset, m0, up, down, y):  # pragma: no cover - compiled
    """y[c, m - m0] = sum_t hp[(m*down) % up, t] * x[(m*down)//up - t]; x[i] = ext[c, i - offset]."""
    n_ch = ext.shape[0]
    n_out = y.shape[1]
    ntp = hp.shape[1]
    for c in range(n_ch):
        for k in range(n_out):
            j = (m0 + k) * down
            ph = j % up
            e = j // up - offset
            acc = 0.0
            for t in range(ntp):
                acc += hp[ph, t] * ext[c, e - t]
            y[c, k] = acc


class StreamingResampler:
    """Stateful polyphase resampler for ``(n_channels, n_samples)`` blocks.

    Parameters
    ----------
    sfreq_in, sfreq_out
        Input and output rates in Hz; their ratio must be a simple fraction.
    n_channels
        Rows of every block.
    beta
        Kaiser window parameter of the anti-alias filter.
    init
        ``"edge"`` (default): before the first block the history is filled with each
        channel's first sample, as if the signal had always been at that level, so a large
        DC offset (tens of mV on a Cyton) produces no start-up ramp. ``"zeros"``: start from
        rest, exactly ``scipy.signal.upfirdn`` of the signal.

    Attributes
    ----------
    up, down : int
        Reduced resampling ratio.
    taps : numpy.ndarray
        The FIR (already multiplied by ``up``), applied at the upsampled rate.
    delay : int
        Group delay in output samples (``(len(taps) - 1) / 2 / down``).
    delay_s : float
        The same in seconds.
    """

    def __init__(
        self,
        sfreq_in: float,
        sfreq_out: float,
        n_channels: int,
        beta: float = 5.0,
        init: str = "edge",
    ) -> None:
        if init not in ("edge", "zeros"):
            raise ValueError(f"init must be 'edge' or 'zeros', got {init!r}")
        self.init = init
        self.sfreq_in = positive_rate(sfreq_in, "sfreq_in")
        self.sfreq_out = positive_rate(sfreq_out, "sfreq_out")
        self.n_channels = positive_int(n_channels, "n_channels")
        self.up, self.down = rational_ratio(self.sfreq_in, self.sfreq_out)
        self.taps = design_resampling_filter(self.up, self.down, beta)
        ntp = math.ceil(len(self.taps) / self.up)
        hp = np.zeros((self.up, ntp))
        for ph in range(self.up):
            coeffs = self.taps[ph :: self.up]
            hp[ph, : len(coeffs)] = coeffs
        self._hp = np.ascontiguousarray(hp)
        self._hist_len = ntp
        self.delay = (len(self.taps) - 1) // 2 // self.down
        self.delay_s = self.delay / self.sfreq_out
        self.reset()

    def reset(self) -> None:
        """Forget the history (the next block starts afresh); sample counters go back to 0."""
        self._hist = np.zeros((self.n_channels, self._hist_len))
        self._started = False
        self.n_in = 0
        self.n_out = 0

    def n_out_for(self, n_in: int) -> int:
        """Total output samples produced after ``n_in`` total input samples."""
        return -(-int(n_in) * self.up // self.down)

    def input_position(self, m_out: int | np.ndarray) -> float | np.ndarray:
        """Input sample index (fractional) that output sample ``m_out`` represents.

        ``(m_out - delay) * down / up``: the group delay already removed, so output ``m``
        and input ``input_position(m)`` are the same moment of the signal.
        """
        pos = (np.asarray(m_out, dtype=np.float64) - self.delay) * self.down / self.up
        return float(pos) if pos.ndim == 0 else pos

    def process(self, block: np.ndarray) -> np.ndarray:
        """Resample the next block; returns the ``(n_channels, k)`` newly completed outputs.

        ``k = n_out_for(n_in + n) - n_out_for(n_in)``; an empty block returns an empty array
        and changes nothing.

        Raises
        ------
        ValueError
            Wrong shape (expected and actual given) or NaN/inf (state unchanged).
        """
        x = channel_block(block, self.n_channels)
        n = x.shape[1]
        if n == 0:
            return np.empty((self.n_channels, 0))
        check_finite(x, "block")
        if not self._started:
            if self.init == "edge":
                self._hist[...] = x[:, :1]
            self._started = True
        ext = np.concatenate([self._hist, x], axis=1)
        offset = self.n_in - self._hist_len  # absolute input index of ext[:, 0]
        total_out = self.n_out_for(self.n_in + n)
        y = np.empty((self.n_channels, total_out - self.n_out))
        _polyphase_kernel(self._hp, ext, offset, self.n_out, self.up, self.down, y)
        self._hist = np.ascontiguousarray(ext[:, -self._hist_len :])
        self.n_in += n
        self.n_out = total_out
        return y
