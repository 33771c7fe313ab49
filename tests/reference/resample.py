"""Naive rational resampling: zero-stuff by ``up``, convolve with ``h``, keep every ``down``-th."""

from __future__ import annotations

import numpy as np


def upfirdn_naive(h: np.ndarray, x: np.ndarray, up: int, down: int, n_out: int) -> np.ndarray:
    """First ``n_out`` outputs of upsample → FIR → downsample, straight from the definition.

    ``y[m] = sum_k h[k] * xu[m*down - k]`` with ``xu[j] = x[j // up]`` when ``j % up == 0``
    else 0, for a ``(n_channels, n)`` signal.
    """
    n_ch, n = x.shape
    xu = np.zeros((n_ch, n * up))
    xu[:, ::up] = x
    y = np.zeros((n_ch, n_out))
    for c in range(n_ch):
        for m in range(n_out):
            j = m * down
            acc = 0.0
            for k in range(len(h)):
                if 0 <= j - k < xu.shape[1]:
                    acc += h[k] * xu[c, j - k]
            y[c, m] = acc
    return y
