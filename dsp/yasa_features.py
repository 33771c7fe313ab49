"""YASA's per-epoch sleep-staging features, recomputed without yasa/antropy/pandas.

YASA's pre-trained LightGBM sleep stagers (Vallat & Walker 2021, eLife 10:e70092, BSD-3)
take, per 30-s epoch and per channel kind (eeg, eog, emg), a small set of features computed in
``yasa.SleepStaging.fit`` (yasa 0.8.1, antropy 0.2.3). This module computes the same numbers
from the same band-passed epochs, so the classifiers can run on the device without yasa:

* ``std`` (ddof=1), ``iqr`` (``np.quantile`` linear interpolation, 75 % - 25 %),
  ``skew`` and ``kurt`` (Fisher, biased central moments, as YASA computes them);
* ``nzc`` (``antropy.num_zerocross``: sign-bit changes, -0.0 counts as negative);
* ``hmob``, ``hcomp`` (``antropy.hjorth_params``, population variances, mobility per sample);
* ``perm`` (``antropy.perm_entropy(order=3, delay=1, normalize=True)``: ordinal patterns from
  ``<=`` comparisons, base-2 entropy divided by log2(3!), clipped to [0, 1]);
* ``higuchi`` (``antropy.higuchi_fd``, kmax=10, including its 1e-9 in the regression);
* ``petrosian`` (``antropy.petrosian_fd``);
* Welch PSD as ``scipy.signal.welch(window="hamming", nperseg=int(5*sfreq), average="median")``
  (periodic Hamming window, 50 % overlap, constant detrend, density scaling, one-sided, median of
  the segment periodograms divided by scipy's median bias);
* relative band powers (``yasa.bandpower_from_psd_ndarray`` default ``relative=True``: Simpson's
  rule as ``scipy.integrate.simpson``, divided by the Simpson power over 0.4–30 Hz): ``sdelta``
  0.4–1, ``fdelta`` 1–4, ``theta`` 4–8, ``alpha`` 8–12, ``sigma`` 12–16, ``beta`` 16–30 Hz
  (eeg and eog only);
* ratios ``dt`` = (sdelta+fdelta)/theta, ``ds`` = .../sigma, ``db`` = .../beta,
  ``at`` = alpha/theta (eeg only);
* ``abspow``: trapezoid of the PSD over 0.4–30 Hz (all kinds).

Flat (constant) epochs give the same NaN/inf values as YASA (e.g. ``skew`` = NaN, ``petrosian``
= 1), without warnings or exceptions.

The FFT is numpy's; the time-domain features and the band integrals are small ``@njit`` kernels.
YASA then down-casts to float32; this module returns float64 (equal to YASA's float64 values to
~1e-12 relative, measured in ``tests/dsp/test_yasa_features.py``).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from dsp._jit import njit
from dsp.design import general_hamming
from dsp.moments import central_moments
from dsp.validation import check_finite, positive_rate

#: Channel kinds YASA's stager knows, in the order YASA concatenates them.
YASA_KINDS: tuple[str, ...] = ("eeg", "eog", "emg")

#: YASA's frequency bands (name, low Hz, high Hz), both ends inclusive.
YASA_BANDS: tuple[tuple[str, float, float], ...] = (
    ("sdelta", 0.4, 1.0),
    ("fdelta", 1.0, 4.0),
    ("theta", 4.0, 8.0),
    ("alpha", 8.0, 12.0),
    ("sigma", 12.0, 16.0),
    ("beta", 16.0, 30.0),
)
#: Broad band of YASA's band-pass and of ``abspow`` (Hz).
YASA_BROAD: tuple[float, float] = (0.4, 30.0)
#: Welch segment length (s) YASA uses.
WELCH_SECONDS: float = 5.0
#: Lowest sampling rate accepted: the 16–30 Hz band must lie below Nyquist.
MIN_SFREQ: float = 60.0

# Internal column order of the kernels' output (all kinds); the public order is per kind.
_TIME_COLS = ("std", "iqr", "skew", "kurt", "nzc", "hmob", "hcomp", "perm", "higuchi", "petrosian")
_BAND_COLS = tuple(b for b, _, _ in YASA_BANDS)
_RATIO_COLS = ("dt", "ds", "db", "at")
_ALL_COLS = _TIME_COLS + _BAND_COLS + _RATIO_COLS + ("abspow",)
_TIME_ONLY = set(_TIME_COLS) | {"abspow"}

_NAMES: dict[str, tuple[str, ...]] = {
    "eeg": tuple(sorted(_ALL_COLS)),
    "eog": tuple(sorted(_TIME_ONLY | set(_BAND_COLS))),
    "emg": tuple(sorted(_TIME_ONLY)),
}
_COL_INDEX: dict[str, np.ndarray] = {
    kind: np.array([_ALL_COLS.index(n) for n in names], dtype=np.intp) for kind, names in _NAMES.items()
}


def _check_kind(kind: object) -> str:
    if not isinstance(kind, str) or kind not in YASA_KINDS:
        raise ValueError(f"kind must be one of {YASA_KINDS}, got {kind!r}")
    return kind


def yasa_feature_names(kind: str) -> tuple[str, ...]:
    """YASA's per-epoch feature names of one channel kind, without the ``"<kind>_"`` prefix.

    Parameters
    ----------
    kind
        One of :data:`YASA_KINDS`.

    Returns
    -------
    tuple of str
        Names in alphabetical order (the order of YASA's columns and of the classifiers'
        ``feature_name_``); the columns of :func:`yasa_epoch_features`.

    Raises
    ------
    ValueError
        Unknown ``kind``.
    """
    return _NAMES[_check_kind(kind)]


def yasa_epoch_features(epochs: np.ndarray, sfreq: float, kind: str) -> np.ndarray:
    """YASA's per-epoch features of band-passed epochs of one channel.

    Parameters
    ----------
    epochs
        ``(n_epochs, n_samples)`` in µV, already band-passed 0.4–30 Hz (YASA filters the whole
        recording with ``mne.filter.filter_data(l_freq=0.4, h_freq=30)`` before epoching).
        Normally 30-s epochs at 100 Hz; any length of at least 5 s works.
    sfreq
        Sampling rate in Hz, >= :data:`MIN_SFREQ` (YASA itself works at 100 Hz).
    kind
        Channel kind, one of :data:`YASA_KINDS`.

    Returns
    -------
    numpy.ndarray
        ``(n_epochs, len(yasa_feature_names(kind)))`` float64, columns in the order of
        :func:`yasa_feature_names`. Each row depends on its own epoch only.

    Raises
    ------
    ValueError
        Unknown ``kind``; ``epochs`` not 2-D real numeric or containing NaN/inf; ``sfreq`` not a
        rate >= 60 Hz; epochs shorter than 5 s.
    """
    kind = _check_kind(kind)
    x = _as_epochs(epochs, sfreq)
    fs = float(sfreq)
    out = np.empty((x.shape[0], len(_ALL_COLS)), dtype=np.float64)
    if x.shape[0]:
        _time_features(x, out)
        _, psd = welch_median_psd(x, fs)  # every kind needs it (abspow)
        _spectral_into(fs, psd, out)
    return np.ascontiguousarray(out[:, _COL_INDEX[kind]])


def _as_epochs(epochs: object, sfreq: object) -> np.ndarray:
    arr = np.asarray(epochs)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"epochs must be a real numeric array, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"epochs must be 2-D with shape (n_epochs, n_samples), got shape {arr.shape}")
    fs = positive_rate(sfreq)
    if fs < MIN_SFREQ:
        raise ValueError(f"sfreq must be >= {MIN_SFREQ} Hz (YASA's bands reach 30 Hz), got {sfreq!r}")
    need = int(WELCH_SECONDS * fs)
    if arr.shape[1] < need:
        raise ValueError(
            f"epochs must hold at least {WELCH_SECONDS:g} s = {need} samples at {fs:g} Hz "
            f"(one Welch segment), got {arr.shape[1]} samples"
        )
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    check_finite(arr, "epochs")
    return arr


# --------------------------------------------------------------------------- spectral part


def welch_median_psd(epochs: np.ndarray, sfreq: float) -> tuple[np.ndarray, np.ndarray]:
    """Median-averaged Welch PSD of each epoch, as YASA calls ``scipy.signal.welch``.

    ``window="hamming"`` (periodic), ``nperseg=int(5*sfreq)``, ``noverlap=nperseg//2``,
    constant detrend, density scaling, one-sided, ``average="median"`` (divided by scipy's
    median bias). Trailing samples that do not fill a segment are ignored, as scipy does.

    Parameters
    ----------
    epochs
        ``(n_epochs, n_samples)`` float64, C-contiguous, ``n_samples >= int(5*sfreq)``
        (not re-validated here).
    sfreq
        Sampling rate (Hz).

    Returns
    -------
    freqs : numpy.ndarray
        ``(nperseg // 2 + 1,)`` frequencies (Hz).
    psd : numpy.ndarray
        ``(n_epochs, nperseg // 2 + 1)`` in µV²/Hz.
    """
    nperseg = int(WELCH_SECONDS * sfreq)
    step = nperseg - nperseg // 2
    n_seg = (epochs.shape[1] - nperseg) // step + 1
    win, scale, freqs = _welch_window(nperseg, float(sfreq))
    seg = np.empty((epochs.shape[0], n_seg, nperseg))
    _windowed_segments(epochs, step, win, seg)
    spec = np.fft.rfft(seg, axis=-1)
    per = spec.real * spec.real + spec.imag * spec.imag
    per *= scale
    if nperseg % 2:
        per[..., 1:] *= 2.0
    else:
        per[..., 1:-1] *= 2.0
    # np.median over the segments, by partition (numpy's own median does the same, slower)
    mid = n_seg // 2
    if n_seg % 2:
        med = np.partition(per, mid, axis=1)[:, mid]
    else:
        part = np.partition(per, (mid - 1, mid), axis=1)
        med = (part[:, mid - 1] + part[:, mid]) / 2.0
    return freqs, med / _median_bias(n_seg)


@njit
def _windowed_segments(x: np.ndarray, step: int, win: np.ndarray, seg: np.ndarray) -> None:
    """Welch segments of each row, mean removed ("constant" detrend) and windowed, into ``seg``.

    A loop per segment (not a numpy reduction over a 3-D array, whose summation order depends
    on the batch shape) keeps every epoch's numbers independent of the other epochs.
    """
    n_ep, n_seg, nperseg = seg.shape
    for e in range(n_ep):
        for s in range(n_seg):
            start = s * step
            mean = 0.0
            for i in range(nperseg):
                mean += x[e, start + i]
            mean /= nperseg
            for i in range(nperseg):
                seg[e, s, i] = (x[e, start + i] - mean) * win[i]


@functools.lru_cache(maxsize=8)
def _welch_window(nperseg: int, sfreq: float) -> tuple[np.ndarray, float, np.ndarray]:
    """Periodic Hamming window, density scale and frequencies of one segment length (cached)."""
    win = general_hamming(nperseg, 0.54, sym=False)  # scipy's periodic 'hamming'
    win.setflags(write=False)
    freqs = np.fft.rfftfreq(nperseg, 1.0 / sfreq)
    freqs.setflags(write=False)
    return win, 1.0 / (sfreq * float((win * win).sum())), freqs


@functools.lru_cache(maxsize=64)
def _median_bias(n: int) -> float:
    """scipy's bias of the median of ``n`` periodograms relative to their mean."""
    ii_2 = 2.0 * np.arange(1.0, (n - 1) // 2 + 1)
    return float(1.0 + np.sum(1.0 / (ii_2 + 1.0) - 1.0 / ii_2))


@functools.lru_cache(maxsize=8)
def _band_plan(nperseg: int, sfreq: float) -> tuple[np.ndarray, float, int, int, float]:
    """:func:`_band_slices` of one segment length (cached)."""
    return _band_slices(_welch_window(nperseg, sfreq)[2])


def _band_slices(freqs: np.ndarray) -> tuple[np.ndarray, float, int, int, float]:
    """Index ranges of YASA's bands and of the broad band, with YASA's frequency steps.

    Returns ``(bounds, res, broad_lo, broad_hi, dx)``: ``bounds[j] = (start, stop)`` of band j
    (rows 0..5) and of the total-power range (row 6) in ``freqs``; ``res`` the step YASA's
    band integration uses (difference of the first two bins >= 0.4 Hz); ``dx`` the step of
    ``abspow`` (``freqs[1] - freqs[0]``).
    """
    fmin = min(b[1] for b in YASA_BANDS)
    fmax = max(b[2] for b in YASA_BANDS)
    ranges = [(lo, hi) for _, lo, hi in YASA_BANDS] + [(fmin, fmax)]
    bounds = np.empty((len(ranges), 2), dtype=np.int64)
    for j, (lo, hi) in enumerate(ranges):
        sel = np.flatnonzero((freqs >= lo) & (freqs <= hi))
        if sel.size < 2:
            raise ValueError(f"band {lo}-{hi} Hz holds fewer than 2 PSD bins at this sampling rate")
        bounds[j] = sel[0], sel[-1] + 1
    t0 = bounds[-1, 0]
    res = float(freqs[t0 + 1] - freqs[t0])
    broad = np.flatnonzero((freqs >= YASA_BROAD[0]) & (freqs <= YASA_BROAD[1]))
    return bounds, res, int(broad[0]), int(broad[-1] + 1), float(freqs[1] - freqs[0])


def _spectral_into(sfreq: float, psd: np.ndarray, out: np.ndarray) -> None:
    bounds, res, b_lo, b_hi, dx = _band_plan(int(WELCH_SECONDS * sfreq), sfreq)
    _band_features(np.ascontiguousarray(psd), bounds, res, b_lo, b_hi, dx, out, len(_TIME_COLS))


@njit
def _simpson(y: np.ndarray, start: int, stop: int, dx: float) -> float:
    """``scipy.integrate.simpson(y[start:stop], dx=dx)`` (scipy >= 1.11 rule for even counts)."""
    n = stop - start
    if n < 2:
        return 0.0
    if n == 2:
        return 0.5 * dx * (y[start] + y[start + 1])
    last = stop - 1 if n % 2 == 0 else stop  # odd-count part: [start, last)
    acc = 0.0
    for i in range(start, last - 2, 2):
        acc += y[i] + 4.0 * y[i + 1] + y[i + 2]
    acc *= dx / 3.0
    if n % 2 == 0:
        alpha = (2.0 * dx * dx + 3.0 * dx * dx) / (6.0 * (dx + dx))
        beta = (dx * dx + 3.0 * dx * dx) / (6.0 * dx)
        eta = dx * dx * dx / (6.0 * dx * (dx + dx))
        acc += alpha * y[stop - 1] + beta * y[stop - 2] - eta * y[stop - 3]
    return acc


@njit
def _ieee_div(a: float, b: float) -> float:
    """``a / b`` with numpy's IEEE results for ``b == 0`` (inf or NaN, never an exception)."""
    if b != 0.0:
        return a / b
    if a != a or a == 0.0:
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


@njit
def _band_features(psd: np.ndarray, bounds: np.ndarray, res: float, b_lo: int, b_hi: int, dx: float,
                   out: np.ndarray, col0: int) -> None:
    """Relative band powers, ratios and ``abspow`` of each PSD row into ``out[:, col0:]``."""
    n_bands = bounds.shape[0] - 1
    for e in range(psd.shape[0]):
        row = psd[e]
        total = _simpson(row, bounds[n_bands, 0], bounds[n_bands, 1], res)
        for j in range(n_bands):
            out[e, col0 + j] = _ieee_div(_simpson(row, bounds[j, 0], bounds[j, 1], res), total)
        sdelta = out[e, col0]
        fdelta = out[e, col0 + 1]
        theta = out[e, col0 + 2]
        alpha = out[e, col0 + 3]
        sigma = out[e, col0 + 4]
        beta = out[e, col0 + 5]
        delta = sdelta + fdelta
        out[e, col0 + 6] = _ieee_div(delta, theta)
        out[e, col0 + 7] = _ieee_div(delta, sigma)
        out[e, col0 + 8] = _ieee_div(delta, beta)
        out[e, col0 + 9] = _ieee_div(alpha, theta)
        acc = 0.0
        for i in range(b_lo, b_hi - 1):
            acc += dx * (row[i + 1] + row[i]) / 2.0
        out[e, col0 + 10] = acc


# ----------------------------------------------------------------------- time-domain part


@njit
def _signbit(v: float) -> bool:
    return math.copysign(1.0, v) < 0.0


@njit
def _select(a: np.ndarray, lo: int, hi: int, k: int) -> float:
    """Place the k-th smallest of ``a[lo:hi]`` at ``a[k]``, smaller-or-equal values before it and
    larger-or-equal after it (Hoare-partition quickselect, median-of-three pivot); return it."""
    hi -= 1
    while hi > lo:
        mid = (lo + hi) // 2
        p0 = a[lo]
        p1 = a[mid]
        p2 = a[hi]
        pivot = max(min(p0, p1), min(max(p0, p1), p2))
        i = lo
        j = hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                t = a[i]
                a[i] = a[j]
                a[j] = t
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            break
    return a[k]


@njit
def _quantile_pair(a: np.ndarray, lo: int, q: float) -> tuple[float, int]:
    """``np.quantile(a, q)`` (method "linear", numpy's arithmetic) by selection, reordering ``a``.

    ``a[lo:]`` must hold the order statistics from ``lo`` on (``lo = 0`` for a fresh array, or
    the index returned by an earlier call with a smaller ``q``). Returns the quantile and the
    index from which a later call may continue.
    """
    n = a.shape[0]
    virtual = n * q + (1.0 + q * (1.0 - 1.0 - 1.0)) - 1.0
    below = math.floor(virtual)
    gamma = virtual - below
    i = int(below)
    if i < 0:
        i, gamma = 0, 0.0
    if i >= n - 1:
        return _select(a, lo, n, n - 1), n - 1
    x0 = _select(a, lo, n, i)
    x1 = a[i + 1]
    for m in range(i + 2, n):
        if a[m] < x1:
            x1 = a[m]
    diff = x1 - x0
    if gamma >= 0.5:
        return x1 - diff * (1.0 - gamma), i + 1
    return x0 + diff * gamma, i + 1


@njit
def _perm_entropy3(x: np.ndarray) -> float:
    """Normalised order-3, delay-1 permutation entropy (antropy's ``<=`` ordinal patterns)."""
    counts = np.zeros(8, dtype=np.int64)
    n_embed = x.shape[0] - 2
    for i in range(n_embed):
        a = x[i]
        b = x[i + 1]
        c = x[i + 2]
        key = (4 if a <= b else 0) | (2 if a <= c else 0) | (1 if b <= c else 0)
        counts[key] += 1
    h = 0.0
    for k in range(8):
        if counts[k] > 0:
            p = counts[k] / n_embed
            h -= p * math.log2(p)
    h /= math.log2(6.0)
    return min(max(h, 0.0), 1.0)


@njit
def _higuchi(x: np.ndarray, kmax: int) -> float:
    """antropy's Higuchi fractal dimension (same loops, same 1e-9 in the regression)."""
    n_times = x.shape[0]
    sx2 = 0.0
    sx = 0.0
    sy = 0.0
    sxy = 0.0
    for k in range(1, kmax + 1):
        m_lm = 0.0
        for m in range(k):
            ll = 0.0
            n_max = int(math.floor((n_times - m - 1) / k))
            for j in range(1, n_max + 1):
                ll += abs(x[m + j * k] - x[m + (j - 1) * k])
            ll /= k
            ll *= (n_times - 1) / (k * n_max)
            m_lm += ll
        m_lm /= k
        xr = math.log(1.0 / k)
        yr = math.log(m_lm) if m_lm > 0 else -math.inf
        sx2 += xr**2
        sx += xr
        sxy += xr * yr
        sy += yr
    den = kmax * sx2 - sx**2
    num = kmax * sxy - sx * sy
    return num / (den + 1e-9)


@njit
def _time_features(x: np.ndarray, out: np.ndarray) -> None:
    """Columns std, iqr, skew, kurt, nzc, hmob, hcomp, perm, higuchi, petrosian of each row."""
    n_ep, n = x.shape
    buf = np.empty(n)
    for e in range(n_ep):
        row = x[e]
        _, m2, m3, m4 = central_moments(row)
        out[e, 0] = math.sqrt(m2 * n / (n - 1))
        buf[:] = row
        q25, nxt = _quantile_pair(buf, 0, 0.25)
        q75, nxt = _quantile_pair(buf, nxt, 0.75)
        out[e, 1] = q75 - q25
        out[e, 2] = _ieee_div(m3, m2**1.5)
        out[e, 3] = _ieee_div(m4, m2**2) - 3.0
        # zero crossings of x and of its first difference; Hjorth variances of the differences
        nzc = 0
        nzc_d = 0
        d1_sum = 0.0
        d2_sum = 0.0
        prev_d = row[1] - row[0]
        for i in range(n - 1):
            if _signbit(row[i]) != _signbit(row[i + 1]):
                nzc += 1
            d = row[i + 1] - row[i]
            d1_sum += d
            if i > 0:
                if _signbit(prev_d) != _signbit(d):
                    nzc_d += 1
                d2_sum += d - prev_d
            prev_d = d
        d1_mean = d1_sum / (n - 1)
        d2_mean = d2_sum / (n - 2)
        d1_var = 0.0
        d2_var = 0.0
        prev_d = row[1] - row[0]
        for i in range(n - 1):
            d = row[i + 1] - row[i]
            t = d - d1_mean
            d1_var += t * t
            if i > 0:
                t = (d - prev_d) - d2_mean
                d2_var += t * t
            prev_d = d
        d1_var /= n - 1
        d2_var /= n - 2
        out[e, 4] = nzc
        mob = math.sqrt(_ieee_div(d1_var, m2))
        out[e, 5] = mob
        out[e, 6] = _ieee_div(math.sqrt(_ieee_div(d2_var, d1_var)), mob)
        out[e, 7] = _perm_entropy3(row)
        out[e, 8] = _higuchi(row, 10)
        log_n = math.log10(n)
        out[e, 9] = log_n / (log_n + math.log10(n / (n + 0.4 * nzc_d)))


# --------------------------------------------------------------------------------- benchmark


def bench_yasa_features(n_epochs: int = 120, repeats: int = 5, sfreq: float = 100.0) -> dict[str, float]:
    """Time :func:`yasa_epoch_features` on random 30-s epochs (µs per epoch, best of ``repeats``).

    Returns a dict with the per-epoch time of a batch call and of single-epoch calls (the
    streaming case), for eeg (the most features), and whether numba is active.
    """
    import time

    from dsp._jit import JIT_DISABLED

    rng = np.random.default_rng(0)
    x = rng.standard_normal((n_epochs, int(30 * sfreq))) * 20.0
    yasa_epoch_features(x[:1], sfreq, "eeg")  # compile
    best_batch = math.inf
    best_single = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        yasa_epoch_features(x, sfreq, "eeg")
        best_batch = min(best_batch, (time.perf_counter() - t0) / n_epochs)
        t0 = time.perf_counter()
        for e in range(n_epochs):
            yasa_epoch_features(x[e:e + 1], sfreq, "eeg")
        best_single = min(best_single, (time.perf_counter() - t0) / n_epochs)
    return {
        "sfreq": sfreq,
        "n_samples": int(30 * sfreq),
        "n_epochs": n_epochs,
        "us_per_epoch_batch": best_batch * 1e6,
        "us_per_epoch_single": best_single * 1e6,
        "jit": not JIT_DISABLED,
    }


if __name__ == "__main__":  # pragma: no cover
    import json

    print(json.dumps(bench_yasa_features()))
