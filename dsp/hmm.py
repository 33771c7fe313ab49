"""Causal HMM forward filter over per-epoch class posteriors (no look-ahead).

With classifier posteriors ``p(s | x_t)`` and the class prior ``pi`` the classifier was
trained with, the scaled emission likelihood is ``p(s | x_t) / pi(s)``, and the filtered
state distribution is ``alpha_t ∝ (alpha_{t-1} @ T) * p(s | x_t) / pi(s)``. Each step only
uses the past, so it runs one epoch at a time in the live path.
"""

from __future__ import annotations

import numpy as np

from dsp._jit import njit


def validate_transition(trans: np.ndarray) -> np.ndarray:
    """Check a row-stochastic ``(k, k)`` transition matrix and return it as float64."""
    t = np.ascontiguousarray(trans, dtype=np.float64)
    if t.ndim != 2 or t.shape[0] != t.shape[1]:
        raise ValueError(f"transition matrix must be square (k, k), got shape {t.shape}")
    if np.any(t < 0) or not np.allclose(t.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError("transition matrix rows must be non-negative and sum to 1")
    return t


def forward_step(
    alpha: np.ndarray, trans: np.ndarray, posterior: np.ndarray, prior: np.ndarray
) -> np.ndarray:
    """One forward step; returns the new filtered distribution (sums to 1).

    Parameters
    ----------
    alpha
        ``(k,)`` previous filtered distribution (use the initial distribution at epoch 0
        together with ``trans = identity`` or call with the start distribution).
    trans
        ``(k, k)`` row-stochastic transition matrix, ``trans[i, j] = P(s_t = j | s_{t-1} = i)``.
    posterior
        ``(k,)`` classifier posterior of the current epoch.
    prior
        ``(k,)`` class prior the classifier was trained with (> 0).
    """
    out = np.empty(trans.shape[0])
    _forward_kernel(np.ascontiguousarray(alpha, np.float64), trans,
                    np.ascontiguousarray(posterior, np.float64)[None, :],
                    np.ascontiguousarray(prior, np.float64), out[None, :])
    return out


def forward(
    posteriors: np.ndarray, trans: np.ndarray, prior: np.ndarray, start: np.ndarray
) -> np.ndarray:
    """Forward filter over a sequence: ``(n, k)`` posteriors → ``(n, k)`` filtered.

    Row ``t`` depends only on rows ``0..t``; equal to calling :func:`forward_step` in a loop.
    """
    trans = validate_transition(trans)
    p = np.ascontiguousarray(posteriors, dtype=np.float64)
    k = trans.shape[0]
    if p.ndim != 2 or p.shape[1] != k:
        raise ValueError(f"posteriors must have shape (n, {k}), got {p.shape}")
    pr = np.ascontiguousarray(prior, np.float64)
    if pr.shape != (k,) or np.any(pr <= 0):
        raise ValueError(f"prior must be ({k},) and > 0")
    out = np.empty_like(p)
    _forward_kernel(np.ascontiguousarray(start, np.float64), trans, p, pr, out)
    return out


@njit
def _forward_kernel(alpha0, trans, post, prior, out):  # noqa: ANN001
    k = trans.shape[0]
    a = alpha0.copy()
    pred = np.empty(k)
    for t in range(post.shape[0]):
        tot = 0.0
        for j in range(k):
            s = 0.0
            for i in range(k):
                s += a[i] * trans[i, j]
            pred[j] = s * (post[t, j] / prior[j] + 1e-300)
            tot += pred[j]
        for j in range(k):
            a[j] = pred[j] / tot
            out[t, j] = a[j]
