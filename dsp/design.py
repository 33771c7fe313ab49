"""Filter and window design without scipy: the few designs the device needs, done once.

The device process used to import ``scipy.signal`` (≈ 65 MB resident) for a handful of
one-time designs. This module computes the same coefficients with numpy alone, following
scipy's algorithms step by step (same operations in the same order), so the results equal
scipy's to the last bit on the platforms we measured (the reference tests compare against
scipy with a tolerance of a few ulp, and exactly for the designs the default config uses):

* :func:`butter_sos` — ``scipy.signal.butter(order, wn, btype, fs=fs, output="sos")``
  (low-, high- and band-pass);
* :func:`notch_sos` — ``scipy.signal.tf2sos(*scipy.signal.iirnotch(f0, q, fs=fs))``;
* :func:`unit_step_zi` — ``scipy.signal.sosfilt_zi(sos)``;
* :func:`sos_response` — ``scipy.signal.sosfreqz(sos, worN=freqs, fs=fs)[1]``;
* :func:`firwin_kaiser` — ``scipy.signal.firwin(numtaps, cutoff, window=("kaiser", beta))``;
* :func:`general_hamming`, :func:`kaiser` — the windows of ``scipy.signal.windows``
  (``hann`` is ``general_hamming(m, 0.5)``, ``hamming`` is ``general_hamming(m, 0.54)``).

Algorithms after SciPy (BSD-3-Clause) and, for the Bessel function I0, Cephes.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "butter_sos",
    "firwin_kaiser",
    "general_hamming",
    "kaiser",
    "notch_sos",
    "sos_response",
    "unit_step_zi",
]

#: Butterworth band types :func:`butter_sos` designs.
BTYPES: tuple[str, ...] = ("lowpass", "highpass", "bandpass")

#: Cephes' Chebyshev coefficients of ``exp(-x) I0(x)`` on [0, 8].
_I0_A = (
    -4.4153416464793395e-18, 3.3307945188222384e-17, -2.431279846547955e-16,
    1.715391285555133e-15, -1.1685332877993451e-14, 7.676185498604936e-14,
    -4.856446783111929e-13, 2.95505266312964e-12, -1.726826291441556e-11,
    9.675809035373237e-11, -5.189795601635263e-10, 2.6598237246823866e-09,
    -1.300025009986248e-08, 6.046995022541919e-08, -2.670793853940612e-07,
    1.1173875391201037e-06, -4.4167383584587505e-06, 1.6448448070728896e-05,
    -5.754195010082104e-05, 0.00018850288509584165, -0.0005763755745385824,
    0.0016394756169413357, -0.004324309995050576, 0.010546460394594998,
    -0.02373741480589947, 0.04930528423967071, -0.09490109704804764,
    0.17162090152220877, -0.3046826723431984, 0.6767952744094761,
)
#: Cephes' Chebyshev coefficients of ``exp(-x) sqrt(x) I0(x)`` on (8, inf), in ``32/x - 2``.
_I0_B = (
    -7.233180487874754e-18, -4.830504485944182e-18, 4.46562142029676e-17,
    3.461222867697461e-17, -2.8276239805165836e-16, -3.425485619677219e-16,
    1.7725601330565263e-15, 3.8116806693526224e-15, -9.554846698828307e-15,
    -4.150569347287222e-14, 1.54008621752141e-14, 3.8527783827421426e-13,
    7.180124451383666e-13, -1.7941785315068062e-12, -1.3215811840447713e-11,
    -3.1499165279632416e-11, 1.1889147107846439e-11, 4.94060238822497e-10,
    3.3962320257083865e-09, 2.266668990498178e-08, 2.0489185894690638e-07,
    2.8913705208347567e-06, 6.889758346916825e-05, 0.0033691164782556943,
    0.8044904110141088,
)


# --------------------------------------------------------------------------- IIR design


def butter_sos(order: int, wn: float | tuple[float, float], btype: str, fs: float) -> np.ndarray:
    """Digital Butterworth filter as second-order sections.

    Parameters
    ----------
    order
        Filter order (a band-pass has ``2 * order`` poles).
    wn
        Cut-off in Hz (low- and high-pass) or the ``(low, high)`` band edges (band-pass),
        strictly between 0 and ``fs / 2``; callers validate (see :mod:`dsp.filters`).
    btype
        One of :data:`BTYPES`.
    fs
        Sampling rate in Hz.

    Returns
    -------
    numpy.ndarray
        ``(n_sections, 6)`` float64, as ``scipy.signal.butter(..., output="sos")``.
    """
    if btype not in BTYPES:
        raise ValueError(f"btype must be one of {BTYPES}, got {btype!r}")
    edges = np.asarray(wn, dtype=np.float64) / (fs / 2)
    if np.any(edges <= 0) or np.any(edges >= 1):
        raise ValueError(f"Butterworth edges must be 0 < f < fs/2 (fs={fs} -> fs/2={fs / 2})")
    # analog prototype: no zeros, poles on the unit circle's left half
    z = np.asarray([], dtype=np.float64)
    m = np.arange(-order + 1, order, 2, dtype=np.float64)
    p = -np.exp(1j * np.pi * m / (2 * order))
    k = 1.0
    warped = 2 * 2.0 * np.tan(np.pi * edges / 2.0)  # pre-warped, at fs = 2
    if btype == "lowpass":
        z, p, k = _lp2lp(z, p, k, float(warped.item()))
    elif btype == "highpass":
        z, p, k = _lp2hp(z, p, k, float(warped.item()))
    else:
        z, p, k = _lp2bp(z, p, k, wo=float(np.sqrt(warped[0] * warped[1])),
                         bw=float(warped[1] - warped[0]))
    return _zpk2sos(*_bilinear(z, p, k, 2.0))


def notch_sos(f0: float, q: float, fs: float) -> np.ndarray:
    """Second-order IIR notch at ``f0`` Hz with quality factor ``q``, as one section.

    Equals ``scipy.signal.tf2sos(*scipy.signal.iirnotch(f0, q, fs=fs))``; ``0 < f0 < fs / 2``.
    """
    w0 = 2 * float(f0) / fs
    if w0 > 1.0 or w0 < 0.0:
        raise ValueError("w0 should be such that 0 < w0 < 1")
    bw = w0 / float(q) * np.pi
    w0 = w0 * np.pi
    beta = math.tan(bw / 2.0)
    gain = 1.0 / (1.0 + beta)
    b = gain * np.asarray([1.0, -2.0 * math.cos(w0), 1.0])
    a = np.asarray([1.0, -2.0 * gain * math.cos(w0), (2.0 * gain - 1.0)])
    return _zpk2sos(*_tf2zpk(b, a))


def unit_step_zi(sos: np.ndarray) -> np.ndarray:
    """``(n_sections, 2)`` state of a cascade at rest after a unit step (``sosfilt_zi``)."""
    sos = np.asarray(sos, dtype=np.float64)
    zi = np.empty((sos.shape[0], 2), dtype=sos.dtype)
    scale = 1.0
    for section in range(sos.shape[0]):
        b = sos[section, :3]
        a = sos[section, 3:]
        zi[section, ...] = scale * _lfilter_zi(b, a)
        scale *= np.sum(b) / np.sum(a)
    return zi


def sos_response(sos: np.ndarray, freqs: np.ndarray, fs: float) -> np.ndarray:
    """Complex frequency response of a cascade at ``freqs`` Hz (``sosfreqz(..., worN=freqs)``)."""
    sos = np.asarray(sos, dtype=np.float64)
    w = np.atleast_1d(np.asarray(freqs, dtype=np.float64))
    w = 2 * np.pi * w / fs
    zm1 = np.exp(-1j * w)
    h: np.ndarray | float = 1.0
    for row in sos:
        h = h * (_polyval(zm1, row[:3]) / _polyval(zm1, row[3:]))
    return np.asarray(h)


# --------------------------------------------------------------------------- FIR design and windows


def firwin_kaiser(numtaps: int, cutoff: float, beta: float) -> np.ndarray:
    """Linear-phase low-pass FIR: Kaiser-windowed sinc with unit gain at DC.

    Parameters
    ----------
    numtaps
        Number of taps (odd or even).
    cutoff
        Cut-off as a fraction of the Nyquist frequency, ``0 < cutoff < 1``.
    beta
        Kaiser window shape.

    Returns
    -------
    numpy.ndarray
        ``scipy.signal.firwin(numtaps, cutoff, window=("kaiser", beta))``.
    """
    if not 0 < cutoff < 1:
        raise ValueError(f"cutoff must be a fraction of Nyquist in (0, 1), got {cutoff!r}")
    alpha = 0.5 * (numtaps - 1)
    m = np.arange(0, numtaps, dtype=np.float64) - alpha
    right = np.float64(cutoff)
    h = right * np.sinc(right * m)
    h *= kaiser(numtaps, beta)
    h /= np.sum(h)  # scipy scales by sum(h * cos(0)) = sum(h): gain 1 at DC
    return h


def general_hamming(m: int, alpha: float, sym: bool = True) -> np.ndarray:
    """Generalised Hamming window ``alpha - (1 - alpha) cos`` (``sym=False``: periodic, for FFTs)."""
    if m <= 1:
        return np.ones(m, dtype=np.float64)
    n = m if sym else m + 1
    a = np.asarray([alpha, 1.0 - alpha], dtype=np.float64)
    fac = np.linspace(-np.pi, np.pi, n, dtype=np.float64)
    w = np.zeros(n, dtype=np.float64)
    for k in range(a.shape[0]):
        w += a[k] * np.cos(k * fac)
    return w if sym else w[:-1]


def kaiser(m: int, beta: float, sym: bool = True) -> np.ndarray:
    """Kaiser window of ``m`` points and shape ``beta`` (``sym=False``: periodic)."""
    if m <= 1:
        return np.ones(m, dtype=np.float64)
    n_pts = m if sym else m + 1
    n = np.arange(0, n_pts, dtype=np.float64)
    alpha = (n_pts - 1) / 2.0
    arg = beta * np.sqrt(1 - ((n - alpha) / alpha) ** 2.0)
    w = np.array([_i0(float(v)) for v in arg]) / _i0(float(beta))
    return w if sym else w[:-1]


# --------------------------------------------------------------------------- internals


def _i0(x: float) -> float:
    """Modified Bessel function of the first kind, order 0 (Cephes ``i0``)."""
    x = abs(x)
    if x <= 8.0:
        return math.exp(x) * _chbevl(x / 2.0 - 2.0, _I0_A)
    return math.exp(x) * _chbevl(32.0 / x - 2.0, _I0_B) / math.sqrt(x)


def _chbevl(x: float, coef: tuple[float, ...]) -> float:
    """Cephes' Chebyshev series evaluation (Clenshaw)."""
    b0, b1, b2 = coef[0], 0.0, 0.0
    for c in coef[1:]:
        b2 = b1
        b1 = b0
        b0 = x * b1 - b2 + c
    return 0.5 * (b0 - b2)


