"""Streaming IIR filters: vs scipy and a naive reference, chunking invariance, bad input.

Tolerance: ≤ 1e-9 relative to the signal scale (max |x|) everywhere.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from dsp.filters import (
    StreamingFilter,
    chain,
    design_bandpass,
    design_highpass,
    design_lowpass,
    design_notch,
    sosfilt,
    sosfilt_zi,
)
from tests.reference.filters import sosfilt_naive

FS = 250.0
RTOL = 1e-9


def _signal(n_ch: int = 3, n: int = 600, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / FS
    x = 40 * rng.standard_normal((n_ch, n)) + 100 * np.sin(2 * np.pi * 50 * t)
    return x + 300.0 * np.arange(1, n_ch + 1)[:, None]  # per-channel DC offsets


def _eeg_sos() -> np.ndarray:
    return chain(design_bandpass(0.3, 35.0, FS, order=4), design_notch(50.0, FS))


def _close(a: np.ndarray, b: np.ndarray, scale: float) -> None:
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=0, atol=RTOL * scale)


@pytest.mark.parametrize(
    "sos",
    [
        _eeg_sos(),
        design_highpass(10.0, FS, order=2),
        design_lowpass(30.0, FS, order=6),
        design_notch(60.0, FS, q=10.0),
    ],
    ids=["band+notch", "highpass", "lowpass", "notch60"],
)
def test_sosfilt_matches_scipy_and_naive(sos: np.ndarray) -> None:
    x = _signal()
    zi = sosfilt_zi(sos, x[:, 0])
    y, zf = sosfilt(sos, x, zi)
    y_sp, zf_sp = signal.sosfilt(sos, x, axis=-1, zi=zi)
    scale = np.abs(x).max()
    _close(y, y_sp, scale)
    _close(zf, zf_sp, scale)
    y_ref, zf_ref = sosfilt_naive(sos, x[:, :200], zi)
    y_short, zf_short = sosfilt(sos, x[:, :200], zi)
    _close(y_short, y_ref, scale)
    _close(zf_short, zf_ref, scale)


def test_sosfilt_does_not_modify_inputs() -> None:
    sos = _eeg_sos()
    x = _signal(2, 50)
    zi = sosfilt_zi(sos, x[:, 0])
    x0, zi0 = x.copy(), zi.copy()
    sosfilt(sos, x, zi)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(zi, zi0)


def test_steady_state_init_has_no_transient_on_constant_input() -> None:
    sos = design_lowpass(20.0, FS)
    f = StreamingFilter(sos, 2)
    y = f.process(np.full((2, 100), [[5.0], [-7.0]]))
    np.testing.assert_allclose(y, np.full((2, 100), [[5.0], [-7.0]]), atol=1e-9)
    f_zero = StreamingFilter(sos, 2, init="zeros")
    y0 = f_zero.process(np.full((2, 100), 5.0))
    assert abs(y0[0, 0]) < 1.0  # starts from rest: transient present


def test_streaming_filter_equals_scipy_with_steady_state_zi() -> None:
    sos = _eeg_sos()
    x = _signal()
    y_sp, _ = signal.sosfilt(sos, x, axis=-1, zi=sosfilt_zi(sos, x[:, 0]))
    f = StreamingFilter(sos, x.shape[0])
    _close(f.process(x), y_sp, np.abs(x).max())


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_chunking_invariance(data: st.DataObject) -> None:
    x = _signal(2, 240, seed=1)
    sos = _eeg_sos()
    whole = StreamingFilter(sos, 2).process(x)
    f = StreamingFilter(sos, 2)
    parts, pos = [], 0
    while pos < x.shape[1]:
        size = data.draw(st.integers(1, x.shape[1] - pos), label="chunk")
        parts.append(f.process(x[:, pos : pos + size]))
        pos += size
    _close(np.concatenate(parts, axis=1), whole, np.abs(x).max())


def test_process_into_matches_process() -> None:
    sos = _eeg_sos()
    x = _signal(8, 100)
    a, b = StreamingFilter(sos, 8), StreamingFilter(sos, 8)
    out = np.empty((8, 10))
    got = np.concatenate([a.process_into(x[:, i : i + 10].copy(), out).copy() for i in range(0, 100, 10)], 1)
    np.testing.assert_array_equal(got, b.process(x))


def test_reset_restarts_from_steady_state() -> None:
    sos = _eeg_sos()
    x = _signal(2, 100)
    f = StreamingFilter(sos, 2)
    first = f.process(x)
    f.process(_signal(2, 50, seed=5))
    f.reset()
    np.testing.assert_array_equal(f.process(x), first)


def test_empty_block_returns_empty_and_keeps_state() -> None:
    sos = _eeg_sos()
    x = _signal(2, 60)
    f, g = StreamingFilter(sos, 2), StreamingFilter(sos, 2)
    a = f.process(x[:, :30])
    empty = f.process(np.empty((2, 0)))
    assert empty.shape == (2, 0)
    b = f.process(x[:, 30:])
    np.testing.assert_array_equal(np.concatenate([a, b], 1), g.process(x))
    y, zf = sosfilt(sos, np.empty((2, 0)), np.ones((sos.shape[0], 2, 2)))
    assert y.shape == (2, 0)
    np.testing.assert_array_equal(zf, np.ones((sos.shape[0], 2, 2)))


def test_non_contiguous_read_only_and_int_inputs_work() -> None:
    sos = _eeg_sos()
    base = _signal(4, 200)
    x = base[::2, ::2]  # non-contiguous view
    assert not x.flags.c_contiguous
    ro = x.copy()
    ro.setflags(write=False)
    expected = StreamingFilter(sos, 2).process(np.ascontiguousarray(x))
    np.testing.assert_array_equal(StreamingFilter(sos, 2).process(x), expected)
    np.testing.assert_array_equal(StreamingFilter(sos, 2).process(ro), expected)
    xf = np.asfortranarray(x)
    np.testing.assert_array_equal(StreamingFilter(sos, 2).process(xf), expected)
    ints = np.round(x).astype(np.int32)
    np.testing.assert_array_equal(
        StreamingFilter(sos, 2).process(ints), StreamingFilter(sos, 2).process(ints.astype(float))
    )


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_raises_and_keeps_state(bad: float) -> None:
    sos = _eeg_sos()
    x = _signal(2, 60)
    f, g = StreamingFilter(sos, 2), StreamingFilter(sos, 2)
    f.process(x[:, :30])
    block = x[:, 30:].copy()
    block[1, 7] = bad
    with pytest.raises(ValueError, match=r"channel 1, sample 7"):
        f.process(block)
    g.process(x[:, :30])
    np.testing.assert_array_equal(f.process(x[:, 30:]), g.process(x[:, 30:]))
    with pytest.raises(ValueError, match="non-finite"):
        StreamingFilter(sos, 2).process(block[:, 7:])  # non-finite on the very first sample


def test_wrong_shapes_name_expected_and_actual() -> None:
    sos = _eeg_sos()
    f = StreamingFilter(sos, 3)
    with pytest.raises(ValueError, match=r"\(3, n_samples\).*\(2, 10\)"):
        f.process(np.zeros((2, 10)))
    with pytest.raises(ValueError, match=r"got shape \(10,\)"):
        f.process(np.zeros(10))
    with pytest.raises(ValueError, match=r"zi must have shape \(\d+, 2, 2\)"):
        sosfilt(sos, np.zeros((2, 5)), np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match=r"sos must have shape"):
        StreamingFilter(np.zeros((2, 5)), 1)
    with pytest.raises(ValueError, match="x and out"):
        f.process_into(np.zeros((3, 4)), np.zeros((3, 5)))


def test_impossible_bands_give_clear_errors() -> None:
    with pytest.raises(ValueError, match=r"band-pass 0.3–60 Hz is impossible at fs=100 Hz.*Nyquist.*50"):
        design_bandpass(0.3, 60.0, 100.0)
    with pytest.raises(ValueError, match="low edge must be below"):
        design_bandpass(30.0, 10.0, 250.0)
    with pytest.raises(ValueError, match="high-pass 0 Hz"):
        design_highpass(0.0, 250.0)
    with pytest.raises(ValueError, match="low-pass 125 Hz"):
        design_lowpass(125.0, 250.0)
    with pytest.raises(ValueError, match="notch 60 Hz"):
        design_notch(60.0, 100.0)
    with pytest.raises(ValueError, match="sfreq"):
        design_lowpass(10.0, -1.0)
    with pytest.raises(ValueError, match="order"):
        design_lowpass(10.0, 250.0, order=0)


def test_notch_harmonics_below_nyquist_and_attenuation() -> None:
    sos = design_notch(50.0, 500.0, q=30.0)
    assert sos.shape == (4, 6)  # 50, 100, 150, 200 (250 is Nyquist: excluded)
    assert design_notch(50.0, 500.0, harmonics=False).shape == (1, 6)
    w, h = signal.sosfreqz(sos, worN=[50.0, 100.0, 150.0, 200.0, 10.0], fs=500.0)
    assert np.all(np.abs(h[:4]) < 1e-6)
    assert abs(abs(h[4]) - 1) < 0.01


def test_chain_concatenates_and_normalises_a0() -> None:
    a = design_highpass(1.0, FS)
    b = design_lowpass(40.0, FS)
    scaled = b * 2.0  # same filter, a0 = 2
    c = chain(a, scaled)
    assert c.shape == (a.shape[0] + b.shape[0], 6)
    np.testing.assert_allclose(c[a.shape[0] :], b)
    with pytest.raises(ValueError, match="at least one"):
        chain()


def test_sosfilt_without_zi_starts_from_rest_like_scipy() -> None:
    sos = _eeg_sos()
    x = _signal(2, 120)
    y, zf = sosfilt(sos, x)
    y_sp, zf_sp = signal.sosfilt(sos, x, axis=-1, zi=np.zeros((sos.shape[0], 2, 2)))
    _close(y, y_sp, np.abs(x).max())
    _close(zf, zf_sp, np.abs(x).max())
    _close(y, signal.sosfilt(sos, x, axis=-1), np.abs(x).max())
