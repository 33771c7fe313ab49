"""Streaming negative half-waves of a band-passed slow-oscillation signal.

A negative half-wave starts at a falling zero crossing (the first sample below 0 after a
sample at or above 0) and ends at the rising zero crossing (the first sample at or above 0).
Inside it the tracker keeps the running minimum. Two kinds of report, each at most once per
half-wave:

* **trough** (:data:`TROUGH`): the first time the signal rises above a running minimum that
  is at or below ``-threshold`` and lies at most ``q_max`` samples after the falling
  crossing — made at the sample that confirmed it (the one after the trough when the signal
  is smooth);
* **end** (:data:`HALF_WAVE_END`): at the rising crossing, when the half-wave's minimum is
  at or below ``-threshold`` and its length (falling to rising crossing) lies in
  ``[h_min, h_max]`` samples.

Report rows are ``(kind, zero_crossing_down, trough, trough_value, at)``, where ``at`` is the
sample the report is made at (the rising crossing for an end). Indices count samples since
the last reset. Causal and chunking-invariant.
"""

from __future__ import annotations

import numpy as np

from dsp._jit import njit
from dsp.validation import positive_int

__all__ = ["HALF_WAVE_END", "TROUGH", "StreamingHalfWaves", "find_half_waves"]

#: Report kinds (column 0 of a report row).
TROUGH = 0
HALF_WAVE_END = 1

# state_i: t, in_neg, zero_crossing, trough_done, min_t, started ; state_f: prev, min_v


@njit
def _half_waves_kernel(x, threshold, q_max, h_min, h_max, state_i, state_f, out):  # noqa: ANN001
    """Advance over one block; write report rows to ``out``; return their count."""
    n_out = 0
    t = state_i[0]
    in_neg = state_i[1]
    zc = state_i[2]
    done = state_i[3]
    min_t = state_i[4]
    started = state_i[5]
    prev = state_f[0]
    min_v = state_f[1]
    for k in range(x.shape[0]):
        v = x[k]
        if v >= 0.0:
            if in_neg == 1:
                h = t - zc
                if min_v <= -threshold and h_min <= h <= h_max:
                    out[n_out, 0] = 1.0
                    out[n_out, 1] = zc
                    out[n_out, 2] = min_t
                    out[n_out, 3] = min_v
                    out[n_out, 4] = t
                    n_out += 1
            in_neg = 0
        elif in_neg == 0:
            if started == 1 and prev >= 0.0:
                in_neg = 1
                zc = t
                done = 0
                min_t = t
                min_v = v
        elif v < min_v:
            min_v = v
            min_t = t
        elif v > min_v and done == 0:
            if min_t - zc > q_max:
                done = 1
            elif min_v <= -threshold:
                out[n_out, 0] = 0.0
                out[n_out, 1] = zc
                out[n_out, 2] = min_t
                out[n_out, 3] = min_v
                out[n_out, 4] = t
                n_out += 1
                done = 1
        prev = v
        started = 1
        t += 1
    state_i[0] = t
    state_i[1] = in_neg
    state_i[2] = zc
    state_i[3] = done
    state_i[4] = min_t
    state_i[5] = started
    state_f[0] = prev
    state_f[1] = min_v
    return n_out


class StreamingHalfWaves:
    """Troughs and ends of negative half-waves, with state between blocks.

    Parameters
    ----------
    threshold
        A trough must reach ``-threshold`` or below (same unit as the signal, > 0).
    q_max
        Most samples from the falling crossing to a reported trough (>= 1).
    h_min, h_max
        Allowed half-wave length in samples for an end report (``1 <= h_min <= h_max``).
    """

    def __init__(self, threshold: float, q_max: int, h_min: int, h_max: int) -> None:
        if not (np.isfinite(threshold) and threshold > 0):
            raise ValueError(f"threshold must be a finite number > 0, got {threshold!r}")
        self.threshold = float(threshold)
        self.q_max = positive_int(q_max, "q_max")
        self.h_min = positive_int(h_min, "h_min")
        self.h_max = positive_int(h_max, "h_max")
        if self.h_max < self.h_min:
            raise ValueError(f"h_max ({h_max}) must be >= h_min ({h_min})")
        self._state_i = np.zeros(6, dtype=np.int64)
        self._state_f = np.zeros(2)

    def reset(self) -> None:
        """Forget the half-wave in progress; indices restart at 0."""
        self._state_i[...] = 0
        self._state_f[...] = 0.0

    def process(self, x: np.ndarray) -> np.ndarray:
        """Advance over a 1-D block; return ``(n_reports, 5)`` rows in sample order.

        Raises
        ------
        ValueError
            Not 1-D or NaN/inf (state unchanged).
        """
        arr = np.ascontiguousarray(x, dtype=np.float64)
        if arr.ndim != 1:
            raise ValueError(f"x must be 1-D (n_samples,), got shape {arr.shape}")
        if not np.isfinite(arr).all():
            raise ValueError("x contains NaN/inf; the half-wave tracker rejects it (state unchanged)")
        out = np.empty((arr.shape[0] + 1, 5))
        n = _half_waves_kernel(arr, self.threshold, self.q_max, self.h_min, self.h_max,
                               self._state_i, self._state_f, out)
        return out[:n].copy()


def find_half_waves(x: np.ndarray, threshold: float, q_max: int, h_min: int, h_max: int
                    ) -> np.ndarray:
    """Reports of a whole 1-D signal from a fresh tracker (see :class:`StreamingHalfWaves`)."""
    return StreamingHalfWaves(threshold, q_max, h_min, h_max).process(x)
