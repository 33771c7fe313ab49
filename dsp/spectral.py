"""Epoch spectral and time-domain features for sleep staging.

One feature vector per epoch (30 s by default) of one channel:

* Welch PSD (Hann window, 4-s segments, 50 % overlap, constant detrend, density scaling —
  the same numbers as ``scipy.signal.welch`` with those arguments);
* log absolute and relative band powers (slow oscillation 0.3–1, delta 1–4, theta 4–8,
  alpha 8–12, sigma 12–16, beta 16–30, gamma 30–45 Hz, each clipped to Nyquist);
* log band ratios, spectral edge frequencies (50 %, 95 %), normalised spectral entropy;
* Hjorth activity (log), mobility and complexity; zero-crossing rate;
* robust amplitude statistics (log inter-percentile ranges, log median absolute deviation,
  excess kurtosis, skewness).

Batch (:func:`night_features`) and streaming (:func:`epoch_features`) run the same code on
the same per-epoch arrays, so they give identical numbers. The FFT is numpy's (pocketfft,
row by row); everything after it runs in small ``@njit`` kernels.
"""

from __future__ import annotations

import functools

import numpy as np

from dsp._jit import njit
from dsp.moments import central_moments

#: Frequency bands (name, low Hz, high Hz); a band is integrated over ``low <= f < high``.
BANDS: tuple[tuple[str, float, float], ...] = (
    ("so", 0.3, 1.0),
    ("delta", 1.0, 4.0),
    ("theta", 4.0, 8.0),
    ("alpha", 8.0, 12.0),
    ("sigma", 12.0, 16.0),
    ("beta", 16.0, 30.0),
    ("gamma", 30.0, 45.0),
)
#: Total-power range used for relative powers and edge/entropy (clipped to Nyquist).
TOTAL_BAND: tuple[float, float] = (0.3, 45.0)
#: Band-ratio numerator/denominator band indices (into :data:`BANDS`), as log ratios.
RATIOS: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...] = (
    ("delta_beta", (1,), (5,)),
    ("delta_theta", (1,), (2,)),
    ("theta_alpha", (2,), (3,)),
    ("sigma_delta", (4,), (1,)),
    ("slow_fast", (0, 1, 2), (3, 4, 5)),
    ("alpha_theta_delta", (3,), (0, 1, 2)),
)


def feature_names() -> tuple[str, ...]:
    """Names of the columns returned by :func:`epoch_features` / :func:`night_features`."""
    names = [f"logabs_{b}" for b, _, _ in BANDS]
    names += [f"rel_{b}" for b, _, _ in BANDS]
    names += [f"ratio_{r}" for r, _, _ in RATIOS]
    names += ["log_total", "sef50", "sef95", "spec_entropy"]
    names += ["hjorth_logact", "hjorth_mob", "hjorth_comp", "zcr"]
    names += ["log_iqr", "log_p90", "log_mad", "kurtosis", "skewness"]
    return tuple(names)


N_FEATURES: int = len(feature_names())


