"""Moving mean, burst tracker and half-wave tracker: kernels vs naive references, chunking
invariance (hypothesis), bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.bursts import StreamingBursts, find_bursts
from dsp.halfwaves import StreamingHalfWaves, find_half_waves
from dsp.moving_mean import StreamingMovingMean, moving_mean
from tests.reference.microstructure import bursts_naive, half_waves_naive, moving_mean_naive


def _chunks(total: int, sizes: list[int]) -> list[slice]:
    out, pos = [], 0
    for size in sizes:
        out.append(slice(pos, min(pos + size, total)))
        pos = min(pos + size, total)
    out.append(slice(pos, total))
    return out


def _bursty(n: int = 900, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    sig = 10 * np.sin(2 * np.pi * np.arange(n) / 7.3) + rng.standard_normal(n)
    active = np.convolve(rng.random(n) < 0.08, np.ones(9), mode="same") > 0
    return active, sig


def _slow(n: int = 3000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 100.0
    amp = 40 + 60 * (np.sin(2 * np.pi * t / 11.0) > 0)
    return amp * np.sin(2 * np.pi * 0.9 * t + 0.3) + 8 * rng.standard_normal(n)


# ------------------------------------------------------------------------- moving mean


@pytest.mark.parametrize("n", [1, 5, 64, 400])
def test_moving_mean_matches_naive(n: int) -> None:
    x = np.random.default_rng(1).standard_normal((2, 700)) * 30 + 5
    np.testing.assert_allclose(moving_mean(x, n), moving_mean_naive(x, n), rtol=0, atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_moving_mean_chunking_invariance(data: st.DataObject) -> None:
    x = np.random.default_rng(data.draw(st.integers(0, 5))).standard_normal((2, 500))
    n = data.draw(st.integers(1, 90))
    sizes = data.draw(st.lists(st.integers(0, 120), min_size=1, max_size=15))
    stream = StreamingMovingMean(n, 2)
    parts = [stream.process(x[:, s]) for s in _chunks(500, sizes)]
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), moving_mean(x, n))


def test_moving_mean_bad_input_and_reset() -> None:
    stream = StreamingMovingMean(3, 1)
    assert not stream.filled
    stream.process(np.ones((1, 3)))
    assert stream.filled
    with pytest.raises(ValueError, match="non-finite"):
        stream.process(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match=r"shape \(1, n_samples\)"):
        stream.process(np.ones((2, 3)))
    stream.reset()
    np.testing.assert_array_equal(stream.process(np.array([[2.0, 4.0]])), [[2.0, 3.0]])


# ------------------------------------------------------------------------- bursts


@pytest.mark.parametrize(("confirm", "max_gap"), [(1, 0), (5, 2), (12, 4), (30, 10)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bursts_match_naive(confirm: int, max_gap: int, seed: int) -> None:
    active, sig = _bursty(seed=seed)
    got = find_bursts(active, sig, confirm, max_gap)
    ref = bursts_naive(active, sig, confirm, max_gap)
    assert len(ref) > 3
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_bursts_chunking_invariance(data: st.DataObject) -> None:
    active, sig = _bursty(seed=data.draw(st.integers(0, 5)))
    confirm, gap = data.draw(st.integers(1, 20)), data.draw(st.integers(0, 6))
    sizes = data.draw(st.lists(st.integers(0, 150), min_size=1, max_size=15))
    stream = StreamingBursts(confirm, gap)
    parts = [stream.process(active[s], sig[s]) for s in _chunks(len(sig), sizes)]
    np.testing.assert_array_equal(np.concatenate(parts), find_bursts(active, sig, confirm, gap))


def test_bursts_bad_input() -> None:
    with pytest.raises(ValueError, match="confirm must be"):
        StreamingBursts(0, 1)
    with pytest.raises(ValueError, match="max_gap"):
        StreamingBursts(1, -1)
    stream = StreamingBursts(2, 0)
    with pytest.raises(ValueError, match="same length"):
        stream.process(np.ones(3, bool), np.ones(4))
    with pytest.raises(ValueError, match="NaN"):
        stream.process(np.ones(2, bool), np.array([1.0, np.inf]))


# ------------------------------------------------------------------------- half-waves


@pytest.mark.parametrize(("threshold", "q_max", "h_min", "h_max"),
                         [(30.0, 40, 25, 100), (80.0, 30, 20, 80), (5.0, 10, 1, 300)])
@pytest.mark.parametrize("seed", [0, 1])
def test_half_waves_match_naive(threshold: float, q_max: int, h_min: int, h_max: int,
                                seed: int) -> None:
    x = _slow(seed=seed)
    got = find_half_waves(x, threshold, q_max, h_min, h_max)
    ref = half_waves_naive(x, threshold, q_max, h_min, h_max)
    assert len(ref) > 3
    np.testing.assert_array_equal(got, ref)


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_half_waves_chunking_invariance(data: st.DataObject) -> None:
    x = _slow(seed=data.draw(st.integers(0, 5)))
    args = (data.draw(st.floats(5, 90)), 40, 25, 100)
    sizes = data.draw(st.lists(st.integers(0, 400), min_size=1, max_size=15))
    stream = StreamingHalfWaves(*args)
    parts = [stream.process(x[s]) for s in _chunks(len(x), sizes)]
    np.testing.assert_array_equal(np.concatenate(parts), find_half_waves(x, *args))


def test_half_waves_bad_input() -> None:
    with pytest.raises(ValueError, match="threshold"):
        StreamingHalfWaves(0.0, 1, 1, 2)
    with pytest.raises(ValueError, match="h_max"):
        StreamingHalfWaves(1.0, 1, 5, 2)
    stream = StreamingHalfWaves(1.0, 1, 1, 2)
    with pytest.raises(ValueError, match="1-D"):
        stream.process(np.ones((2, 2)))
    with pytest.raises(ValueError, match="NaN"):
        stream.process(np.array([1.0, np.nan]))
