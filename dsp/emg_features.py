"""Surface-EMG features over windows: Hudgins time domain, RMS, log-variance, Willison
amplitude, autoregressive coefficients and TD-PSD spectral moments.

Layout of a feature vector: channel-major, :data:`FEATURES_PER_CHANNEL` values per channel
in the order of :data:`FEATURE_NAMES` (``ch0_MAV, ch0_WL, …, ch1_MAV, …``), then one
cross-channel block ``LOGCOV``: the upper triangle of the matrix logarithm of the window's
channel covariance (log-Euclidean tangent space; off-diagonal terms times √2), which
captures the spatial pattern of a grip. Use :func:`feature_index` to pick a subset (e.g.
the Hudgins set for the LDA baseline) and :func:`n_features` for the vector length.

Every public function validates its input and calls a small private ``@njit`` kernel.
Sliding windows start at sample 0 of a stream and advance by ``increment``: window ``k``
covers samples ``[k * increment, k * increment + window)``. :class:`SlidingFeatures` gives,
whatever the chunking, exactly :func:`window_features` of every window (bit for bit); it keeps
the samples future windows need in a :class:`dsp.sample_store.SampleStore`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dsp._jit import njit
from dsp.sample_store import SampleStore

#: Order of the autoregressive model (Yule-Walker) whose coefficients are features.
AR_ORDER = 4

#: Per-channel feature names, in vector order.
FEATURE_NAMES: tuple[str, ...] = (
    "MAV",  # mean absolute value
    "WL",  # waveform length (sum |dx|)
    "ZC",  # zero crossings (with amplitude threshold)
    "SSC",  # slope sign changes (with threshold)
    "RMS",  # root mean square
    "LOGVAR",  # log of variance (log power, scale-invariant under the log)
    "WAMP",  # Willison amplitude (|dx| > threshold count)
    "LOGMAV",  # log mean absolute value
    "LOGWL",  # log waveform length per sample
    "AR1",
    "AR2",
    "AR3",
    "AR4",
    "PSD0",  # TD-PSD f1: log zeroth moment (power-normalised)
    "PSD2",  # TD-PSD f2: log (m0 - m2)
    "PSD4",  # TD-PSD f3: log (m0 - m4)
    "SPARS",  # TD-PSD f4: sparsity
    "IRF",  # TD-PSD f5: irregularity factor
    "WLR",  # TD-PSD f6: log waveform-length ratio
)
FEATURES_PER_CHANNEL = len(FEATURE_NAMES)
#: Name of the cross-channel block (log-Euclidean channel covariance).
CROSS_FEATURE = "LOGCOV"
_EPS = 1e-12
#: Eigenvalue floor of the covariance, relative to its mean eigenvalue (keeps log finite).
COV_FLOOR = 1e-6

#: The classic Hudgins set used by the field's LDA baseline.
HUDGINS: tuple[str, ...] = ("MAV", "ZC", "SSC", "WL")


def n_cross(n_channels: int) -> int:
    """Length of the cross-channel ``LOGCOV`` block."""
    return n_channels * (n_channels + 1) // 2


def n_features(n_channels: int) -> int:
    """Length of a full feature vector for ``n_channels`` channels."""
    return n_channels * FEATURES_PER_CHANNEL + n_cross(n_channels)


def feature_index(n_channels: int, names: Sequence[str]) -> np.ndarray:
    """Column indices of the named features in a full feature vector.

    Parameters
    ----------
    n_channels
        Channels the vector was computed from.
    names
        Per-channel feature names from :data:`FEATURE_NAMES` (order kept, channel-major),
        optionally :data:`CROSS_FEATURE`, whose block then follows.

    Returns
    -------
    numpy.ndarray
        Int indices.
    """
    allowed = (*FEATURE_NAMES, CROSS_FEATURE)
    bad = [n for n in names if n not in allowed]
    if bad:
        raise ValueError(f"unknown EMG feature names {bad}; allowed: {list(allowed)}")
    pos = [FEATURE_NAMES.index(n) for n in names if n != CROSS_FEATURE]
    idx = [c * FEATURES_PER_CHANNEL + p for c in range(n_channels) for p in pos]
    if CROSS_FEATURE in names:
        base = n_channels * FEATURES_PER_CHANNEL
        idx += list(range(base, base + n_cross(n_channels)))
    return np.array(idx, dtype=np.intp)


# --------------------------------------------------------------------------- kernels


@njit
def _ar_yule_walker(x: np.ndarray, order: int, out: np.ndarray) -> None:
    """AR coefficients ``a`` (x[t] ≈ sum_k a[k] x[t-k-1]) by Levinson-Durbin on the biased
    autocorrelation of the demeaned window; zeros when the window has no power."""
    _ar_into(x, order, out, np.empty(order + 1), np.empty(order), np.empty(order))


@njit
def _ar_into(
    x: np.ndarray, order: int, out: np.ndarray, r: np.ndarray, a: np.ndarray, tmp: np.ndarray
) -> None:
    """:func:`_ar_yule_walker` with caller-owned scratch ``r`` (order + 1), ``a`` and ``tmp``
    (order each), so a sliding loop allocates nothing per window."""
    n = x.shape[0]
    mean = 0.0
    for i in range(n):
        mean += x[i]
    mean /= n
    # all lags in one pass over the window; each lag still sums its terms in increasing i
    # from 0.0, so r is bit-identical to one loop per lag
    for lag in range(order + 1):
        r[lag] = 0.0
    for i in range(n):
        xi = x[i] - mean
        for lag in range(min(i, order) + 1):
            r[lag] += xi * (x[i - lag] - mean)
    for lag in range(order + 1):
        r[lag] = r[lag] / n
    for k in range(order):
        out[k] = 0.0
    if r[0] <= _EPS:
        return
    for j in range(order):
        a[j] = 0.0
        tmp[j] = 0.0
    err = r[0]
    for m in range(order):
        acc = r[m + 1]
        for j in range(m):
            acc -= a[j] * r[m - j]
        if err <= _EPS:
            break
        k = acc / err
        for j in range(m):
            tmp[j] = a[j] - k * a[m - 1 - j]
        for j in range(m):
            a[j] = tmp[j]
        a[m] = k
        err *= 1.0 - k * k
    for k in range(order):
        out[k] = a[k]


@njit
def _channel_features(
    x: np.ndarray, thr_zc: float, thr_ssc: float, thr_wamp: float, out: np.ndarray
) -> None:
    """All per-channel features of one 1-D window into ``out`` (length FEATURES_PER_CHANNEL)."""
    _channel_features_into(
        x, thr_zc, thr_ssc, thr_wamp, out,
        np.empty(AR_ORDER + 1), np.empty(AR_ORDER), np.empty(AR_ORDER),
    )


@njit
def _channel_features_into(
    x: np.ndarray,
    thr_zc: float,
    thr_ssc: float,
    thr_wamp: float,
    out: np.ndarray,
    ar_r: np.ndarray,
    ar_a: np.ndarray,
    ar_tmp: np.ndarray,
) -> None:
    """:func:`_channel_features` with the AR scratch (see :func:`_ar_into`) passed in."""
    n = x.shape[0]
    mav = 0.0
    wl = 0.0
    zc = 0.0
    ssc = 0.0
    sq = 0.0
    s = 0.0
    wamp = 0.0
    sd1 = 0.0  # sum dx^2
    sd2 = 0.0  # sum ddx^2
    wl2 = 0.0  # sum |ddx|
    for i in range(n):
        v = x[i]
        mav += abs(v)
        sq += v * v
        s += v
        if i >= 1:
            d = v - x[i - 1]
            wl += abs(d)
            sd1 += d * d
            if abs(d) > thr_wamp:
                wamp += 1.0
            if x[i - 1] * v < 0.0 and abs(d) >= thr_zc:
                zc += 1.0
        if i >= 2:
            dd = v - 2.0 * x[i - 1] + x[i - 2]
            wl2 += abs(dd)
            sd2 += dd * dd
            a = x[i - 1] - x[i - 2]
            b = x[i - 1] - v
            if a * b > 0.0 and (abs(a) >= thr_ssc or abs(b) >= thr_ssc):
                ssc += 1.0
    mav /= n
    mean = s / n
    var = sq / n - mean * mean
    if var < 0.0:
        var = 0.0
    out[0] = mav
    out[1] = wl
    out[2] = zc
    out[3] = ssc
    out[4] = np.sqrt(sq / n)
    out[5] = np.log(var + _EPS)
    out[6] = wamp
    out[7] = np.log(mav + _EPS)
    out[8] = np.log(wl / max(n - 1, 1) + _EPS)
    _ar_into(x, AR_ORDER, out[9:13], ar_r, ar_a, ar_tmp)
    # TD-PSD (Khushaba et al. 2012): moments from the signal and its derivatives, with a
    # power normalisation (v ** 0.1 / 0.1) that makes them robust to amplitude changes.
    m0 = np.sqrt(sq) ** 0.1 / 0.1
    m2 = np.sqrt(sd1) ** 0.1 / 0.1
    m4 = np.sqrt(sd2) ** 0.1 / 0.1
    d02 = abs(m0 - m2) + _EPS
    d04 = abs(m0 - m4) + _EPS
    out[13] = np.log(m0 + _EPS)
    out[14] = np.log(d02)
    out[15] = np.log(d04)
    out[16] = np.log(m0 / np.sqrt(d02 * d04) + _EPS)
    out[17] = m2 / np.sqrt(m0 * m4 + _EPS)
    out[18] = np.log((wl + _EPS) / (wl2 + _EPS))


@njit
def _logcov_kernel(w: np.ndarray, out: np.ndarray) -> None:
    """Upper triangle (row-major, off-diagonal × √2) of logm of the channel covariance."""
    _logcov_into(w, out, np.empty(w.shape), np.empty(w.shape[0]))


@njit
def _logcov_into(w: np.ndarray, out: np.ndarray, xc: np.ndarray, logs: np.ndarray) -> None:
    """:func:`_logcov_kernel` with caller-owned scratch ``xc`` (w.shape) and ``logs``
    (n_channels)."""
    n_ch, n = w.shape
    for c in range(n_ch):
        m = 0.0
        for i in range(n):
            m += w[c, i]
        m /= n
        for i in range(n):
            xc[c, i] = w[c, i] - m
    cov = (xc @ xc.T) / n
    evals, evecs = np.linalg.eigh(cov)
    floor = COV_FLOOR * max(np.trace(cov) / n_ch, _EPS)
    for k in range(n_ch):
        logs[k] = np.log(max(evals[k], floor))
    pos = 0
    sq2 = np.sqrt(2.0)
    for i in range(n_ch):
        for j in range(i, n_ch):
            s = 0.0
            for k in range(n_ch):
                s += evecs[i, k] * logs[k] * evecs[j, k]
            out[pos] = s if i == j else s * sq2
            pos += 1


@njit
def _window_features_kernel(
    w: np.ndarray, thr_zc: float, thr_ssc: float, thr_wamp: float, out: np.ndarray
) -> None:
    nf = 19
    n_ch = w.shape[0]
    for c in range(n_ch):
        _channel_features(w[c], thr_zc, thr_ssc, thr_wamp, out[c * nf : (c + 1) * nf])
    _logcov_kernel(w, out[n_ch * nf :])


@njit
def _sliding_kernel(
    x: np.ndarray,
    window: int,
    increment: int,
    thr_zc: float,
    thr_ssc: float,
    thr_wamp: float,
    out: np.ndarray,
) -> None:
    """Features of the windows starting at 0, increment, 2 * increment, … in ``x``.

    Same arithmetic as :func:`_window_features_kernel` window by window (bit-identical
    results), with the scratch arrays allocated once per call instead of per window.
    """
    nf = 19
    n_ch = x.shape[0]
    r = np.empty(AR_ORDER + 1)
    a = np.empty(AR_ORDER)
    tmp = np.empty(AR_ORDER)
    xc = np.empty((n_ch, window))
    logs = np.empty(n_ch)
    for k in range(out.shape[0]):
        s = k * increment
        row = out[k]
        for c in range(n_ch):
            _channel_features_into(
                x[c, s : s + window], thr_zc, thr_ssc, thr_wamp, row[c * nf : (c + 1) * nf],
                r, a, tmp,
            )
        _logcov_into(x[:, s : s + window], row[n_ch * nf :], xc, logs)


# --------------------------------------------------------------------------- public API


def _as_2d(x: np.ndarray, what: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{what} must be 2-D (n_channels, n_samples), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{what} contains NaN or inf; clean or gap-fill the signal first")
    return np.ascontiguousarray(arr)


def _check_thresholds(thr_zc: float, thr_ssc: float, thr_wamp: float) -> None:
    for name, v in (("thr_zc", thr_zc), ("thr_ssc", thr_ssc), ("thr_wamp", thr_wamp)):
        if not np.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be a finite value >= 0, got {v}")


def window_features(
    window: np.ndarray, thr_zc: float = 0.0, thr_ssc: float = 0.0, thr_wamp: float = 10.0
) -> np.ndarray:
    """All features of one multichannel window.

    Parameters
    ----------
    window
        ``(n_channels, n_samples)`` EMG, high-passed (no DC), n_samples >= 8.
    thr_zc, thr_ssc
        Amplitude thresholds (signal units) for zero crossings and slope sign changes.
    thr_wamp
        Willison amplitude threshold on ``|x[i] - x[i-1]|``.

    Returns
    -------
    numpy.ndarray
        ``(n_features(n_channels),)``: channel-major per-channel features, see
        :data:`FEATURE_NAMES`, then the ``LOGCOV`` block.
    """
    w = _as_2d(window, "window")
    if w.shape[1] < 8:
        raise ValueError(f"window needs at least 8 samples per channel, got {w.shape[1]}")
    _check_thresholds(thr_zc, thr_ssc, thr_wamp)
    out = np.empty(n_features(w.shape[0]))
    _window_features_kernel(w, float(thr_zc), float(thr_ssc), float(thr_wamp), out)
    return out


def n_windows(n_samples: int, window: int, increment: int) -> int:
    """How many complete windows a stream of ``n_samples`` holds."""
    if n_samples < window:
        return 0
    return (n_samples - window) // increment + 1


def _check_window(window: int, increment: int) -> None:
    if int(window) != window or window < 8:
        raise ValueError(f"window must be an integer >= 8 samples, got {window}")
    if int(increment) != increment or increment < 1:
        raise ValueError(f"increment must be an integer >= 1 sample, got {increment}")


class SlidingFeatures:
    """Streaming sliding-window features: push chunks, get the windows they complete.

    Parameters
    ----------
    n_channels
        Channels per chunk (checked on every update).
    window, increment
        Window and step in samples.
    thr_zc, thr_ssc, thr_wamp
        See :func:`window_features`.
    """

    def __init__(
        self,
        n_channels: int,
        window: int,
        increment: int,
        thr_zc: float = 0.0,
        thr_ssc: float = 0.0,
        thr_wamp: float = 10.0,
    ) -> None:
        _check_window(window, increment)
        _check_thresholds(thr_zc, thr_ssc, thr_wamp)
        if n_channels < 1:
            raise ValueError(f"n_channels must be >= 1, got {n_channels}")
        self.n_channels = int(n_channels)
        self.window = int(window)
        self.increment = int(increment)
        self.thresholds = (float(thr_zc), float(thr_ssc), float(thr_wamp))
        self.reset()

    def reset(self) -> None:
        """Forget buffered samples; the next sample is sample 0 of a new stream."""
        self._store = SampleStore(self.n_channels, max(8 * (self.window + self.increment), 1024))
        self._next_start = 0  # stream index where the next window starts

    @property
    def samples_seen(self) -> int:
        """Stream samples pushed since the last reset."""
        return self._store.end

    def update(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Push a chunk.

        Parameters
        ----------
        x
            ``(n_channels, n)`` block, n >= 0.

        Returns
        -------
        features : numpy.ndarray
            ``(n_new_windows, n_features)``.
        ends : numpy.ndarray
            Stream index one past the last sample of each new window.
        """
        arr = _as_2d(x, "chunk")
        if arr.shape[0] != self.n_channels:
            raise ValueError(
                f"chunk has {arr.shape[0]} channels, this extractor expects {self.n_channels}"
            )
        self._store.append(arr)
        end = self._store.end
        nw = n_windows(end - self._next_start, self.window, self.increment)
        out = np.empty((nw, n_features(self.n_channels)))
        if nw:
            x_new = self._store.window(self._next_start, end)
            _sliding_kernel(x_new, self.window, self.increment, *self.thresholds, out)
        first_end = self._next_start + self.window
        self._next_start += nw * self.increment
        self._store.release(self._next_start)  # no future window starts before it
        ends = np.arange(first_end, first_end + nw * self.increment, self.increment,
                         dtype=np.int64)
        return out, ends