def welch_segments(n_samples: int, sfreq: float, seg_s: float = 4.0) -> tuple[int, int]:
    """Segment length and step (samples) used for the Welch PSD of one epoch.

    Parameters
    ----------
    n_samples
        Epoch length in samples.
    sfreq
        Sampling rate in Hz.
    seg_s
        Segment length in seconds (shortened to the epoch when the epoch is shorter).

    Returns
    -------
    nperseg, step
        Segment length and hop (``nperseg // 2``, i.e. 50 % overlap).
    """
    nperseg = min(int(round(seg_s * sfreq)), n_samples)
    if nperseg < 8:
        raise ValueError(
            f"epoch of {n_samples} samples at {sfreq} Hz is too short for a PSD (need >= 8)"
        )
    return nperseg, max(nperseg // 2, 1)


def welch_psd(epochs: np.ndarray, sfreq: float, seg_s: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """Welch power spectral density of each row of ``epochs``.

    Equal to ``scipy.signal.welch(epochs, sfreq, window="hann", nperseg=nperseg,
    noverlap=nperseg // 2, detrend="constant", scaling="density", axis=-1)``.

    Parameters
    ----------
    epochs
        ``(n_epochs, n_samples)`` float array.
    sfreq
        Sampling rate in Hz.
    seg_s
        Segment length in seconds.

    Returns
    -------
    freqs
        ``(n_freqs,)`` Hz.
    psd
        ``(n_epochs, n_freqs)`` in (input unit)²/Hz.
    """
    epochs = _check_2d(epochs, "epochs")
    n = epochs.shape[1]
    nperseg, step = welch_segments(n, sfreq, seg_s)
    n_seg = (n - nperseg) // step + 1
    win = _hann(nperseg)
    scale = 1.0 / (sfreq * float(np.sum(win * win)))
    freqs = np.fft.rfftfreq(nperseg, 1.0 / sfreq)
    segs = np.empty((epochs.shape[0], n_seg, nperseg))
    _detrended_segments(epochs, step, win, segs)
    spec = np.fft.rfft(segs, axis=-1)
    psd = np.empty((epochs.shape[0], freqs.size))
    _average_periodograms(spec.real, spec.imag, scale, nperseg % 2 == 0, psd)
    return freqs, psd


def epoch_features(x: np.ndarray, sfreq: float) -> np.ndarray:
    """Feature vector of one epoch of one channel.

    Parameters
    ----------
    x
        ``(n_samples,)`` signal in µV (any length ≥ 8 samples; 30 s for sleep staging).
    sfreq
        Sampling rate in Hz.

    Returns
    -------
    numpy.ndarray
        ``(N_FEATURES,)`` float64, columns named by :func:`feature_names`.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"epoch_features expects a 1-D epoch, got shape {x.shape}")
    return _features(x[None, :], sfreq)[0]


def night_features(x: np.ndarray, sfreq: float, epoch_s: float = 30.0) -> np.ndarray:
    """Feature matrix of consecutive non-overlapping epochs of one channel.

    A trailing partial epoch is dropped. Row ``k`` equals
    ``epoch_features(x[k*n:(k+1)*n], sfreq)`` exactly (``n = round(epoch_s * sfreq)``).

    Parameters
    ----------
    x
        ``(n_samples,)`` signal in µV.
    sfreq
        Sampling rate in Hz.
    epoch_s
        Epoch length in seconds.

    Returns
    -------
    numpy.ndarray
        ``(n_epochs, N_FEATURES)`` float64.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"night_features expects a 1-D signal, got shape {x.shape}")
    if not (sfreq > 0 and epoch_s > 0):
        raise ValueError(f"sfreq and epoch_s must be > 0, got {sfreq}, {epoch_s}")
    n = int(round(epoch_s * sfreq))
    n_ep = x.size // n
    if n_ep == 0:
        return np.zeros((0, N_FEATURES))
    return _features(x[: n_ep * n].reshape(n_ep, n), sfreq)


def _features(epochs: np.ndarray, sfreq: float) -> np.ndarray:
    epochs = _check_2d(epochs, "epochs")
    if not np.all(np.isfinite(epochs)):
        raise ValueError("epoch contains NaN or inf; mask or repair the signal first")
    freqs, psd = welch_psd(epochs, sfreq)
    nyq = sfreq / 2.0
    lo = np.array([b[1] for b in BANDS])
    hi = np.minimum(np.array([b[2] for b in BANDS]), nyq)
    out = np.empty((epochs.shape[0], N_FEATURES))
    ratio_num, ratio_den = _ratio_masks()
    _spectral_kernel(
        psd, freqs, lo, hi, TOTAL_BAND[0], min(TOTAL_BAND[1], nyq), ratio_num, ratio_den, out
    )
    # sorting / selection in numpy (much faster than numba's sort); row by row, so a row's
    # numbers do not depend on the other rows
    n = epochs.shape[1]
    lo, hi = (n - 1) // 2, n // 2
    srt = np.sort(epochs, axis=1)
    med = (srt[:, lo] + srt[:, hi]) / 2.0
    part = np.partition(np.abs(epochs - med[:, None]), (lo, hi), axis=1)
    mad = (part[:, lo] + part[:, hi]) / 2.0
    _time_kernel(epochs, srt, mad, sfreq, out, 2 * len(BANDS) + len(RATIOS) + 4)
    return out


@functools.cache
def _ratio_masks() -> tuple[np.ndarray, np.ndarray]:
    """Band-ratio numerator/denominator masks (computed once; read-only)."""
    num = np.zeros((len(RATIOS), len(BANDS)))
    den = np.zeros((len(RATIOS), len(BANDS)))
    for i, (_, a, b) in enumerate(RATIOS):
        num[i, list(a)] = 1.0
        den[i, list(b)] = 1.0
    num.flags.writeable = False
    den.flags.writeable = False
    return num, den


@functools.cache
def _hann(n: int) -> np.ndarray:
    """Periodic Hann window, as ``scipy.signal.get_window("hann", n)`` (cached; read-only)."""
    w = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)
    w.flags.writeable = False
    return w


def _check_2d(a: np.ndarray, name: str) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_epochs, n_samples), got shape {a.shape}")
    return a


@njit
def _band_power(psd_row: np.ndarray, freqs: np.ndarray, lo: float, hi: float) -> float:
    """Rectangle-rule integral of the PSD over ``lo <= f < hi``."""
    df = freqs[1] - freqs[0]
    s = 0.0
    for i in range(freqs.size):
        if freqs[i] >= lo and freqs[i] < hi:
            s += psd_row[i]
    return s * df


