"""dsp.spectral against scipy / naive references; batch == streaming; bad input."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.spectral import (
    BANDS,
    N_FEATURES,
    epoch_features,
    feature_names,
    night_features,
    welch_psd,
)

_spec = importlib.util.spec_from_file_location(
    "ref_spectral", Path(__file__).resolve().parents[1] / "reference" / "spectral.py")
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)


def _signal(n: int, sfreq: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sfreq
    return (30 * np.sin(2 * np.pi * 2.0 * t) + 10 * np.sin(2 * np.pi * 13.0 * t)
            + 5 * rng.standard_normal(n) + 3.0)


@pytest.mark.parametrize("sfreq", [100.0, 128.0, 50.0])
def test_welch_matches_scipy(sfreq: float) -> None:
    x = _signal(int(30 * sfreq), sfreq)
    f, p = welch_psd(x[None, :], sfreq)
    f_ref, p_ref = ref.psd(x, sfreq)
    np.testing.assert_allclose(f, f_ref)
    np.testing.assert_allclose(p[0], p_ref, rtol=1e-10, atol=1e-12 * p_ref.max())


def test_band_powers_match_reference() -> None:
    sfreq = 100.0
    x = _signal(3000, sfreq, 1)
    feats = dict(zip(feature_names(), epoch_features(x, sfreq), strict=True))
    total = ref.band_power(x, sfreq, 0.3, 45.0)
    for name, lo, hi in BANDS:
        bp = ref.band_power(x, sfreq, lo, hi)
        assert feats[f"logabs_{name}"] == pytest.approx(np.log10(bp + 1e-12), rel=1e-9)
        assert feats[f"rel_{name}"] == pytest.approx(bp / (total + 1e-12), rel=1e-9, abs=1e-15)
    assert feats["log_total"] == pytest.approx(np.log10(total + 1e-12), rel=1e-9)
    # sigma peak at 13 Hz and delta at 2 Hz dominate: delta > sigma > gamma
    assert feats["rel_delta"] > feats["rel_sigma"] > feats["rel_gamma"]


def test_time_features_match_reference() -> None:
    sfreq = 100.0
    x = _signal(3000, sfreq, 2)
    feats = dict(zip(feature_names(), epoch_features(x, sfreq), strict=True))
    act, mob, comp = ref.hjorth(x)
    assert feats["hjorth_logact"] == pytest.approx(np.log10(act + 1e-12), rel=1e-9)
    assert feats["hjorth_mob"] == pytest.approx(mob * sfreq, rel=1e-6)
    assert feats["hjorth_comp"] == pytest.approx(comp, rel=1e-6)
    assert feats["zcr"] == pytest.approx(ref.zero_crossings(x) * sfreq / x.size)
    q = np.percentile(x, [5, 25, 75, 95])
    assert feats["log_iqr"] == pytest.approx(np.log10(q[2] - q[1] + 1e-12), rel=1e-9)
    assert feats["log_p90"] == pytest.approx(np.log10(q[3] - q[0] + 1e-12), rel=1e-9)
    mad = np.median(np.abs(x - np.median(x)))
    assert feats["log_mad"] == pytest.approx(np.log10(mad + 1e-12), rel=1e-9)
    d = x - x.mean()
    assert feats["kurtosis"] == pytest.approx(np.mean(d**4) / np.var(x) ** 2 - 3, rel=1e-6)
    assert feats["skewness"] == pytest.approx(np.mean(d**3) / np.var(x) ** 1.5, rel=1e-6)


def test_spectral_edge_and_entropy() -> None:
    sfreq = 100.0
    t = np.arange(3000) / sfreq
    pure = np.sin(2 * np.pi * 10.0 * t)
    noise = np.random.default_rng(3).standard_normal(3000)
    fp = dict(zip(feature_names(), epoch_features(pure, sfreq), strict=True))
    fn = dict(zip(feature_names(), epoch_features(noise, sfreq), strict=True))
    assert 9.5 <= fp["sef50"] <= 10.5
    assert fp["spec_entropy"] < 0.3 < 0.9 < fn["spec_entropy"] <= 1.0
    assert fn["sef95"] > 40.0


@settings(max_examples=15, deadline=None)
@given(n_epochs=st.integers(1, 4), cut=st.integers(0, 2999))
def test_night_equals_epoch_by_epoch(n_epochs: int, cut: int) -> None:
    """Batch (whole night) and streaming (one epoch at a time) give identical numbers."""
    sfreq = 100.0
    x = _signal(n_epochs * 3000 + cut, sfreq, n_epochs)
    batch = night_features(x, sfreq)
    assert batch.shape == (n_epochs, N_FEATURES)
    for k in range(n_epochs):
        np.testing.assert_array_equal(batch[k], epoch_features(x[k * 3000 : (k + 1) * 3000], sfreq))


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="1-D"):
        epoch_features(np.zeros((2, 100)), 100.0)
    with pytest.raises(ValueError, match="NaN"):
        epoch_features(np.full(3000, np.nan), 100.0)
    with pytest.raises(ValueError, match="too short"):
        epoch_features(np.zeros(4), 100.0)
    assert night_features(np.zeros(10), 100.0).shape == (0, N_FEATURES)
    # read-only and non-contiguous input work
    x = _signal(6000, 100.0)[::2].copy()
    x.setflags(write=False)
    assert np.all(np.isfinite(epoch_features(x, 50.0)))
    # a flat epoch gives finite numbers
    assert np.all(np.isfinite(epoch_features(np.zeros(3000), 100.0)))
