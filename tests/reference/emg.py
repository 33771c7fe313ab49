"""Slow, obviously correct EMG feature references (plain Python loops, scipy/numpy maths)."""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg


def mav(x):
    return sum(abs(v) for v in x) / len(x)


def wl(x):
    return sum(abs(x[i] - x[i - 1]) for i in range(1, len(x)))


def zc(x, thr):
    return sum(1 for i in range(1, len(x)) if x[i - 1] * x[i] < 0 and abs(x[i] - x[i - 1]) >= thr)


def ssc(x, thr):
    n = 0
    for i in range(1, len(x) - 1):
        a, b = x[i] - x[i - 1], x[i] - x[i + 1]
        if a * b > 0 and (abs(a) >= thr or abs(b) >= thr):
            n += 1
    return n


def wamp(x, thr):
    return sum(1 for i in range(1, len(x)) if abs(x[i] - x[i - 1]) > thr)


def ar_coefficients(x, order):
    """Yule-Walker AR coefficients by solving the Toeplitz system with scipy."""
    x = np.asarray(x, dtype=float) - np.mean(x)
    n = len(x)
    r = np.array([np.dot(x[lag:], x[: n - lag]) / n for lag in range(order + 1)])
    return scipy.linalg.solve_toeplitz(r[:order], r[1 : order + 1])


def td_psd(x):
    """Khushaba TD-PSD features as documented in dsp.emg_features."""
    x = np.asarray(x, dtype=float)
    d1, d2 = np.diff(x), np.diff(x, 2)
    m0 = math.sqrt(np.sum(x**2)) ** 0.1 / 0.1
    m2 = math.sqrt(np.sum(d1**2)) ** 0.1 / 0.1
    m4 = math.sqrt(np.sum(d2**2)) ** 0.1 / 0.1
    eps = 1e-12
    d02, d04 = abs(m0 - m2) + eps, abs(m0 - m4) + eps
    return [
        math.log(m0 + eps),
        math.log(d02),
        math.log(d04),
        math.log(m0 / math.sqrt(d02 * d04) + eps),
        m2 / math.sqrt(m0 * m4 + eps),
        math.log((np.sum(np.abs(d1)) + eps) / (np.sum(np.abs(d2)) + eps)),
    ]


def channel_features(x, thr_zc=0.0, thr_ssc=0.0, thr_wamp=10.0):
    """Per-channel vector in dsp.emg_features.FEATURE_NAMES order."""
    x = [float(v) for v in x]
    n = len(x)
    m = mav(x)
    w = wl(x)
    var = float(np.var(x))
    return [
        m, w, zc(x, thr_zc), ssc(x, thr_ssc), math.sqrt(sum(v * v for v in x) / n),
        math.log(var + 1e-12), wamp(x, thr_wamp), math.log(m + 1e-12),
        math.log(w / (n - 1) + 1e-12), *ar_coefficients(x, 4), *td_psd(x),
    ]  # fmt: skip


def logcov(window):
    """Upper triangle of scipy's logm of the channel covariance (off-diagonal × √2)."""
    w = np.asarray(window, dtype=float)
    xc = w - w.mean(axis=1, keepdims=True)
    cov = xc @ xc.T / w.shape[1]
    lg = np.real(scipy.linalg.logm(cov))
    iu = np.triu_indices(w.shape[0])
    return lg[iu] * np.where(iu[0] == iu[1], 1.0, math.sqrt(2.0))


def window_features(window, thr_zc=0.0, thr_ssc=0.0, thr_wamp=10.0):
    w = np.asarray(window, dtype=float)
    per = [v for row in w for v in channel_features(row, thr_zc, thr_ssc, thr_wamp)]
    return np.array(per + list(logcov(w)))
