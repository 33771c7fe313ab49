"""Naive references for the microstructure kernels: moving mean, burst tracker, half-waves,
and the spindle criteria (scipy filters, explicit windows)."""

from __future__ import annotations

import numpy as np
from scipy import signal


def moving_mean_naive(x: np.ndarray, n: int) -> np.ndarray:
    """``out[c, k] = mean(x[c, max(0, k - n + 1):k + 1])`` by an explicit loop."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    out = np.empty_like(x)
    for c in range(x.shape[0]):
        for k in range(x.shape[1]):
            out[c, k] = float(np.mean(x[c, max(0, k - n + 1):k + 1]))
    return out


def _crossings(sig: np.ndarray, a: int, b: int) -> int:
    """Sign changes between consecutive samples k-1, k for k in (a, b]."""
    return int(sum((sig[k - 1] < 0) != (sig[k] < 0) for k in range(a + 1, b + 1)))


def bursts_naive(active: np.ndarray, sig: np.ndarray, confirm: int, max_gap: int) -> np.ndarray:
    """Runs found on the whole signal at once (split where active samples are > max_gap + 1
    apart), then the detection and end rows the tracker must report, sorted by sample."""
    idx = np.flatnonzero(active)
    rows = []
    if idx.size:
        runs = np.split(idx, np.flatnonzero(np.diff(idx) > max_gap + 1) + 1)
        for run in runs:
            onset = int(run[0])
            ok = run[run - onset + 1 >= confirm]
            if not ok.size:
                continue
            det = int(ok[0])
            seen = sig[run[run <= det]]
            rows.append((0, onset, det, -1, seen.max() - seen.min(), _crossings(sig, onset, det)))
            last = int(run[-1])
            at = last + max_gap + 1
            if at < len(active):
                seen = sig[run]
                rows.append((1, onset, at, last, seen.max() - seen.min(),
                             _crossings(sig, onset, last)))
    rows.sort(key=lambda r: r[2])
    return np.array(rows, dtype=float).reshape(-1, 6)


def half_waves_naive(x: np.ndarray, threshold: float, q_max: int, h_min: int, h_max: int
                     ) -> np.ndarray:
    """Each negative half-wave taken whole: its first qualifying local trough and its end."""
    rows = []
    n = len(x)
    for d in range(1, n):
        if not (x[d - 1] >= 0 and x[d] < 0):
            continue
        rising = next((k for k in range(d + 1, n) if x[k] >= 0), None)
        stop = rising if rising is not None else n
        min_v, min_t = x[d], d
        for k in range(d + 1, stop):
            if x[k] < min_v:
                min_v, min_t = x[k], k
            elif x[k] > min_v:
                if min_t - d > q_max:
                    break
                if min_v <= -threshold:
                    rows.append((0, d, min_t, min_v, k))
                    break
        if rising is not None:
            seg = x[d:rising]
            t = d + int(np.argmin(seg))
            if seg.min() <= -threshold and h_min <= rising - d <= h_max:
                rows.append((1, d, t, seg.min(), rising))
    rows.sort(key=lambda r: r[4])
    return np.array(rows, dtype=float).reshape(-1, 5)


def spindle_criteria_naive(x: np.ndarray, sfreq: float, cfg) -> dict[str, np.ndarray]:  # noqa: ANN001
    """The three spindle criteria from scipy filters (steady start) and explicit windows."""
    def bp(lo: float, hi: float) -> np.ndarray:
        sos = signal.butter(cfg.filter_order, [lo, hi], btype="bandpass", fs=sfreq, output="sos")
        return signal.sosfilt(sos, x, zi=signal.sosfilt_zi(sos) * x[0])[0]

    sigma = bp(cfg.sigma_low_hz, cfg.sigma_high_hz)
    broad = bp(cfg.broad_low_hz, min(cfg.broad_high_hz, 0.45 * sfreq))
    n = max(1, round(cfg.window_s * sfreq))
    nb = max(1, round(cfg.baseline_s * sfreq))
    ps = np.maximum(moving_mean_naive(sigma**2, n)[0], 1e-9)
    pb = np.maximum(moving_mean_naive(broad**2, n)[0], 1e-9)
    cov = moving_mean_naive(sigma * broad, n)[0]
    lp = np.log10(ps)
    mean = moving_mean_naive(lp, nb)[0]
    sd = np.sqrt(np.maximum(moving_mean_naive(lp**2, nb)[0] - mean**2, 1e-12))
    return {"sigma": sigma, "rel_power": ps / pb, "correlation": cov / np.sqrt(ps * pb),
            "rms_z": (lp - mean) / sd}
