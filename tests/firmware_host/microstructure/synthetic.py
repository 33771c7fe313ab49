"""Synthetic EEG with planted spindles and slow oscillations, and a chunked stream helper."""

from __future__ import annotations

import numpy as np

from firmware_host.chunk import Chunk
from firmware_host.decision import Decision


def background(n: int, sfreq: float, seed: int, uv: float = 12.0) -> np.ndarray:
    """1/f-like background EEG (integrated white noise, high-passed) plus white noise."""
    rng = np.random.default_rng(seed)
    brown = np.cumsum(rng.standard_normal(n))
    kernel = np.ones(int(sfreq)) / int(sfreq)
    brown = brown - np.convolve(brown, kernel, mode="same")
    brown *= uv / brown.std()
    return brown + 0.3 * uv * rng.standard_normal(n)


def plant_spindles(x: np.ndarray, sfreq: float, seed: int, start_s: float = 40.0,
                   every_s: float = 9.0, uv: float = 35.0) -> list[tuple[float, float]]:
    """Add Hann-windowed 11.5–15 Hz bursts of 0.6–1.6 s every ``every_s``; their intervals (s)."""
    rng = np.random.default_rng(seed)
    planted = []
    t0 = start_s
    while t0 + 2.0 < x.shape[0] / sfreq:
        dur = rng.uniform(0.6, 1.6)
        f = rng.uniform(11.5, 15.0)
        a, n = int(t0 * sfreq), int(dur * sfreq)
        t = np.arange(n) / sfreq
        x[a:a + n] += uv * np.hanning(n) * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.28))
        planted.append((t0, t0 + dur))
        t0 += every_s + rng.uniform(-2.0, 2.0)
    return planted


def stream(stage, x: np.ndarray, sfreq: float, sizes: list[int] | None = None  # noqa: ANN001
           ) -> list[Decision]:
    """Feed ``x`` (one EEG channel) in chunks of ``sizes`` (default 1 s) through ``stage``."""
    out: list[Decision] = []
    pos, i = 0, 0
    while pos < x.shape[0]:
        size = sizes[i % len(sizes)] if sizes else int(sfreq)
        i += 1
        b = min(pos + max(size, 1), x.shape[0])
        chunk = Chunk(data=x[None, pos:b], first_sample=pos, sfreq=sfreq,
                      channel_names=("C3",), channel_types=("eeg",),
                      timestamps=np.arange(pos, b) / sfreq)
        out.extend(stage.update(chunk).decisions)
        pos = b
    return out
