"""Naive biquad cascade: one sample, one section at a time, straight from the difference equation."""

from __future__ import annotations

import numpy as np


def sosfilt_naive(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Direct-form II transposed cascade over ``(n_channels, n_samples)``; zi ``(n_sec, n_ch, 2)``.

    Each section computes ``y[n] = b0 x[n] + z0``, ``z0 = b1 x[n] - a1 y[n] + z1``,
    ``z1 = b2 x[n] - a2 y[n]`` after normalising by ``a0``.
    """
    sos = np.asarray(sos, dtype=float)
    x = np.asarray(x, dtype=float)
    z = np.array(zi, dtype=float, copy=True)
    y = np.empty_like(x)
    for c in range(x.shape[0]):
        for n in range(x.shape[1]):
            v = float(x[c, n])
            for s in range(sos.shape[0]):
                b0, b1, b2, a0, a1, a2 = (float(t) for t in sos[s])
                b0, b1, b2, a1, a2 = b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0
                out = b0 * v + z[s, c, 0]
                z[s, c, 0] = b1 * v - a1 * out + z[s, c, 1]
                z[s, c, 1] = b2 * v - a2 * out
                v = out
            y[c, n] = v
    return y, z
