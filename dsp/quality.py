"""Per-channel, per-second signal quality: flat line, railing/clipping, line noise, artefacts.

For every channel and every whole window (one second by default) :func:`signal_quality`
measures

``std``
    standard deviation (µV, ``ddof=0``); **flat** when below ``flat_std_uv``;
``ptp``
    peak-to-peak amplitude (µV); **artefact** when above ``ptp_max_uv``;
``rail_fraction``
    fraction of samples with ``|x| >= rail_uv * (1 - rail_margin)`` (amplifier at its rail);
``plateau_fraction``
    fraction of samples exactly equal to the window's maximum or minimum (a clipped signal
    repeats its extreme value); **clipped** when either fraction reaches
    ``clip_min_fraction`` (a plateau only counts when the window is not flat);
``line_ratio``
    power within ±1 Hz of the mains frequency over broadband power (all non-DC power), from
    the DFT of the Hann-windowed, mean-removed window; **line_noise** above
    ``line_ratio_max``. NaN (never flagged) when the mains frequency is above Nyquist.

:class:`StreamingQuality` feeds blocks of any size and returns the windows completed so far;
the result is the same whatever the chunking. NaN/inf are rejected with :class:`ValueError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from dsp._jit import njit
from dsp.validation import as_block, positive_int, positive_rate

__all__ = ["QualityResult", "QualityThresholds", "StreamingQuality", "signal_quality"]

N_METRICS = 5  # std, ptp, rail_fraction, plateau_fraction, line_ratio


@dataclass(frozen=True)
class QualityThresholds:
    """Limits that turn the measured numbers into flags (all amplitudes in µV).

    ``ptp_max_uv`` may also be a per-channel sequence.
    """

    flat_std_uv: float = 0.5
    ptp_max_uv: float | tuple[float, ...] = 500.0
    rail_uv: float = 187500.0
    rail_margin: float = 0.01
    clip_min_fraction: float = 0.05
    line_freq_hz: float = 50.0
    line_ratio_max: float = 0.3

    def __post_init__(self) -> None:
        for name in ("flat_std_uv", "rail_uv", "line_freq_hz"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"QualityThresholds.{name} must be > 0, got {value!r}")
        ptp = np.atleast_1d(np.asarray(self.ptp_max_uv, dtype=float))
        if ptp.ndim != 1 or not (np.isfinite(ptp).all() and (ptp > 0).all()):
            raise ValueError(f"QualityThresholds.ptp_max_uv must be > 0, got {self.ptp_max_uv!r}")
        for name in ("rail_margin", "clip_min_fraction", "line_ratio_max"):
            value = getattr(self, name)
            if not (0 <= value <= 1):
                raise ValueError(f"QualityThresholds.{name} must be in [0, 1], got {value!r}")


@dataclass(frozen=True)
class QualityResult:
    """Quality of ``n_windows`` consecutive windows of ``n_channels`` channels.

    Attributes
    ----------
    start
        ``(n_windows,)`` index of each window's first sample, counted from the first sample
        given to the stream (or to :func:`signal_quality`).
    window
        Samples per window.
    std, ptp, rail_fraction, plateau_fraction, line_ratio
        ``(n_channels, n_windows)`` measurements.
    flat, clipped, line_noise, artefact
        ``(n_channels, n_windows)`` boolean flags.
    """

    start: np.ndarray
    window: int
    std: np.ndarray
    ptp: np.ndarray
    rail_fraction: np.ndarray
    plateau_fraction: np.ndarray
    line_ratio: np.ndarray
    flat: np.ndarray
    clipped: np.ndarray
    line_noise: np.ndarray
    artefact: np.ndarray
    flag_names: tuple[str, ...] = field(default=("flat", "clipped", "line_noise", "artefact"))

    @property
    def n_windows(self) -> int:
        """Number of windows (seconds) in this result."""
        return int(self.start.shape[0])

    @property
    def bad(self) -> np.ndarray:
        """``(n_channels, n_windows)``: any flag raised."""
        return self.flat | self.clipped | self.line_noise | self.artefact

    def channel_window(self, channel: int, window: int) -> dict[str, float | bool]:
        """Flags and numbers of one channel in one window, JSON-ready."""
        out: dict[str, float | bool] = {}
        for name in self.flag_names:
            out[name] = bool(getattr(self, name)[channel, window])
        out["std_uv"] = float(self.std[channel, window])
        out["ptp_uv"] = float(self.ptp[channel, window])
        out["rail_fraction"] = float(self.rail_fraction[channel, window])
        out["plateau_fraction"] = float(self.plateau_fraction[channel, window])
        lr = float(self.line_ratio[channel, window])
        out["line_ratio"] = lr if np.isfinite(lr) else None  # type: ignore[assignment]
        return out


    def window_channels(self, window: int) -> list[dict[str, float | bool]]:
        """:meth:`channel_window` of every channel for one window (same dicts, one pass)."""
        cols = [getattr(self, name)[:, window].tolist() for name in self.flag_names]
        std = self.std[:, window].tolist()
        ptp = self.ptp[:, window].tolist()
        rail = self.rail_fraction[:, window].tolist()
        plateau = self.plateau_fraction[:, window].tolist()
        line = self.line_ratio[:, window].tolist()
        out: list[dict[str, float | bool]] = []
        for c in range(len(std)):
            d: dict[str, float | bool] = {name: bool(col[c])
                                          for name, col in zip(self.flag_names, cols, strict=True)}
            d["std_uv"] = std[c]
            d["ptp_uv"] = ptp[c]
            d["rail_fraction"] = rail[c]
            d["plateau_fraction"] = plateau[c]
            d["line_ratio"] = line[c] if math.isfinite(line[c]) else None  # type: ignore[assignment]
            out.append(d)
        return out


@njit
def _quality_kernel(x, n, cos_t, sin_t, weights, win, rail_level, out):  # pragma: no cover
    """out[:, c, w] = std, ptp, rail_frac, plateau_frac, line_ratio of x[c, w*n:(w+1)*n]."""
    n_ch = x.shape[0]
    n_win = x.shape[1] // n
    n_bins = cos_t.shape[0]
    xw = np.empty(n)
    for c in range(n_ch):
        for w in range(n_win):
            s0 = w * n
            total = 0.0
            lo = x[c, s0]
            hi = x[c, s0]
            for i in range(n):
                v = x[c, s0 + i]
                total += v
                if v < lo:
                    lo = v
                if v > hi:
                    hi = v
            mean = total / n
            ss = 0.0
            n_rail = 0
            n_plateau = 0
            for i in range(n):
                v = x[c, s0 + i]
                d = v - mean
                ss += d * d
                if abs(v) >= rail_level:
                    n_rail += 1
                if v == hi or v == lo:  # noqa: SIM109 - plain compares for numba
                    n_plateau += 1
                xw[i] = d * win[i]
            out[0, c, w] = np.sqrt(ss / n)
            out[1, c, w] = hi - lo
            out[2, c, w] = n_rail / n
            out[3, c, w] = n_plateau / n
            if n_bins == 0:
                out[4, c, w] = np.nan
                continue
            energy = 0.0
            dc = 0.0
            for i in range(n):
                energy += xw[i] * xw[i]
                dc += xw[i]
            energy = energy * n - dc * dc  # Parseval: sum_k |X_k|^2 minus the DC bin |X_0|^2
            line = 0.0
            for b in range(n_bins):
                re = 0.0
                im = 0.0
                for i in range(n):
                    re += xw[i] * cos_t[b, i]
                    im += xw[i] * sin_t[b, i]
                line += weights[b] * (re * re + im * im)
            out[4, c, w] = line / energy if energy > 0.0 else 0.0


class _Spectral:
    """Precomputed Hann window and DFT rows of the mains bins for one window length."""

    def __init__(self, sfreq: float, n: int, line_freq: float) -> None:
        k_all = np.arange(1, n // 2 + 1)
        freqs = k_all * sfreq / n
        ks = k_all[np.abs(freqs - line_freq) <= 1.0 + 1e-9]
        i = np.arange(n)
        self.win = np.ascontiguousarray(np.hanning(n) if n > 1 else np.ones(1))
        self.cos = np.ascontiguousarray(np.cos(2 * np.pi * np.outer(ks, i) / n)).reshape(len(ks), n)
        self.sin = np.ascontiguousarray(np.sin(2 * np.pi * np.outer(ks, i) / n)).reshape(len(ks), n)
        nyquist_bin = (n % 2 == 0) & (ks == n // 2)
        self.weights = np.where(nyquist_bin, 1.0, 2.0).astype(np.float64)


def _window_length(sfreq: float, window_s: float) -> int:
    n = int(round(positive_rate(sfreq) * float(window_s)))
    if n < 4:
        raise ValueError(
            f"quality window of {window_s:g} s at {sfreq:g} Hz has {n} samples; need at least 4"
        )
    return n


def _measure(
    x: np.ndarray, n: int, spec: _Spectral, thr: QualityThresholds, start0: int
) -> QualityResult:
    n_ch = x.shape[0]
    n_win = x.shape[1] // n
    out = np.empty((N_METRICS, n_ch, n_win))
    rail_level = thr.rail_uv * (1.0 - thr.rail_margin)
    _quality_kernel(x, n, spec.cos, spec.sin, spec.weights, spec.win, rail_level, out)
    std, ptp, rail, plateau, line = out
    ptp_max = np.atleast_1d(np.asarray(thr.ptp_max_uv, dtype=float))
    if ptp_max.size not in (1, n_ch):
        raise ValueError(
            f"ptp_max_uv must be one value or one per channel ({n_ch}), got {ptp_max.size}"
        )
    flat = std < thr.flat_std_uv
    with np.errstate(invalid="ignore"):
        line_noise = line > thr.line_ratio_max  # NaN compares False
    return QualityResult(
        start=start0 + n * np.arange(n_win, dtype=np.int64),
        window=n,
        std=std,
        ptp=ptp,
        rail_fraction=rail,
        plateau_fraction=plateau,
        line_ratio=line,
        flat=flat,
        clipped=(rail >= thr.clip_min_fraction) | ((plateau >= thr.clip_min_fraction) & ~flat),
        line_noise=line_noise,
        artefact=ptp > ptp_max[:, None],
    )


def signal_quality(
    x: np.ndarray,
    sfreq: float,
    thresholds: QualityThresholds | None = None,
    window_s: float = 1.0,
) -> QualityResult:
    """Quality of every whole window of a ``(n_channels, n_samples)`` signal (batch).

    Trailing samples that do not fill a window are ignored.

    Raises
    ------
    ValueError
        Wrong shape, NaN/inf, or a window shorter than 4 samples.
    """
    thr = thresholds or QualityThresholds()
    x = as_block(x, "x")
    n = _window_length(sfreq, window_s)
    return _measure(x, n, _Spectral(float(sfreq), n, thr.line_freq_hz), thr, 0)


class StreamingQuality:
    """Chunk-in, completed-windows-out quality meter.

    Parameters
    ----------
    sfreq
        Sampling rate in Hz.
    n_channels
        Rows of every block.
    thresholds
        Flag limits.
    window_s
        Window length in seconds (``round(sfreq * window_s)`` samples).
    """

    def __init__(
        self,
        sfreq: float,
        n_channels: int,
        thresholds: QualityThresholds | None = None,
        window_s: float = 1.0,
    ) -> None:
        self.sfreq = positive_rate(sfreq)
        self.n_channels = positive_int(n_channels, "n_channels")
        self.thresholds = thresholds or QualityThresholds()
        self.window = _window_length(self.sfreq, window_s)
        self._spec = _Spectral(self.sfreq, self.window, self.thresholds.line_freq_hz)
        self._buf = np.empty((self.n_channels, self.window))
        # Most blocks complete no window: they all get this one empty result (read-only).
        self._empty = _measure(np.empty((self.n_channels, 0)), self.window, self._spec,
                               self.thresholds, 0)
        for name in ("start", "std", "ptp", "rail_fraction", "plateau_fraction", "line_ratio",
                     "flat", "clipped", "line_noise", "artefact"):
            getattr(self._empty, name).flags.writeable = False
        self.reset()

    def reset(self) -> None:
        """Drop the partial window; the next sample starts window 0 again."""
        self._fill = 0
        self._n_done = 0

    @property
    def pending(self) -> int:
        """Samples waiting in the incomplete window."""
        return self._fill

    def process(self, block: np.ndarray) -> QualityResult:
        """Add a block; return the windows it completed (possibly none).

        Raises
        ------
        ValueError
            Wrong shape (expected and actual given) or NaN/inf (state unchanged).
        """
        x = as_block(block, "block", self.n_channels)
        n = self.window
        total = self._fill + x.shape[1]
        n_win = total // n
        if n_win == 0:
            self._buf[:, self._fill : total] = x
            self._fill = total
            return self._empty
        joined = np.concatenate([self._buf[:, : self._fill], x], axis=1) if self._fill else x
        result = _measure(
            np.ascontiguousarray(joined[:, : n_win * n]),
            n,
            self._spec,
            self.thresholds,
            self._n_done * n,
        )
        rest = joined[:, n_win * n :]
        self._buf[:, : rest.shape[1]] = rest
        self._fill = rest.shape[1]
        self._n_done += n_win
        return result