def _polyval(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Horner evaluation of ``c[0] x^(n-1) + … + c[-1]`` at complex ``x``."""
    c0 = np.broadcast_to(np.asarray(c[-1], dtype=x.dtype), x.shape)
    for i in range(2, c.shape[0] + 1):
        c0 = c[-i] + c0 * x
    return c0


def _lp2lp(z: np.ndarray, p: np.ndarray, k: float, wo: float) -> tuple[np.ndarray, np.ndarray, float]:
    degree = p.shape[0] - z.shape[0]
    return wo * z, wo * p, k * wo**degree


def _lp2hp(z: np.ndarray, p: np.ndarray, k: float, wo: float) -> tuple[np.ndarray, np.ndarray, float]:
    degree = p.shape[0] - z.shape[0]
    z_hp = np.concatenate((wo / z, np.zeros(degree)))
    return z_hp, wo / p, k * np.real(np.prod(-z) / np.prod(-p))


def _lp2bp(z: np.ndarray, p: np.ndarray, k: float, *, wo: float,
           bw: float) -> tuple[np.ndarray, np.ndarray, float]:
    degree = p.shape[0] - z.shape[0]
    z_lp = (z * bw / 2).astype(np.complex128)
    p_lp = (p * bw / 2).astype(np.complex128)
    z_bp = np.concatenate((z_lp + np.sqrt(z_lp**2 - wo**2), z_lp - np.sqrt(z_lp**2 - wo**2)))
    p_bp = np.concatenate((p_lp + np.sqrt(p_lp**2 - wo**2), p_lp - np.sqrt(p_lp**2 - wo**2)))
    return np.concatenate((z_bp, np.zeros(degree))), p_bp, k * bw**degree


def _bilinear(z: np.ndarray, p: np.ndarray, k: float,
              fs: float) -> tuple[np.ndarray, np.ndarray, float]:
    degree = p.shape[0] - z.shape[0]
    fs2 = 2.0 * fs
    z_z = np.concatenate(((fs2 + z) / (fs2 - z), -np.ones(degree)))
    p_z = (fs2 + p) / (fs2 - p)
    return z_z, p_z, k * np.real(np.prod(fs2 - z) / np.prod(fs2 - p))


def _tf2zpk(b: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Zeros, poles and gain of ``b / a`` (both 1-D, ``a[0] != 0``)."""
    b, a = b / a[0], a / a[0]
    k = b[0]
    return np.roots(b / b[0]), np.roots(a), k


def _poly(zeros: np.ndarray | list) -> np.ndarray:
    """Monic polynomial with the given roots (real when they pair up in conjugates)."""
    zeros = np.atleast_1d(np.asarray(zeros))
    if zeros.shape[0] == 0:
        return np.asarray(1.0, dtype=np.real(zeros).dtype)
    a = np.ones((1,), dtype=zeros.dtype)
    one = np.ones_like(zeros[0])
    for zero in zeros:
        a = np.convolve(a, np.stack((one, -zero)), mode="full")
    if np.iscomplexobj(a):
        roots = np.asarray(zeros, dtype=np.complex128)
        if np.all(np.sort(np.imag(roots)) == np.sort(np.imag(np.conj(roots)))):
            a = np.real(a).copy()
    return a


def _single_zpksos(z: list, p: list) -> np.ndarray:
    """One section from up to two zeros and two poles, unit gain."""
    zz = np.atleast_1d(np.asarray(z))
    pp = np.atleast_1d(np.asarray(p))
    k = np.atleast_1d(np.asarray(1, dtype=np.result_type(np.real(zz), np.real(pp), 1)))
    b = np.multiply(k, _poly(zz))
    a = np.atleast_1d(_poly(pp))
    sos = np.zeros(6)
    sos[3 - len(b):3] = b
    sos[6 - len(a):6] = a
    return sos


def _cplxreal(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split into complex roots with positive imaginary part (pairs averaged) and real roots."""
    z = np.atleast_1d(z)
    if z.size == 0:
        return z, z
    tol = 100 * np.finfo((1.0 * z).dtype).eps
    z = z[np.lexsort((abs(z.imag), z.real))]
    real_indices = abs(z.imag) <= tol * abs(z)
    zr = z[real_indices].real
    if len(zr) == len(z):
        return np.array([]), zr
    z = z[~real_indices]
    zp = z[z.imag > 0]
    zn = z[z.imag < 0]
    if len(zp) != len(zn):
        raise ValueError("Array contains complex value with no matching conjugate.")
    same_real = np.diff(zp.real) <= tol * abs(zp[:-1])
    diffs = np.diff(np.concatenate(([0], same_real, [0])))
    run_starts = np.nonzero(diffs > 0)[0]
    run_stops = np.nonzero(diffs < 0)[0]
    for start, stop in zip(run_starts, run_stops + 1, strict=True):
        for chunk in (zp[start:stop], zn[start:stop]):
            chunk[...] = chunk[np.lexsort([abs(chunk.imag)])]
    if any(abs(zp - zn.conj()) > tol * abs(zn)):
        raise ValueError("Array contains complex value with no matching conjugate.")
    return (zp + zn.conj()) / 2, zr


def _nearest(fro: np.ndarray, to: complex, which: str) -> int:
    """Index in ``fro`` of the root nearest to ``to`` that is ``real``, ``complex`` or ``any``."""
    order = np.argsort(np.abs(fro - to))
    if which == "any":
        return int(order[0])
    mask = np.isreal(fro[order])
    if which == "complex":
        mask = ~mask
    return int(order[np.nonzero(mask)[0][0]])


def _zpk2sos(z: np.ndarray, p: np.ndarray, k: float) -> np.ndarray:
    """scipy's ``zpk2sos`` for digital filters, ``pairing="nearest"``."""
    z, p, k = np.asarray(z), np.asarray(p), np.asarray(k)
    if len(z) == len(p) == 0:
        return np.asarray([[k, 0.0, 0.0, 1.0, 0.0, 0.0]])
    p = np.concatenate((p, np.zeros(max(len(z) - len(p), 0))))
    z = np.concatenate((z, np.zeros(max(len(p) - len(z), 0))))
    n_sections = (max(len(p), len(z)) + 1) // 2
    if len(p) % 2 == 1:
        p = np.concatenate((p, [0.0]))
        z = np.concatenate((z, [0.0]))
    z = np.concatenate(_cplxreal(z))
    p = np.concatenate(_cplxreal(p))
    if not np.isreal(k):
        raise ValueError("k must be real")
    k = k.real

    def idx_worst(roots: np.ndarray) -> int:
        return int(np.argmin(np.abs(1 - np.abs(roots))))

    sos = np.zeros((n_sections, 6))
    for si in range(n_sections - 1, -1, -1):
        p1_idx = idx_worst(p)
        p1 = p[p1_idx]
        p = np.delete(p, p1_idx)
        if np.isreal(p1) and np.isreal(p).sum() == 0:
            z1_idx = _nearest(z, p1, "real")
            z1 = z[z1_idx]
            z = np.delete(z, z1_idx)
            sos[si] = _single_zpksos([z1, 0], [p1, 0])
        elif (len(p) + 1 == len(z) and not np.isreal(p1)
              and np.isreal(p).sum() == 1 and np.isreal(z).sum() == 1):
            z1_idx = _nearest(z, p1, "complex")
            z1 = z[z1_idx]
            z = np.delete(z, z1_idx)
            sos[si] = _single_zpksos([z1, z1.conj()], [p1, p1.conj()])
        else:
            if np.isreal(p1):
                prealidx = np.flatnonzero(np.isreal(p))
                p2_idx = prealidx[idx_worst(p[prealidx])]
                p2 = p[p2_idx]
                p = np.delete(p, p2_idx)
            else:
                p2 = p1.conj()
            if len(z) > 0:
                z1_idx = _nearest(z, p1, "any")
                z1 = z[z1_idx]
                z = np.delete(z, z1_idx)
                if not np.isreal(z1):
                    sos[si] = _single_zpksos([z1, z1.conj()], [p1, p2])
                elif len(z) > 0:
                    z2_idx = _nearest(z, p1, "real")
                    z2 = z[z2_idx]
                    z = np.delete(z, z2_idx)
                    sos[si] = _single_zpksos([z1, z2], [p1, p2])
                else:
                    sos[si] = _single_zpksos([z1], [p1, p2])
            else:
                sos[si] = _single_zpksos([], [p1, p2])
    sos[0][:3] *= k
    return sos


def _lfilter_zi(b: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Steady state of one section after a unit step (``scipy.signal.lfilter_zi``)."""
    if a[0] != 1.0:
        b = b / a[0]
        a = a / a[0]
    n = a.shape[0]
    companion = np.zeros((n - 1, n - 1), dtype=np.float64)
    companion[0, :] = -a[1:] / (1.0 * a[0])
    companion[np.arange(1, n - 1), np.arange(0, n - 2)] = 1
    i_minus_a = np.eye(n - 1) - companion.T
    return np.linalg.solve(i_minus_a, b[1:] - a[1:] * b[0])
