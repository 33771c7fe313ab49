"""Filter and window design without scipy: every design against scipy's own.

The device's designs replaced ``scipy.signal`` to keep it out of the device process; they
follow scipy's algorithms step by step. Over the grids below they give scipy's numbers to
a few ulp (``RTOL``); the designs of the default config are compared bit for bit, because
a changed last bit would change the decision journal of a night.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import signal

from dsp import design

#: A few ulp of float64: the designs follow scipy's operations in scipy's order.
RTOL = 4 * np.finfo(float).eps
ATOL = 1e-300
RATES = (100.0, 128.0, 200.0, 250.0, 256.0, 500.0, 1000.0)


def _close(ours: np.ndarray, ref: np.ndarray) -> None:
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("fs", RATES)
@pytest.mark.parametrize("order", [1, 2, 3, 4, 5, 8])
def test_butterworth_sos_and_their_states_equal_scipy(fs: float, order: int) -> None:
    for band in ((0.3, 35.0), (0.5, 2.0), (11.0, 16.0), (20.0, 45.0), (0.16, fs / 2 - 1)):
        ref = signal.butter(order, band, btype="bandpass", fs=fs, output="sos")
        _close(design.butter_sos(order, band, "bandpass", fs), ref)
        _close(design.unit_step_zi(ref), signal.sosfilt_zi(ref))
    for cutoff in (0.3, 1.0, 10.0, 35.0, 45.0):
        for btype in ("lowpass", "highpass"):
            ref = signal.butter(order, cutoff, btype=btype, fs=fs, output="sos")
            _close(design.butter_sos(order, cutoff, btype, fs), ref)
            _close(design.unit_step_zi(ref), signal.sosfilt_zi(ref))


@pytest.mark.parametrize("fs", RATES)
def test_notch_equals_scipy_iirnotch_as_sos(fs: float) -> None:
    for f0 in (50.0, 60.0, 100.0, 120.0, 150.0, 180.0, 240.0):
        for q in (5.0, 30.0, 35.0):
            if f0 < fs / 2:
                _close(design.notch_sos(f0, q, fs), signal.tf2sos(*signal.iirnotch(f0, q, fs=fs)))


def test_response_equals_scipy_sosfreqz() -> None:
    freqs = np.array([0.1, 0.5, 1.0, 2.0, 10.0, 49.0])
    for order in (1, 2, 4):
        sos = signal.butter(order, (0.5, 2.0), btype="bandpass", fs=100.0, output="sos")
        _close(design.sos_response(sos, freqs, 100.0), signal.sosfreqz(sos, worN=freqs, fs=100.0)[1])


@pytest.mark.parametrize("beta", [0.5, 5.0, 8.6, 14.0])
def test_kaiser_lowpass_equals_scipy_firwin(beta: float) -> None:
    for up in range(1, 9):
        for down in range(1, 9):
            max_rate = max(up, down)
            if max_rate > 1:
                n = 2 * math.ceil(10 * max_rate / down) * down + 1
                _close(design.firwin_kaiser(n, 1.0 / max_rate, beta),
                       signal.firwin(n, 1.0 / max_rate, window=("kaiser", beta)))
    _close(design.firwin_kaiser(40, 0.3, beta), signal.firwin(40, 0.3, window=("kaiser", beta)))


@pytest.mark.parametrize("m", [1, 2, 3, 10, 64, 255, 256, 1250, 2560])
@pytest.mark.parametrize("sym", [True, False])
def test_windows_equal_scipy(m: int, sym: bool) -> None:
    _close(design.general_hamming(m, 0.5, sym), signal.windows.hann(m, sym=sym))
    _close(design.general_hamming(m, 0.54, sym), signal.windows.hamming(m, sym=sym))
    _close(design.kaiser(m, 6.0, sym), signal.windows.kaiser(m, 6.0, sym=sym))


def test_bessel_i0_equals_scipy_special_on_both_branches() -> None:
    from scipy import special

    x = np.linspace(0.0, 40.0, 4001)  # <= 8 and > 8: both Chebyshev series
    ours = np.array([design._i0(float(v)) for v in x])
    np.testing.assert_allclose(ours, special.i0(x), rtol=RTOL, atol=0)


def test_default_night_designs_are_bit_identical_to_scipy() -> None:
    """The designs a default night makes (the EMG high-pass and its state, the stager's
    250 → 50 Hz resampler, the synthetic source's Hann-windowed FIRs): a last-bit change
    would change the night's decision journal."""
    highpass = signal.butter(4, 20.0, btype="highpass", fs=250.0, output="sos")
    np.testing.assert_array_equal(design.butter_sos(4, 20.0, "highpass", 250.0), highpass)
    np.testing.assert_array_equal(design.unit_step_zi(highpass), signal.sosfilt_zi(highpass))
    np.testing.assert_array_equal(design.firwin_kaiser(101, 0.2, 5.0),
                                  signal.firwin(101, 0.2, window=("kaiser", 5.0)))
    np.testing.assert_array_equal(design.general_hamming(1000, 0.5, sym=False),
                                  signal.windows.hann(1000, sym=False))
    np.testing.assert_array_equal(design.general_hamming(1500, 0.54, sym=False),  # YASA's Welch
                                  signal.get_window("hamming", 1500))


def test_bad_designs_raise() -> None:
    with pytest.raises(ValueError, match="btype"):
        design.butter_sos(2, 10.0, "bandstop", 100.0)
    with pytest.raises(ValueError, match="fs/2"):
        design.butter_sos(2, 60.0, "lowpass", 100.0)
    with pytest.raises(ValueError, match="w0"):
        design.notch_sos(60.0, 30.0, 100.0)
    with pytest.raises(ValueError, match="cutoff"):
        design.firwin_kaiser(21, 1.0, 5.0)
