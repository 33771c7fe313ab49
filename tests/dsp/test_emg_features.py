"""EMG feature kernels vs slow references, streaming vs batch, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.emg_features import (
    CROSS_FEATURE,
    FEATURE_NAMES,
    FEATURES_PER_CHANNEL,
    HUDGINS,
    SlidingFeatures,
    feature_index,
    n_features,
    window_features,
)
from tests.reference import emg as ref


def _emg(n_ch: int, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # coloured noise with different amplitudes per channel, like high-passed surface EMG
    x = rng.normal(size=(n_ch, n)) * rng.uniform(5, 50, size=(n_ch, 1))
    return x + 0.6 * np.roll(x, 1, axis=1)


@pytest.mark.parametrize("thr", [(0.0, 0.0, 10.0), (5.0, 3.0, 20.0)])
def test_window_features_match_reference(thr):
    w = _emg(3, 60, seed=1)
    got = window_features(w, *thr)
    want = ref.window_features(w, *thr)
    assert got.shape == (n_features(3),)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


def test_ar_recovers_a_known_process():
    rng = np.random.default_rng(3)
    a = np.array([0.5, -0.3, 0.2, -0.1])
    x = np.zeros(20000)
    e = rng.normal(size=x.size)
    for t in range(4, x.size):
        x[t] = a @ x[t - 4 : t][::-1] + e[t]
    f = window_features(x[None, :])
    ar = f[[FEATURE_NAMES.index(f"AR{k}") for k in range(1, 5)]]
    np.testing.assert_allclose(ar, a, atol=0.03)


def _levinson_per_lag(x, order):
    """The AR kernel as first written: one autocorrelation loop per lag, then Levinson."""
    n = len(x)
    mean = sum(x) / n
    r = []
    for lag in range(order + 1):
        s = 0.0
        for i in range(lag, n):
            s += (x[i] - mean) * (x[i - lag] - mean)
        r.append(s / n)
    a = [0.0] * order
    if r[0] <= 1e-12:
        return a
    err = r[0]
    for m in range(order):
        acc = r[m + 1] - sum(a[j] * r[m - j] for j in range(m))
        if err <= 1e-12:
            break
        k = acc / err
        a[:m] = [a[j] - k * a[m - 1 - j] for j in range(m)]
        a[m] = k
        err *= 1.0 - k * k
    return a


@pytest.mark.parametrize("n", [8, 30, 61])
def test_ar_single_pass_autocorrelation_equals_per_lag_loops(n):
    x = _emg(3, n, seed=n)
    f = window_features(x)
    for c in range(3):
        got = f[c * FEATURES_PER_CHANNEL + 9 : c * FEATURES_PER_CHANNEL + 13]
        want = _levinson_per_lag([float(v) for v in x[c]], 4)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_logcov_of_identity_like_covariance_is_near_zero_off_diagonal():
    w = np.random.default_rng(4).normal(size=(4, 20000))
    f = window_features(w)[4 * FEATURES_PER_CHANNEL :]
    iu = np.triu_indices(4)
    off = f[iu[0] != iu[1]]
    assert np.max(np.abs(off)) < 0.05
    np.testing.assert_allclose(f[iu[0] == iu[1]], 0.0, atol=0.05)  # log(1) on the diagonal


def test_flat_window_is_finite():
    f = window_features(np.zeros((2, 50)))
    assert np.all(np.isfinite(f))


def _per_window(x: np.ndarray, window: int, increment: int) -> np.ndarray:
    """Batch reference: :func:`window_features` of every complete window of ``x``."""
    starts = range(0, x.shape[1] - window + 1, increment)
    return np.array([window_features(x[:, s : s + window]) for s in starts]).reshape(
        -1, n_features(x.shape[0]))


def test_sliding_equals_per_window():
    x = _emg(2, 100, seed=5)
    got, ends = SlidingFeatures(2, 30, 7).update(x)
    assert got.shape == ((100 - 30) // 7 + 1, n_features(2))
    np.testing.assert_array_equal(got, _per_window(x, 30, 7))
    np.testing.assert_array_equal(ends, 30 + 7 * np.arange(len(got)))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=12),
       st.integers(min_value=8, max_value=40), st.integers(min_value=1, max_value=25))
def test_streaming_chunking_invariance(cuts, window, increment):
    x = _emg(2, 150, seed=6)
    batch = _per_window(x, window, increment)
    sf = SlidingFeatures(2, window, increment)
    bounds = np.cumsum([0, *cuts])
    bounds = [int(b) for b in bounds if b < x.shape[1]] + [x.shape[1]]
    feats, ends = [], []
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        f, e = sf.update(x[:, lo:hi])
        feats.append(f)
        ends.append(e)
    got = np.concatenate(feats)
    np.testing.assert_array_equal(got, batch)
    np.testing.assert_array_equal(np.concatenate(ends), window + increment * np.arange(len(got)))


@pytest.mark.parametrize("window, increment", [(30, 5), (9, 25)])
def test_streaming_long_stream_through_store_compaction_and_growth(window, increment):
    # a stream several times the preallocated store, in small chunks (compaction) and with
    # chunks bigger than the store (growth), with the increment shorter and longer than the
    # window: still the batch result, bit for bit
    x = _emg(2, 2600, seed=11)
    batch = _per_window(x, window, increment)
    sf = SlidingFeatures(2, window, increment)
    sizes = [7, 5, 1500, 3, 11, 900, 0, 174]
    lo, feats, ends = 0, [], []
    for n in sizes:
        f, e = sf.update(x[:, lo : lo + n])
        feats.append(f)
        ends.append(e)
        lo += n
    assert lo == x.shape[1] and sf.samples_seen == lo
    np.testing.assert_array_equal(np.concatenate(feats), batch)
    np.testing.assert_array_equal(np.concatenate(ends), window + increment * np.arange(len(batch)))
    sf.reset()
    f, _ = sf.update(x[:, :window])
    np.testing.assert_array_equal(f, batch[:1])


def test_feature_index_selects_named_columns():
    labels = [f"ch{c}_{n}" for c in range(3) for n in FEATURE_NAMES]
    idx = feature_index(3, HUDGINS)
    assert [labels[i] for i in idx[:4]] == ["ch0_MAV", "ch0_ZC", "ch0_SSC", "ch0_WL"]
    assert [labels[i] for i in idx[4:8]] == ["ch1_MAV", "ch1_ZC", "ch1_SSC", "ch1_WL"]
    assert len(feature_index(3, ("MAV", CROSS_FEATURE))) == 3 + 6
    with pytest.raises(ValueError, match="unknown EMG feature names"):
        feature_index(3, ("MAV", "NOPE"))


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.zeros(10), "2-D"),
        (np.zeros((2, 4)), "at least 8"),
        (np.full((2, 20), np.nan), "NaN"),
    ],
)
def test_bad_windows_raise(bad, match):
    with pytest.raises(ValueError, match=match):
        window_features(bad)


def test_bad_stream_input():
    sf = SlidingFeatures(2, 20, 5)
    with pytest.raises(ValueError, match="expects 2"):
        sf.update(np.zeros((3, 10)))
    with pytest.raises(ValueError, match="increment"):
        SlidingFeatures(2, 20, 0)
    with pytest.raises(ValueError, match="thr_zc"):
        window_features(np.zeros((1, 20)), thr_zc=-1.0)
    f, e = sf.update(np.zeros((2, 0)))  # empty chunks are fine
    assert f.shape == (0, n_features(2)) and e.shape == (0,)


def test_read_only_and_non_contiguous_input():
    x = _emg(4, 80, seed=9)
    view = x[::2, ::1]
    view.setflags(write=False)
    np.testing.assert_array_equal(window_features(view), window_features(x[::2].copy()))
