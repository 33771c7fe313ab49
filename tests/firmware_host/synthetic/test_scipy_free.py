"""The synthetic source without scipy: its FFT length, sawtooth and FFT filtering equal scipy's.

The synthetic night runs in the device process (the default source), which keeps scipy out
of memory; these replacements must give the very numbers scipy gave, or the default night
(and its decision journal) would change.
"""

from __future__ import annotations

import numpy as np
from scipy import fft as sfft
from scipy.signal import sawtooth

from firmware_host.config.schema import SyntheticSourceConfig
from firmware_host.synthetic import SyntheticNight
from firmware_host.synthetic.filters import fast_fft_len
from firmware_host.synthetic.transients import sawtooth_wave


def test_fast_fft_len_is_scipys_real_next_fast_len() -> None:
    for n in [*range(1, 5000), *range(1_000_000, 1_000_200), 7_500 + 1_999, 2**20 + 1]:
        assert fast_fft_len(n) == sfft.next_fast_len(n, real=True), n


def test_sawtooth_equals_scipy_for_every_width() -> None:
    x = np.random.default_rng(1).uniform(-60.0, 60.0, 20_000)
    x[:5] = [0.0, 2 * np.pi, -2 * np.pi, 0.85 * 2 * np.pi, np.pi]
    for width in (0.0, 0.3, 0.5, 0.85, 1.0):
        np.testing.assert_array_equal(sawtooth_wave(x, width), sawtooth(x, width))


def test_night_fft_filtering_equals_scipy_fft_bit_for_bit() -> None:
    """numpy's pocketfft gives scipy.fft's numbers at the night's own sizes and filters."""
    night = SyntheticNight(SyntheticSourceConfig(seed=5, sfreq=250.0), 60.0)
    fir, n_fft = night._fir, night._n_fft
    noise = np.random.default_rng(2).standard_normal((fir.shape[0], n_fft - fir.shape[1] + 1))
    ours = np.fft.irfft(np.fft.rfft(noise, n=n_fft, axis=1) * np.fft.rfft(fir, n=n_fft, axis=1),
                        n=n_fft, axis=1)
    ref = sfft.irfft(sfft.rfft(noise, n=n_fft, axis=1) * sfft.rfft(fir, n=n_fft, axis=1),
                     n=n_fft, axis=1)
    np.testing.assert_array_equal(ours, ref)
