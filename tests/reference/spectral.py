"""Slow, obviously correct references for dsp.spectral / dsp.hmm / dsp.linear."""

from __future__ import annotations

import numpy as np
from scipy.signal import welch


def psd(x: np.ndarray, sfreq: float, seg_s: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """scipy's Welch with the stager's settings."""
    nper = min(int(round(seg_s * sfreq)), x.shape[-1])
    return welch(x, sfreq, window="hann", nperseg=nper, noverlap=nper // 2,
                 detrend="constant", scaling="density", axis=-1)


def band_power(x: np.ndarray, sfreq: float, lo: float, hi: float) -> float:
    """Rectangle-rule band power of scipy's Welch PSD."""
    f, p = psd(x, sfreq)
    m = (f >= lo) & (f < hi)
    return float(p[m].sum() * (f[1] - f[0]))


def hjorth(x: np.ndarray) -> tuple[float, float, float]:
    """Activity, mobility (per sample), complexity with numpy variances of the differences."""
    d1 = np.diff(x)
    d2 = np.diff(x, 2)
    act = np.var(x)
    mob = np.sqrt(np.mean(d1**2) / act)
    comp = np.sqrt(np.mean(d2**2) / np.mean(d1**2)) / mob
    return float(act), float(mob), float(comp)


def zero_crossings(x: np.ndarray) -> int:
    """Sign changes of the mean-removed signal (0 counts as positive)."""
    s = (x - x.mean()) >= 0
    return int(np.count_nonzero(s[1:] != s[:-1]))


def hmm_forward(post: np.ndarray, trans: np.ndarray, prior: np.ndarray,
                start: np.ndarray) -> np.ndarray:
    """Forward filter written out with numpy."""
    a = start.copy()
    out = []
    for p in post:
        a = (a @ trans) * (p / prior)
        a = a / a.sum()
        out.append(a)
    return np.array(out)


def softmax_linear(x, mean, scale, coef, intercept, temperature=1.0):  # noqa: ANN001, ANN201
    """numpy softmax of a standardised linear model."""
    z = (((x - mean) / scale) @ coef.T + intercept) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
