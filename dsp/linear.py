"""Linear-softmax classifier inference (multinomial logistic regression) for one or many rows."""

from __future__ import annotations

import numpy as np

from dsp._jit import njit


def softmax_linear(
    x: np.ndarray, mean: np.ndarray, scale: np.ndarray, coef: np.ndarray, intercept: np.ndarray,
    temperature: float = 1.0,
) -> np.ndarray:
    """Class probabilities ``softmax((((x - mean) / scale) @ coef.T + intercept) / temperature)``.

    Parameters
    ----------
    x
        ``(n_features,)`` or ``(n_rows, n_features)``.
    mean, scale
        ``(n_features,)`` standardisation; ``scale`` must be > 0.
    coef
        ``(n_classes, n_features)``.
    intercept
        ``(n_classes,)``.
    temperature
        > 0; values above 1 soften the probabilities (calibration).

    Returns
    -------
    numpy.ndarray
        ``(n_classes,)`` or ``(n_rows, n_classes)``; rows sum to 1.
    """
    x = np.asarray(x, dtype=np.float64)
    one = x.ndim == 1
    x2 = np.ascontiguousarray(np.atleast_2d(x))
    coef = np.ascontiguousarray(coef, dtype=np.float64)
    n_cls, n_feat = coef.shape
    if x2.shape[1] != n_feat:
        raise ValueError(f"x has {x2.shape[1]} features, the model expects {n_feat}")
    for name, arr, n in (("mean", mean, n_feat), ("scale", scale, n_feat),
                         ("intercept", intercept, n_cls)):
        if np.shape(arr) != (n,):
            raise ValueError(f"{name} must have shape ({n},), got {np.shape(arr)}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    out = np.empty((x2.shape[0], n_cls))
    _softmax_linear_kernel(x2, np.asarray(mean, np.float64), np.asarray(scale, np.float64), coef,
                           np.asarray(intercept, np.float64), float(temperature), out)
    return out[0] if one else out


@njit
def _softmax_linear_kernel(x, mean, scale, coef, intercept, temperature, out):  # noqa: ANN001
    n, f = x.shape
    c = coef.shape[0]
    z = np.empty(c)
    for r in range(n):
        zmax = -np.inf
        for k in range(c):
            s = intercept[k]
            for j in range(f):
                s += coef[k, j] * (x[r, j] - mean[j]) / scale[j]
            z[k] = s / temperature
            if z[k] > zmax:
                zmax = z[k]
        tot = 0.0
        for k in range(c):
            z[k] = np.exp(z[k] - zmax)
            tot += z[k]
        for k in range(c):
            out[r, k] = z[k] / tot
