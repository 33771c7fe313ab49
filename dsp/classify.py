"""Small classifiers for the device: standardisation, dense layers (LDA = one linear layer,
an MLP = several), softmax; plus a numpy LDA trainer with covariance shrinkage.

A model is a list of layers ``(W, b, activation)`` with ``W`` of shape ``(n_in, n_out)``;
the last layer's outputs are class scores (logits). Inference is one tiny ``@njit`` kernel
per layer, so there is no ML runtime on the device.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dsp._jit import njit

#: Activations a dense layer may use.
ACTIVATIONS: tuple[str, ...] = ("linear", "relu", "tanh")
_ACT_CODE = {"linear": 0, "relu": 1, "tanh": 2}

Layer = tuple[np.ndarray, np.ndarray, str]


@njit
def _dense_kernel(x: np.ndarray, w: np.ndarray, b: np.ndarray, act: int, out: np.ndarray) -> None:
    """out = act(x @ w + b) for ``x`` (n, n_in), ``w`` (n_in, n_out)."""
    n, n_in = x.shape
    n_out = w.shape[1]
    for i in range(n):
        for j in range(n_out):
            out[i, j] = b[j]
        for k in range(n_in):
            v = x[i, k]
            for j in range(n_out):
                out[i, j] += v * w[k, j]
        if act == 1:
            for j in range(n_out):
                if out[i, j] < 0.0:
                    out[i, j] = 0.0
        elif act == 2:
            for j in range(n_out):
                out[i, j] = np.tanh(out[i, j])


@njit
def _softmax_kernel(z: np.ndarray, out: np.ndarray) -> None:
    for i in range(z.shape[0]):
        m = z[i, 0]
        for j in range(1, z.shape[1]):
            if z[i, j] > m:
                m = z[i, j]
        s = 0.0
        for j in range(z.shape[1]):
            out[i, j] = np.exp(z[i, j] - m)
            s += out[i, j]
        for j in range(z.shape[1]):
            out[i, j] /= s


def _as_rows(x: np.ndarray, n_in: int) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != n_in:
        raise ValueError(f"expected features of shape (n, {n_in}) or ({n_in},), got {np.shape(x)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("features contain NaN or inf")
    return np.ascontiguousarray(arr)


def check_layers(layers: Sequence[Layer]) -> None:
    """Validate shapes and activations of a layer list; raise ValueError naming the problem."""
    if not layers:
        raise ValueError("a model needs at least one layer")
    prev = None
    for i, (w, b, act) in enumerate(layers):
        if act not in _ACT_CODE:
            raise ValueError(f"layer {i}: activation {act!r} not in {list(ACTIVATIONS)}")
        if w.ndim != 2 or b.shape != (w.shape[1],):
            raise ValueError(f"layer {i}: W {w.shape} and b {b.shape} do not match (n_in, n_out)")
        if prev is not None and w.shape[0] != prev:
            raise ValueError(f"layer {i}: takes {w.shape[0]} inputs but layer {i - 1} gives {prev}")
        prev = w.shape[1]


def forward(x: np.ndarray, layers: Sequence[Layer]) -> np.ndarray:
    """Class scores (logits) of rows ``x`` through the dense layers.

    Parameters
    ----------
    x
        ``(n, n_in)`` or ``(n_in,)`` features (already standardised).
    layers
        ``[(W, b, activation), …]``.

    Returns
    -------
    numpy.ndarray
        ``(n, n_classes)`` scores.
    """
    z = _as_rows(x, layers[0][0].shape[0])
    for w, b, act in layers:
        out = np.empty((z.shape[0], w.shape[1]))
        _dense_kernel(z, w, b, _ACT_CODE[act], out)
        z = out
    return z


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``(n, k)`` scores (numerically stable)."""
    arr = np.ascontiguousarray(np.asarray(z, dtype=np.float64))
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise ValueError(f"softmax expects (n, k) scores, got shape {arr.shape}")
    out = np.empty_like(arr)
    _softmax_kernel(arr, out)
    return out


def standardise(x: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``(x - mean) / scale`` with shape checks."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.shape[-1] != mean.shape[0] or mean.shape != scale.shape:
        raise ValueError(
            f"features have {arr.shape[-1]} columns, mean {mean.shape}, scale {scale.shape}"
        )
    return (arr - mean) / scale


def fit_lda(
    x: np.ndarray, y: np.ndarray, n_classes: int, shrinkage: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Linear discriminant analysis with a pooled, optionally shrunk covariance.

    Scores are ``x @ W + b`` with ``W = Σ⁻¹ μ_k`` and ``b = -½ μ_kᵀ Σ⁻¹ μ_k + log π_k``, so
    ``softmax(scores)`` are the LDA posteriors (equal to scikit-learn's ``lsqr`` solver).

    Parameters
    ----------
    x
        ``(n, f)`` training features.
    y
        ``(n,)`` integer labels in ``0 .. n_classes - 1``; every class must occur.
    n_classes
        Number of classes.
    shrinkage
        In [0, 1]: ``Σ ← (1 - s) Σ + s · mean(diag Σ) · I`` (Ledoit-Wolf style target).

    Returns
    -------
    W, b
        ``(f, n_classes)`` and ``(n_classes,)``.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError(f"x must be (n, f) and y (n,), got {x.shape} and {y.shape}")
    if not 0.0 <= shrinkage <= 1.0:
        raise ValueError(f"shrinkage must be in [0, 1], got {shrinkage}")
    counts = np.bincount(y, minlength=n_classes)
    if counts.shape[0] != n_classes or np.any(counts == 0):
        missing = [k for k in range(n_classes) if k >= counts.shape[0] or counts[k] == 0]
        raise ValueError(f"LDA needs examples of every class; missing classes {missing}")
    f = x.shape[1]
    means = np.zeros((n_classes, f))
    cov = np.zeros((f, f))
    for k in range(n_classes):
        xk = x[y == k]
        means[k] = xk.mean(axis=0)
        d = xk - means[k]
        cov += d.T @ d
    cov /= x.shape[0]  # pooled biased covariance, as scikit-learn
    target = np.trace(cov) / f
    cov = (1.0 - shrinkage) * cov + shrinkage * target * np.eye(f)
    cov += 1e-9 * max(target, 1e-12) * np.eye(f)
    w = np.linalg.solve(cov, means.T)  # (f, k)
    priors = counts / counts.sum()
    b = -0.5 * np.einsum("kf,fk->k", means, w) + np.log(priors)
    return w, b
