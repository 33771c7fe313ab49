"""StreamingResampler: vs upfirdn / resample_poly, tone accuracy, aliasing, chunking, bad input.

Tolerances: 1e-12 × signal scale against ``upfirdn`` with the same taps (the same sums in a
different order); the same against ``resample_poly`` with the same window once our fixed
group delay is removed.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from dsp.resample import StreamingResampler, rational_ratio
from tests.reference.resample import upfirdn_naive

RATES = [(250.0, 100.0), (200.0, 100.0), (50.0, 100.0), (1000.0, 200.0), (100.0, 250.0)]


def _noise(n_ch: int, n: int, seed: int = 0) -> np.ndarray:
    return 50.0 * np.random.default_rng(seed).standard_normal((n_ch, n)) + 20.0


@pytest.mark.parametrize(("fin", "fout"), RATES)
def test_matches_upfirdn_naive_and_resample_poly(fin: float, fout: float) -> None:
    r = StreamingResampler(fin, fout, 2, init="zeros")
    x = _noise(2, 503)
    y = r.process(x)
    assert y.shape == (2, r.n_out_for(503)) and r.n_out == y.shape[1]
    scale = np.abs(x).max()
    ref = signal.upfirdn(r.taps, x, r.up, r.down, axis=-1)[:, : y.shape[1]]
    np.testing.assert_allclose(y, ref, rtol=0, atol=1e-12 * scale)
    naive = upfirdn_naive(r.taps, x[:, :60], r.up, r.down, r.n_out_for(60))
    np.testing.assert_allclose(y[:, : naive.shape[1]], naive, rtol=0, atol=1e-12 * scale)
    rp = signal.resample_poly(x, r.up, r.down, axis=-1, window=r.taps / r.up)
    m = y.shape[1] - r.delay
    np.testing.assert_allclose(y[:, r.delay :], rp[:, :m], rtol=0, atol=1e-12 * scale)


def test_ratios_and_delay() -> None:
    assert rational_ratio(250, 100) == (2, 5)
    assert rational_ratio(1000, 200) == (1, 5)
    assert rational_ratio(50, 100) == (2, 1)
    r = StreamingResampler(250, 100, 1)
    assert (len(r.taps) - 1) / 2 / r.down == r.delay == 10
    assert r.delay_s == pytest.approx(0.1)
    assert [r.n_out_for(n) for n in (0, 1, 2, 3, 5, 250)] == [0, 1, 1, 2, 2, 100]


@pytest.mark.parametrize(("fin", "fout"), [(250.0, 100.0), (50.0, 100.0), (1000.0, 200.0)])
def test_tone_accuracy_like_resample_poly(fin: float, fout: float) -> None:
    f0 = 7.0
    n = int(4 * fin)
    t = np.arange(n) / fin
    x = 100.0 * np.sin(2 * np.pi * f0 * t)[None, :]
    r = StreamingResampler(fin, fout, 1)
    y = r.process(x)[0]
    t_out = r.input_position(np.arange(y.size)) / fin  # what each output sample represents
    np.testing.assert_allclose(t_out, np.arange(y.size) / fout - r.delay_s, atol=1e-12)
    ideal = 100.0 * np.sin(2 * np.pi * f0 * t_out)
    inner = slice(2 * r.delay + 10, y.size - 10)
    err_ours = np.abs(y[inner] - ideal[inner]).max()
    rp = signal.resample_poly(x[0], r.up, r.down)
    t_rp = np.arange(rp.size) / fout
    err_rp = np.abs(rp - 100.0 * np.sin(2 * np.pi * f0 * t_rp))[inner].max()
    assert err_ours < 0.5  # < 0.5 % of the amplitude
    assert err_ours < 2 * err_rp + 1e-6  # as accurate as scipy's own resampler


def test_anti_alias_attenuates_above_new_nyquist() -> None:
    fin, fout = 250.0, 100.0
    t = np.arange(int(8 * fin)) / fin
    x = 100.0 * np.sin(2 * np.pi * 70.0 * t)[None, :]  # would alias to 30 Hz
    y = StreamingResampler(fin, fout, 1).process(x)[0, 50:]
    assert np.sqrt(np.mean(y**2)) < 100.0 / np.sqrt(2) * 10 ** (-40 / 20)  # > 40 dB down


@settings(max_examples=25, deadline=None)
@given(data=st.data(), rates=st.sampled_from(RATES))
def test_chunking_invariance(data: st.DataObject, rates: tuple[float, float]) -> None:
    x = _noise(2, 157, seed=3)
    whole = StreamingResampler(*rates, 2).process(x)
    r = StreamingResampler(*rates, 2)
    parts, pos = [], 0
    while pos < x.shape[1]:
        size = data.draw(st.integers(1, x.shape[1] - pos), label="chunk")
        out = r.process(x[:, pos : pos + size])
        pos += size
        assert r.n_out == r.n_out_for(pos)
        parts.append(out)
    np.testing.assert_allclose(np.concatenate(parts, axis=1), whole, rtol=0, atol=1e-12 * 250)


def test_reset_empty_noncontiguous_readonly() -> None:
    r = StreamingResampler(250, 100, 2)
    x = _noise(4, 100)[::2, ::1]
    assert not x.flags.c_contiguous
    x.setflags(write=False)
    first = r.process(x)
    assert r.process(np.empty((2, 0))).shape == (2, 0)
    assert r.n_in == 100
    r.reset()
    assert r.n_in == 0 and r.n_out == 0
    np.testing.assert_array_equal(r.process(np.asfortranarray(x)), first)


def test_bad_input() -> None:
    r = StreamingResampler(250, 100, 2)
    with pytest.raises(ValueError, match=r"\(2, n_samples\), got shape \(3, 4\)"):
        r.process(np.zeros((3, 4)))
    bad = np.zeros((2, 5))
    bad[1, 2] = np.inf
    with pytest.raises(ValueError, match="channel 1, sample 2"):
        r.process(bad)
    assert r.n_in == 0
    with pytest.raises(ValueError, match=r"cannot resample 250 Hz -> 100.3 Hz"):
        StreamingResampler(250, 100.3, 1)
    with pytest.raises(ValueError, match="sfreq_out"):
        StreamingResampler(250, 0, 1)


def test_same_rate_is_identity_without_delay() -> None:
    r = StreamingResampler(250, 250, 2)
    x = _noise(2, 40)
    assert (r.up, r.down, r.delay) == (1, 1, 0)
    np.testing.assert_array_equal(np.concatenate([r.process(x[:, :7]), r.process(x[:, 7:])], 1), x)


@pytest.mark.parametrize(("fin", "fout"), RATES)
def test_edge_init_equals_signal_prefixed_with_its_first_value(fin: float, fout: float) -> None:
    x = _noise(2, 200) + 5000.0  # large DC offset, as on a Cyton
    r = StreamingResampler(fin, fout, 2)  # init="edge"
    y = r.process(x)
    p = r.down * (len(r.taps) // r.down + 1)  # prefix: whole output samples, longer than history
    padded = np.concatenate([np.repeat(x[:, :1], p, axis=1), x], axis=1)
    ref = signal.upfirdn(r.taps, padded, r.up, r.down, axis=-1)[:, p * r.up // r.down :]
    np.testing.assert_allclose(y, ref[:, : y.shape[1]], rtol=0, atol=1e-12 * 5300)
    assert np.abs(y[:, :5] - x[:, :1]).max() < 300  # no ramp up from zero
    with pytest.raises(ValueError, match="init must be"):
        StreamingResampler(fin, fout, 1, init="mean")
