"""Naive moving mean square: the mean of the squares of the last ``n`` samples, sample by sample."""

from __future__ import annotations

import numpy as np


def moving_mean_square_naive(x: np.ndarray, n: int) -> np.ndarray:
    """``out[c, k] = mean(x[c, max(0, k - n + 1):k + 1] ** 2)`` by an explicit loop."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    out = np.empty_like(x)
    for c in range(x.shape[0]):
        for k in range(x.shape[1]):
            window = x[c, max(0, k - n + 1):k + 1]
            out[c, k] = float(np.mean(window * window))
    return out
