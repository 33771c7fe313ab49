"""Central moments of a 1-D signal, shared by the per-epoch feature kernels."""

from __future__ import annotations

import numpy as np

from dsp._jit import njit


@njit
def central_moments(x: np.ndarray) -> tuple[float, float, float, float]:  # pragma: no cover
    """``(mean, m2, m3, m4)`` of ``x``: the mean and the 2nd–4th central moments (biased,
    divided by ``n``), two passes over the data."""
    n = x.size
    mean = 0.0
    for i in range(n):
        mean += x[i]
    mean /= n
    m2 = 0.0
    m3 = 0.0
    m4 = 0.0
    for i in range(n):
        d = x[i] - mean
        d2 = d * d
        m2 += d2
        m3 += d2 * d
        m4 += d2 * d2
    return mean, m2 / n, m3 / n, m4 / n
