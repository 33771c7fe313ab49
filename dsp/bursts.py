"""Streaming burst tracker: runs of "active" samples become events, confirmed causally.

Given, per sample, whether a detection criterion holds (``active``) and the band-passed
signal itself (``sig``), :class:`StreamingBursts` reports

* a **detection** the first time a run has lasted ``confirm`` samples (from its first active
  sample, the onset) — the earliest moment a real-time consumer may act on it;
* an **end** when the run has been inactive for more than ``max_gap`` samples; the run ends
  at its last active sample. Only confirmed runs report an end.

Each report carries the onset, the sample it is made at, the end (``-1`` for a detection),
the peak-to-peak amplitude of ``sig`` over the active samples so far, and the number of
zero crossings of ``sig`` from the onset (to the last active sample for an end) — the burst
frequency is ``crossings / (2 * duration)``.

Indices count samples since the last :meth:`StreamingBursts.reset`. Everything is causal:
a report made at sample ``k`` depends on samples ``<= k`` only, and the reports are the same
whatever the chunking.
"""

from __future__ import annotations

import numpy as np

from dsp._jit import njit
from dsp.validation import positive_int

__all__ = ["BURST_DETECTED", "BURST_ENDED", "StreamingBursts", "find_bursts"]

#: Report kinds (column 0 of a report row).
BURST_DETECTED = 0
BURST_ENDED = 1

# state_i: t, in_run, onset, last_active, detected, crossings, crossings_at_last, started
# state_f: prev_sig, hi, lo


@njit
def _bursts_kernel(active, sig, confirm, max_gap, state_i, state_f, out):  # noqa: ANN001
    """Advance the tracker over one block; write report rows to ``out``; return their count."""
    n_out = 0
    t = state_i[0]
    in_run = state_i[1]
    onset = state_i[2]
    last_active = state_i[3]
    detected = state_i[4]
    crossings = state_i[5]
    crossings_at_last = state_i[6]
    started = state_i[7]
    prev = state_f[0]
    hi = state_f[1]
    lo = state_f[2]
    for k in range(active.shape[0]):
        v = sig[k]
        crossed = started == 1 and ((prev < 0.0) != (v < 0.0))
        prev = v
        started = 1
        if in_run == 1:
            if crossed:
                crossings += 1
            if active[k]:
                last_active = t
                crossings_at_last = crossings
                hi = max(hi, v)
                lo = min(lo, v)
            elif t - last_active > max_gap:
                if detected == 1:
                    out[n_out, 0] = 1.0
                    out[n_out, 1] = onset
                    out[n_out, 2] = t
                    out[n_out, 3] = last_active
                    out[n_out, 4] = hi - lo
                    out[n_out, 5] = crossings_at_last
                    n_out += 1
                in_run = 0
        elif active[k]:
            in_run = 1
            onset = t
            last_active = t
            detected = 0
            crossings = 0
            crossings_at_last = 0
            hi = v
            lo = v
        if in_run == 1 and detected == 0 and active[k] and t - onset + 1 >= confirm:
            detected = 1
            out[n_out, 0] = 0.0
            out[n_out, 1] = onset
            out[n_out, 2] = t
            out[n_out, 3] = -1.0
            out[n_out, 4] = hi - lo
            out[n_out, 5] = crossings
            n_out += 1
        t += 1
    state_i[0] = t
    state_i[1] = in_run
    state_i[2] = onset
    state_i[3] = last_active
    state_i[4] = detected
    state_i[5] = crossings
    state_i[6] = crossings_at_last
    state_i[7] = started
    state_f[0] = prev
    state_f[1] = hi
    state_f[2] = lo
    return n_out


class StreamingBursts:
    """Runs of active samples as detection and end reports, with state between blocks.

    Parameters
    ----------
    confirm
        A run is detected when it has lasted this many samples (onset to now, >= 1).
    max_gap
        A run survives up to this many inactive samples in a row (>= 0).

    Notes
    -----
    Report rows are ``(kind, onset, sample, end, peak_to_peak, crossings)`` with ``kind``
    :data:`BURST_DETECTED` or :data:`BURST_ENDED` (``end`` is -1 for a detection).
    """

    def __init__(self, confirm: int, max_gap: int) -> None:
        self.confirm = positive_int(confirm, "confirm")
        if int(max_gap) != max_gap or max_gap < 0:
            raise ValueError(f"max_gap must be an integer >= 0 (samples), got {max_gap!r}")
        self.max_gap = int(max_gap)
        self._state_i = np.zeros(8, dtype=np.int64)
        self._state_f = np.zeros(3)

    def reset(self) -> None:
        """Forget any run in progress; indices restart at 0."""
        self._state_i[...] = 0
        self._state_f[...] = 0.0

    def process(self, active: np.ndarray, sig: np.ndarray) -> np.ndarray:
        """Advance over one block of ``active`` flags and ``sig`` values (1-D, same length).

        Returns
        -------
        numpy.ndarray
            ``(n_reports, 6)`` float64 report rows, in sample order.

        Raises
        ------
        ValueError
            Different lengths, not 1-D, or NaN/inf in ``sig`` (state unchanged).
        """
        act = np.ascontiguousarray(active, dtype=np.bool_)
        x = np.ascontiguousarray(sig, dtype=np.float64)
        if act.ndim != 1 or x.shape != act.shape:
            raise ValueError(
                f"active and sig must be 1-D of the same length, got shapes {act.shape} and {x.shape}"
            )
        if not np.isfinite(x).all():
            raise ValueError("sig contains NaN/inf; the burst tracker rejects it (state unchanged)")
        out = np.empty((x.shape[0] + 1, 6))
        n = _bursts_kernel(act, x, self.confirm, self.max_gap, self._state_i, self._state_f, out)
        return out[:n].copy()


def find_bursts(active: np.ndarray, sig: np.ndarray, confirm: int, max_gap: int) -> np.ndarray:
    """Reports of a whole signal from a fresh tracker (see :class:`StreamingBursts`)."""
    return StreamingBursts(confirm, max_gap).process(active, sig)
