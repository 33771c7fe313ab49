"""Moving mean square: kernel vs the naive reference, chunking invariance, no drift, bad input.

Tolerance against the reference: 1e-12 relative to the largest square (running-sum rounding).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.moving_mean import StreamingMovingMean, moving_mean
from tests.reference.bandpower import moving_mean_square_naive


def _signal(n_ch: int = 3, n: int = 700, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = 20 * rng.standard_normal((n_ch, n))
    x[1, 200:260] += 500.0  # a burst the window must forget exactly
    return x


@pytest.mark.parametrize("n", [1, 7, 64, 250])
def test_kernel_matches_naive_reference(n: int) -> None:
    x = _signal()
    got = moving_mean(x, n, square=True)
    ref = moving_mean_square_naive(x, n)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * float((x**2).max()))


def test_start_averages_only_the_samples_seen() -> None:
    x = np.array([[3.0, 4.0, 0.0, 0.0]])
    np.testing.assert_allclose(moving_mean(x, 3, square=True)[0], [9.0, 12.5, 25 / 3, 16 / 3])


def test_no_drift_after_a_huge_burst() -> None:
    x = np.zeros((1, 5000))
    x[0, :100] = 1e6
    x[0, 100:] = 1e-3
    out = moving_mean(x, 50, square=True)
    np.testing.assert_allclose(out[0, -1], 1e-6, rtol=1e-9)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_chunking_invariance(data: st.DataObject) -> None:
    x = _signal(2, 600, seed=data.draw(st.integers(0, 5)))
    n = data.draw(st.integers(1, 120))
    whole = moving_mean(x, n, square=True)
    sizes = data.draw(st.lists(st.integers(0, 150), min_size=1, max_size=20))
    stream = StreamingMovingMean(n, 2, square=True)
    parts, pos = [], 0
    for size in sizes:
        parts.append(stream.process(x[:, pos:pos + size]))
        pos = min(pos + size, x.shape[1])
    parts.append(stream.process(x[:, pos:]))
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), whole)


def test_reset_filled_and_bad_input() -> None:
    stream = StreamingMovingMean(4, 1, square=True)
    assert not stream.filled
    first = stream.process(np.ones((1, 5)))
    assert stream.filled
    bad = np.ones((1, 3))
    bad[0, 1] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        stream.process(bad)
    np.testing.assert_array_equal(stream.process(np.ones((1, 1))), [[1.0]])  # state untouched
    with pytest.raises(ValueError, match=r"shape \(1, n_samples\)"):
        stream.process(np.ones((2, 3)))
    stream.reset()
    np.testing.assert_array_equal(stream.process(np.ones((1, 5)) * 2), 4 * first)
    with pytest.raises(ValueError, match="n must be"):
        StreamingMovingMean(0, 1, square=True)
