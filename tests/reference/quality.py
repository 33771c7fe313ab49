"""Obvious numpy implementation of the per-window quality measures (FFT, np.std, np.ptp)."""

from __future__ import annotations

import numpy as np


def quality_naive(
    x: np.ndarray, sfreq: float, n: int, rail_level: float, line_freq: float
) -> dict[str, np.ndarray]:
    """Per channel and window of ``n`` samples: std, ptp, rail/plateau fractions, line ratio."""
    n_ch, n_tot = x.shape
    n_win = n_tot // n
    out = {k: np.empty((n_ch, n_win)) for k in ("std", "ptp", "rail", "plateau", "line")}
    freqs = np.fft.rfftfreq(n, 1.0 / sfreq)
    line_bins = (np.abs(freqs - line_freq) <= 1.0 + 1e-9) & (freqs > 0)
    for c in range(n_ch):
        for w in range(n_win):
            seg = x[c, w * n : (w + 1) * n]
            out["std"][c, w] = np.std(seg)
            out["ptp"][c, w] = np.ptp(seg)
            out["rail"][c, w] = np.mean(np.abs(seg) >= rail_level)
            out["plateau"][c, w] = np.mean((seg == seg.max()) | (seg == seg.min()))
            spec = np.abs(np.fft.fft((seg - seg.mean()) * np.hanning(n))) ** 2
            total = spec[1:].sum()
            pos = spec[: len(freqs)]
            if not line_bins.any():
                out["line"][c, w] = np.nan
            elif total == 0:
                out["line"][c, w] = 0.0
            else:
                both_sides = 2 * pos[line_bins].sum()
                if n % 2 == 0 and line_bins[-1]:  # Nyquist bin has no mirror
                    both_sides -= pos[-1]
                out["line"][c, w] = both_sides / total
    return out
