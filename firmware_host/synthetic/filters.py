"""Spectrally shaped FIR filters that turn seeded white noise into EEG/EOG/EMG rhythms.

Every filter has unit energy (``sum(h**2) == 1``), so unit-variance white noise comes out
with unit variance and a gain in µV is the RMS of the component.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dsp.design import general_hamming

Shape = Callable[[np.ndarray], np.ndarray]


def spectral_fir(shape: Shape, sfreq: float, n_taps: int) -> np.ndarray:
    """A linear-phase FIR whose amplitude response follows ``shape(freqs)``.

    Parameters
    ----------
    shape
        Amplitude response as a function of frequency in Hz (vectorised).
    sfreq
        Sampling rate in Hz.
    n_taps
        Filter length; frequency resolution is ``sfreq / n_taps``.

    Returns
    -------
    numpy.ndarray
        ``(n_taps,)`` taps normalised to unit energy.
    """
    if n_taps < 8:
        raise ValueError(f"n_taps must be >= 8, got {n_taps}")
    freqs = np.fft.rfftfreq(n_taps, 1.0 / sfreq)
    amp = np.asarray(shape(freqs), dtype=float)
    if amp.shape != freqs.shape or not np.all(np.isfinite(amp)) or np.all(amp == 0):
        raise ValueError("filter shape must give finite, not all-zero amplitudes per frequency")
    hann = general_hamming(n_taps, 0.5, sym=False)  # periodic Hann
    h = np.roll(np.fft.irfft(amp, n_taps), n_taps // 2) * hann
    return h / np.sqrt(np.sum(h**2))


def fast_fft_len(n: int) -> int:
    """The smallest ``2**a * 3**b * 5**c >= n``: a fast length for a real FFT (``n >= 1``).

    The same choice as ``scipy.fft.next_fast_len(n, real=True)``.
    """
    best = None
    p5 = 1
    while True:
        p35 = p5
        while True:
            m = p35
            while m < n:
                m *= 2
            best = m if best is None else min(best, m)
            if p35 >= n:
                break
            p35 *= 3
        if p5 >= n:
            return best
        p5 *= 5


def _edge(f: np.ndarray, at: float, width: float) -> np.ndarray:
    """Smooth step from 0 (below ``at``) to 1 (above) over about ``width`` Hz."""
    return 0.5 * (1.0 + np.tanh((f - at) / max(width, 1e-6)))


def band(lo: float, hi: float, edge: float) -> Shape:
    """A plateau from ``lo`` to ``hi`` Hz with smooth edges ``edge`` Hz wide."""
    return lambda f: _edge(f, lo, edge) * (1.0 - _edge(f, hi, edge))


def peak(center: float, width: float) -> Shape:
    """A Gaussian spectral peak (an oscillation with some frequency jitter)."""
    return lambda f: np.exp(-0.5 * ((f - center) / width) ** 2)


def pink(lo: float, hi: float, exponent: float) -> Shape:
    """Power ∝ 1/f**exponent between ``lo`` and ``hi`` Hz (smoothly band-limited)."""

    def shape(f: np.ndarray) -> np.ndarray:
        fs = np.maximum(f, lo / 2.0)
        return fs ** (-exponent / 2.0) * _edge(f, lo, lo / 3.0) * (1.0 - _edge(f, hi, hi / 8.0))

    return shape