@njit
def _spectral_kernel(psd, freqs, lo, hi, tot_lo, tot_hi, ratio_num, ratio_den, out):  # noqa: ANN001
    n_ep = psd.shape[0]
    nb = lo.size
    nr = ratio_num.shape[0]
    eps = 1e-12
    bp = np.empty(nb)
    for e in range(n_ep):
        row = psd[e]
        total = _band_power(row, freqs, tot_lo, tot_hi)
        for b in range(nb):
            bp[b] = _band_power(row, freqs, lo[b], hi[b]) if hi[b] > lo[b] else 0.0
            out[e, b] = np.log10(bp[b] + eps)
            out[e, nb + b] = bp[b] / (total + eps)
        for r in range(nr):
            a = 0.0
            d = 0.0
            for b in range(nb):
                a += ratio_num[r, b] * bp[b]
                d += ratio_den[r, b] * bp[b]
            out[e, 2 * nb + r] = np.log10((a + eps) / (d + eps))
        k = 2 * nb + nr
        out[e, k] = np.log10(total + eps)
        # spectral edge (50 %, 95 %) and normalised entropy over the total band
        df = freqs[1] - freqs[0]
        cum = 0.0
        sef50 = tot_hi
        sef95 = tot_hi
        got50 = False
        got95 = False
        ent = 0.0
        n_in = 0
        for i in range(freqs.size):
            if freqs[i] >= tot_lo and freqs[i] < tot_hi:
                n_in += 1
                cum += row[i] * df
                if not got50 and cum >= 0.5 * total:
                    sef50 = freqs[i]
                    got50 = True
                if not got95 and cum >= 0.95 * total:
                    sef95 = freqs[i]
                    got95 = True
                p = row[i] * df / (total + eps)
                if p > 0.0:
                    ent -= p * np.log(p)
        out[e, k + 1] = sef50
        out[e, k + 2] = sef95
        out[e, k + 3] = ent / np.log(n_in) if n_in > 1 else 0.0


@njit
def _time_kernel(epochs, srt, mad, sfreq, out, k0):  # noqa: ANN001
    n_ep, n = epochs.shape
    eps = 1e-12
    for e in range(n_ep):
        x = epochs[e]
        m, var0, m3, m4 = central_moments(x)
        var1 = 0.0
        for i in range(n - 1):
            d = x[i + 1] - x[i]
            var1 += d * d
        var1 /= max(n - 1, 1)
        var2 = 0.0
        for i in range(n - 2):
            d = x[i + 2] - 2.0 * x[i + 1] + x[i]
            var2 += d * d
        var2 /= max(n - 2, 1)
        mob = np.sqrt(var1 / (var0 + eps))
        mob1 = np.sqrt(var2 / (var1 + eps))
        comp = mob1 / (mob + eps)
        zc = 0
        for i in range(n - 1):
            a = x[i] - m
            b = x[i + 1] - m
            if (a < 0.0 and b >= 0.0) or (a >= 0.0 and b < 0.0):
                zc += 1
        out[e, k0] = np.log10(var0 + eps)
        out[e, k0 + 1] = mob * sfreq
        out[e, k0 + 2] = comp
        out[e, k0 + 3] = zc * sfreq / n
        s = srt[e]
        p05 = _quantile_sorted(s, 0.05)
        p25 = _quantile_sorted(s, 0.25)
        p75 = _quantile_sorted(s, 0.75)
        p95 = _quantile_sorted(s, 0.95)
        out[e, k0 + 4] = np.log10(p75 - p25 + eps)
        out[e, k0 + 5] = np.log10(p95 - p05 + eps)
        out[e, k0 + 6] = np.log10(mad[e] + eps)
        out[e, k0 + 7] = m4 / (var0 * var0 + eps) - 3.0
        out[e, k0 + 8] = m3 / (var0**1.5 + eps)


@njit
def _quantile_sorted(s: np.ndarray, q: float) -> float:
    """Linear-interpolated quantile of sorted data (numpy's default 'linear' method)."""
    pos = q * (s.size - 1)
    i = int(np.floor(pos))
    if i >= s.size - 1:
        return s[s.size - 1]
    f = pos - i
    return s[i] + f * (s[i + 1] - s[i])


@njit
def _detrended_segments(epochs, step, win, out):  # noqa: ANN001
    """Mean-removed, windowed Welch segments (row by row, same numbers for any batch)."""
    n_ep, n_seg, nper = out.shape
    for e in range(n_ep):
        for s in range(n_seg):
            a = s * step
            m = 0.0
            for i in range(nper):
                m += epochs[e, a + i]
            m /= nper
            for i in range(nper):
                out[e, s, i] = (epochs[e, a + i] - m) * win[i]


@njit
def _average_periodograms(re, im, scale, even, out):  # noqa: ANN001
    """One-sided density periodograms averaged over segments."""
    n_ep, n_seg, n_f = re.shape
    for e in range(n_ep):
        for f in range(n_f):
            acc = 0.0
            for s in range(n_seg):
                acc += re[e, s, f] * re[e, s, f] + im[e, s, f] * im[e, s, f]
            v = acc * scale / n_seg
            if f > 0 and (f < n_f - 1 or not even):
                v *= 2.0
            out[e, f] = v
