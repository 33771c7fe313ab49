"""Naive reference for the causal YASA context features (loops straight from the definitions)."""

from __future__ import annotations

import numpy as np

TRAIL = [0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0]


def causal_context(base: np.ndarray, prior_median: dict | None = None,
                   prior_range: dict | None = None, prior_epochs: float = 0.0) -> dict:
    """For each epoch k: trailing triangular mean of epochs max(0, k-7)..k (weights 1/8 … 1,
    the newest weighted 1), mean of epochs max(0, k-3)..k, each robust-scaled by the median
    and 5-95 % range of all values up to k, blended with a prior worth ``prior_epochs``."""
    base = np.asarray(base, dtype=float)
    n, f = base.shape
    raw = {"c7": np.zeros((n, f)), "p2": np.zeros((n, f))}
    for k in range(n):
        idx = list(range(max(0, k - 7), k + 1))
        w = TRAIL[len(TRAIL) - len(idx):]
        raw["c7"][k] = sum(wi * base[i] for wi, i in zip(w, idx, strict=True)) / sum(w)
        raw["p2"][k] = base[max(0, k - 3) : k + 1].mean(axis=0)
    out = {}
    for key, v in raw.items():
        z = np.zeros((n, f))
        for k in range(n):
            for j in range(f):
                seen = sorted(v[: k + 1, j])
                med = float(np.percentile(seen, 50))
                rng = float(np.percentile(seen, 95) - np.percentile(seen, 5))
                if prior_median is not None:
                    a = (k + 1) / (k + 1 + prior_epochs)
                    med = a * med + (1 - a) * prior_median[key][j]
                    rng = a * rng + (1 - a) * prior_range[key][j]
                z[k, j] = (v[k, j] - med) / (rng if rng > 0 else 1.0)
        out[key] = z
    return {"raw": raw, "scaled": out}
