"""Expanding (running) quantiles of many features, one row at a time.

The causal stand-in for a whole-recording robust scaling needs, after every epoch, the median
and 5/95 % quantiles of each feature over *all* epochs so far. Re-sorting the history every
epoch costs O(n log n) per feature; :class:`RunningQuantiles` keeps each feature's history
sorted (insertion: one binary search and one shift) and answers quantiles of
"history plus one candidate row" without inserting it (a provisional look), in O(log n).

Quantiles use numpy's default ``linear`` method (``np.quantile(..., method="linear")``):
position ``q (n - 1)`` in the sorted values, linear interpolation between neighbours.
"""

from __future__ import annotations

import numpy as np

from dsp._jit import njit


@njit
def _bisect_right(row: np.ndarray, n: int, v: float) -> int:  # pragma: no cover - compiled
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) // 2
        if row[mid] <= v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit
def _insert_kernel(sorted_hist, n, v):  # noqa: ANN001  # pragma: no cover - compiled
    for j in range(sorted_hist.shape[0]):
        row = sorted_hist[j]
        pos = _bisect_right(row, n, v[j])
        for i in range(n, pos, -1):
            row[i] = row[i - 1]
        row[pos] = v[j]


@njit
def _merged_at(row, n, pos, v, k):  # noqa: ANN001  # pragma: no cover - compiled
    """Element ``k`` of the sorted values ``row[:n]`` with ``v`` inserted at ``pos``."""
    if k < pos:
        return row[k]
    if k == pos:
        return v
    return row[k - 1]


@njit
def _quantiles_kernel(sorted_hist, n, v, with_v, qs, out):  # noqa: ANN001  # pragma: no cover
    m = n + 1 if with_v else n
    for j in range(sorted_hist.shape[0]):
        row = sorted_hist[j]
        pos = _bisect_right(row, n, v[j]) if with_v else n
        for iq in range(qs.size):
            x = qs[iq] * (m - 1)
            lo = int(np.floor(x))
            hi = min(lo + 1, m - 1)
            t = x - lo
            a = _merged_at(row, n, pos, v[j], lo) if with_v else row[lo]
            b = _merged_at(row, n, pos, v[j], hi) if with_v else row[hi]
            diff = b - a
            # numpy's _lerp: a + diff*t, computed from the upper end for t >= 0.5
            out[iq, j] = b - diff * (1.0 - t) if t >= 0.5 else a + diff * t


class RunningQuantiles:
    """Sorted per-feature history with O(log n) quantiles and O(n) insertion.

    Parameters
    ----------
    n_features
        Columns of every row.
    capacity
        Initial rows of storage (grows by doubling).
    """

    def __init__(self, n_features: int, capacity: int = 256) -> None:
        if n_features < 1 or capacity < 1:
            raise ValueError(f"n_features and capacity must be >= 1, got {n_features}, "
                             f"{capacity}")
        self.n_features = int(n_features)
        self._sorted = np.zeros((self.n_features, int(capacity)))
        self.n = 0

    def _row(self, v: np.ndarray) -> np.ndarray:
        v = np.ascontiguousarray(v, dtype=np.float64)
        if v.shape != (self.n_features,):
            raise ValueError(f"row has shape {v.shape}, expected ({self.n_features},)")
        if not np.all(np.isfinite(v)):
            raise ValueError("row has non-finite values; only finite features can be ranked")
        return v

    def add(self, v: np.ndarray) -> None:
        """Insert one row."""
        v = self._row(v)
        if self.n == self._sorted.shape[1]:
            grown = np.zeros((self.n_features, 2 * self._sorted.shape[1]))
            grown[:, : self.n] = self._sorted
            self._sorted = grown
        _insert_kernel(self._sorted, self.n, v)
        self.n += 1

    def quantiles(self, qs: np.ndarray, with_row: np.ndarray | None = None) -> np.ndarray:
        """``(len(qs), n_features)`` quantiles of the rows so far (plus ``with_row``, which
        is not inserted).

        Raises
        ------
        ValueError
            No rows at all, a quantile outside 0..1, or a bad ``with_row``.
        """
        qs = np.ascontiguousarray(qs, dtype=np.float64)
        if qs.ndim != 1 or np.any((qs < 0) | (qs > 1)):
            raise ValueError(f"quantiles must be a 1-D array in 0..1, got {qs}")
        with_v = with_row is not None
        if self.n + int(with_v) == 0:
            raise ValueError("no rows yet: quantiles of nothing")
        v = self._row(with_row) if with_v else np.zeros(self.n_features)
        out = np.empty((qs.size, self.n_features))
        _quantiles_kernel(self._sorted, self.n, v, with_v, qs, out)
        return out
