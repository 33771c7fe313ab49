"""Slow, obviously correct references for :mod:`dsp.yasa_features` (no yasa/antropy imports).

Each feature is computed for one epoch at a time straight from its definition (the way
YASA 0.8.1's ``SleepStaging.fit`` and antropy 0.2.3 define it), with loops where the
definition is a count and with scipy/numpy where the definition *is* that call (Welch,
Simpson, quantile).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.integrate import simpson, trapezoid
from scipy.signal import welch
from scipy.stats import kurtosis, skew

BANDS = [(0.4, 1.0, "sdelta"), (1.0, 4.0, "fdelta"), (4.0, 8.0, "theta"),
         (8.0, 12.0, "alpha"), (12.0, 16.0, "sigma"), (16.0, 30.0, "beta")]


def sign_changes(x: np.ndarray) -> int:
    """Number of i with signbit(x[i]) != signbit(x[i+1]) (antropy's zero crossings)."""
    return sum(1 for i in range(len(x) - 1) if math.copysign(1.0, x[i]) != math.copysign(1.0, x[i + 1]))


def hjorth(x: np.ndarray) -> tuple[float, float]:
    """Mobility (per sample) and complexity from population variances of x, x', x''."""
    d1 = np.diff(x)
    d2 = np.diff(d1)
    mob = math.sqrt(np.var(d1) / np.var(x))
    return mob, math.sqrt(np.var(d2) / np.var(d1)) / mob


def perm_entropy(x: np.ndarray) -> float:
    """Normalised permutation entropy, order 3, delay 1; pattern = stable argsort of a triple."""
    counts = {p: 0 for p in itertools.permutations(range(3))}
    for i in range(len(x) - 2):
        counts[tuple(np.argsort(x[i:i + 3], kind="stable"))] += 1
    n = len(x) - 2
    h = -sum((c / n) * math.log2(c / n) for c in counts.values() if c)
    return min(max(h / math.log2(6), 0.0), 1.0)


def higuchi(x: np.ndarray, kmax: int = 10) -> float:
    """Higuchi fractal dimension: least-squares slope of log L(k) against log(1/k)."""
    n = len(x)
    lk = []
    for k in range(1, kmax + 1):
        lengths = []
        for m in range(k):
            n_max = (n - m - 1) // k
            total = sum(abs(x[m + j * k] - x[m + (j - 1) * k]) for j in range(1, n_max + 1))
            lengths.append(total * (n - 1) / (n_max * k) / k)
        lk.append(np.mean(lengths))
    return float(np.polyfit(np.log(1.0 / np.arange(1, kmax + 1)), np.log(lk), 1)[0])


def petrosian(x: np.ndarray) -> float:
    """Petrosian fractal dimension from the sign changes of the first difference."""
    n = len(x)
    n_delta = sign_changes(np.diff(x))
    return math.log10(n) / (math.log10(n) + math.log10(n / (n + 0.4 * n_delta)))


def epoch_features(x: np.ndarray, sfreq: float, kind: str) -> dict[str, float]:
    """All YASA features of one band-passed epoch ``x`` (µV) of channel kind ``kind``."""
    q25, q75 = np.quantile(x, [0.25, 0.75])
    mob, comp = hjorth(x)
    feat = {
        "std": float(np.std(x, ddof=1)),
        "iqr": float(q75 - q25),
        "skew": float(skew(x, bias=True)),
        "kurt": float(kurtosis(x, fisher=True, bias=True)),
        "nzc": float(sign_changes(x)),
        "hmob": mob,
        "hcomp": comp,
        "perm": perm_entropy(x),
        "higuchi": higuchi(x),
        "petrosian": petrosian(x),
    }
    nperseg = int(5 * sfreq)
    freqs, psd = welch(x, sfreq, window="hamming", nperseg=nperseg, average="median")
    if kind != "emg":
        in_range = (freqs >= 0.4) & (freqs <= 30.0)
        f, p = freqs[in_range], psd[in_range]
        total = simpson(p, dx=f[1] - f[0])
        for lo, hi, name in BANDS:
            band = (f >= lo) & (f <= hi)
            feat[name] = float(simpson(p[band], dx=f[1] - f[0]) / total)
    if kind == "eeg":
        delta = feat["sdelta"] + feat["fdelta"]
        feat["dt"] = delta / feat["theta"]
        feat["ds"] = delta / feat["sigma"]
        feat["db"] = delta / feat["beta"]
        feat["at"] = feat["alpha"] / feat["theta"]
    broad = (freqs >= 0.4) & (freqs <= 30.0)
    feat["abspow"] = float(trapezoid(psd[broad], dx=freqs[1] - freqs[0]))
    return feat


def features_table(epochs: np.ndarray, sfreq: float, kind: str, names: tuple[str, ...]) -> np.ndarray:
    """``(n_epochs, len(names))`` table of :func:`epoch_features`, columns in ``names`` order."""
    rows = [epoch_features(np.asarray(e, dtype=np.float64), sfreq, kind) for e in epochs]
    return np.array([[r[n] for n in names] for r in rows], dtype=np.float64).reshape(len(rows), len(names))
