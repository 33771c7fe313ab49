"""Live views computed from a :class:`~firmware_host.control.tap.RawWindow` (control thread).

Decimated traces, relative EEG band powers and EMG envelopes: small numbers a console can
draw, computed off the loop thread from the copy the loop handed over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from firmware_host.chunk import Chunk
from firmware_host.control.protocol import DEFAULT_POINTS, DEFAULT_SPAN_S
from firmware_host.control.tap import RawWindow
from firmware_host.stages.quality import QualityConfig, QualityStage

#: EEG bands (Hz) of the band-power view.
BANDS: dict[str, tuple[float, float]] = {
    "delta": (0.5, 4.0), "theta": (4.0, 8.0), "alpha": (8.0, 12.0),
    "sigma": (12.0, 15.0), "beta": (15.0, 30.0),
}
EMG_TYPES = ("emg", "forearm_emg")


def decimate(x: np.ndarray, points: int) -> list[float]:
    """Mean of ``points`` equal buckets of ``x`` (fewer when ``x`` is shorter), rounded."""
    n = x.size
    if n == 0:
        return []
    points = max(1, min(points, n))
    edges = np.linspace(0, n, points + 1).astype(int)
    sums = np.add.reduceat(x, edges[:-1])
    return np.round(sums / np.diff(edges), 2).tolist()


#: Levels of a quantised envelope value (0 … ENVELOPE_LEVELS; -1 = no finite sample).
ENVELOPE_LEVELS = 255


def min_max(x: np.ndarray, points: int) -> tuple[np.ndarray, np.ndarray]:
    """Minimum and maximum of ``points`` equal columns of ``x`` (fewer when ``x`` is shorter).

    Non-finite samples are skipped; a column without a finite sample is NaN in both.
    """
    points = max(1, min(points, x.size))
    starts = np.arange(points) * x.size // points  # column c: samples [c n / p, (c + 1) n / p)
    with np.errstate(invalid="ignore"):
        return np.fmin.reduceat(x, starts), np.fmax.reduceat(x, starts)


def finite_mean(x: np.ndarray) -> float | None:
    """Mean of the finite samples of ``x`` (``None`` when there is none)."""
    finite = x[np.isfinite(x)]
    return float(finite.mean()) if finite.size else None


def quantised_envelope(x: np.ndarray, points: int) -> dict[str, Any]:
    """The min/max envelope of ``x`` (mean removed) in ``points`` columns, as small integers.

    Returns
    -------
    dict
        ``lo_uv`` and ``step_uv``: column values are ``lo_uv + step_uv * q`` µV with ``q`` in
        ``0 … ENVELOPE_LEVELS`` (``-1``: no finite sample in that column); ``min`` and ``max``
        the integer lists. Integers keep the state message about half the size of floats.
    """
    lo, hi = min_max(x - (finite_mean(x) or 0.0), points)
    ok = np.isfinite(lo)
    vmin = float(lo[ok].min()) if ok.any() else 0.0
    step = (float(hi[ok].max()) - vmin) / ENVELOPE_LEVELS if ok.any() else 0.0

    def q(v: np.ndarray) -> list[int]:
        levels = np.round((v - vmin) / step) if step > 0 else np.zeros_like(v)
        return np.where(ok, levels, -1).astype(int).tolist()

    return {"lo_uv": vmin, "step_uv": step, "min": q(lo), "max": q(hi)}


def band_powers(x: np.ndarray, sfreq: float, seconds: float = 4.0) -> dict[str, float]:
    """Relative power (%) of :data:`BANDS` over the last ``seconds`` of one EEG channel."""
    n = min(x.size, int(round(seconds * sfreq)))
    if n < int(sfreq):  # under a second: no meaningful spectrum yet
        return {}
    seg = x[-n:] - x[-n:].mean()
    spec = np.abs(np.fft.rfft(seg * np.hanning(n))) ** 2
    freqs = np.fft.rfftfreq(n, 1.0 / sfreq)
    powers = {b: float(spec[(freqs >= lo) & (freqs < hi)].sum()) for b, (lo, hi) in BANDS.items()}
    total = sum(powers.values())
    return {b: round(100.0 * p / total, 1) if total > 0 else 0.0 for b, p in powers.items()}


def envelope_rms(x: np.ndarray, sfreq: float, points: int,
                 window_s: float = 0.25) -> tuple[float, list[float]]:
    """RMS of the last ``window_s`` (µV) and an RMS envelope in ``points`` buckets."""
    y = x - x.mean() if x.size else x
    n = min(y.size, max(1, int(round(window_s * sfreq))))
    last = float(np.sqrt(np.mean(y[-n:] ** 2))) if y.size else 0.0
    return round(last, 2), [round(float(np.sqrt(v)), 2) for v in decimate(y * y, points)]


FLAGS = ("flat", "clipped", "line_noise", "artefact")


def quality_flags(win: RawWindow, config: QualityConfig) -> dict[str, list[str]]:
    """Quality flags of every checked channel over the last window of ``win``.

    The session journal keeps quality per 30-s epoch; a live view wants the last second.
    The same :class:`~firmware_host.stages.quality.QualityStage` code and thresholds (the
    live ``[quality]`` section) run here, on the control thread, on the loop's raw copy.
    """
    n = int(round(config.window_s * win.sfreq))
    if not config.enabled or win.data.shape[1] < n:
        return {}
    x = win.data[:, -n:]
    chunk = Chunk(np.ascontiguousarray(x), win.end_sample - n, win.sfreq, win.channel_names,
                  win.channel_types, np.arange(n) / win.sfreq)
    out: dict[str, list[str]] = {}
    for d in QualityStage(config).update(chunk).decisions:
        for name, ch in d.details.get("channels", {}).items():
            out[name] = [f for f in FLAGS if ch.get(f)]
        for name in d.details.get("bad_channels", []) if d.details.get("non_finite") else []:
            out[name] = ["non_finite"]
    return out


@dataclass(frozen=True)
class TraceView:
    """What one client asked to see of the signals (its ``subscribe`` fields).

    Attributes
    ----------
    traces
        Whether channels carry a trace (not for one-shot status).
    points
        Trace columns per channel.
    span_s
        Seconds shown by traces and ``ptp_uv`` (the time base).
    envelope
        Each trace as a min/max :func:`quantised_envelope` instead of column means.
    """

    traces: bool = False
    points: int = DEFAULT_POINTS
    span_s: float = DEFAULT_SPAN_S
    envelope: bool = False


def signal_views(win: RawWindow | None, view: TraceView, quality: QualityConfig) -> dict[str, Any]:
    """``channels`` (trace, range, quality flags), ``band_powers``, ``emg_envelope``, ``trace_window``.

    Parameters
    ----------
    win
        The loop's latest copy (``None`` before data).
    view
        What the client asked to see.
    quality
        The live ``[quality]`` section (flags of the last window, see :func:`quality_flags`).
    """
    out: dict[str, Any] = {"channels": [], "band_powers": {}, "emg_envelope": {}}
    if win is None:
        return out
    flags = quality_flags(win, quality)
    n = min(win.data.shape[1], max(1, round(view.span_s * win.sfreq)))
    traces, points = view.traces, view.points
    if traces:
        out["trace_window"] = {"span_s": round(n / win.sfreq, 3), "end_sample": win.end_sample,
                               "sfreq": win.sfreq}
    for i, (name, kind) in enumerate(zip(win.channel_names, win.channel_types, strict=True)):
        x = win.data[i, -n:]
        mean = finite_mean(x)
        ch: dict[str, Any] = {"name": name, "type": kind, "flags": flags.get(name, []),
                              "ptp_uv": round(float(np.ptp(x)), 1) if x.size else 0.0,
                              "mean_uv": None if mean is None else round(mean, 1)}
        if traces and view.envelope:
            ch["envelope"] = quantised_envelope(x, points)
        elif traces:
            ch["trace"] = decimate(x - x.mean(), points)
        out["channels"].append(ch)
        if kind == "eeg":
            out["band_powers"][name] = band_powers(win.data[i], win.sfreq)
        elif kind in EMG_TYPES:
            rms, env = envelope_rms(x, win.sfreq, points)
            out["emg_envelope"][name] = {"rms_uv": rms, **({"trace": env} if traces else {})}
    return out
