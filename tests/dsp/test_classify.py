"""Inference kernels vs numpy / scikit-learn references, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from dsp.classify import check_layers, fit_lda, forward, softmax, standardise


def _blobs(seed: int = 0, n: int = 60, f: int = 5, k: int = 3):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n)
    x = rng.normal(size=(n * k, f)) + 2.0 * np.eye(k, f)[y]
    return x, y


def test_forward_matches_numpy_mlp():
    rng = np.random.default_rng(1)
    layers = [
        (rng.normal(size=(6, 4)), rng.normal(size=4), "relu"),
        (rng.normal(size=(4, 4)), rng.normal(size=4), "tanh"),
        (rng.normal(size=(4, 3)), rng.normal(size=3), "linear"),
    ]
    x = rng.normal(size=(7, 6))
    want = x
    for w, b, act in layers:
        want = want @ w + b
        want = {"relu": np.maximum(want, 0), "tanh": np.tanh(want), "linear": want}[act]
    np.testing.assert_allclose(forward(x, layers), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(forward(x[0], layers), want[:1], rtol=1e-12, atol=1e-12)


def test_softmax_matches_scipy_and_is_stable():
    from scipy.special import softmax as sp_softmax

    z = np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, -1000.0]])
    np.testing.assert_allclose(softmax(z), sp_softmax(z, axis=1), rtol=1e-12)
    assert np.all(np.isfinite(softmax(z)))


def test_fit_lda_matches_scikit_learn():
    sk = pytest.importorskip("sklearn.discriminant_analysis")
    x, y = _blobs()
    w, b = fit_lda(x, y, 3, 0.0)
    ours = softmax(forward(x, [(w, b, "linear")]))
    ref = sk.LinearDiscriminantAnalysis(solver="lsqr").fit(x, y).predict_proba(x)
    np.testing.assert_allclose(ours, ref, atol=1e-8)


def test_shrinkage_pulls_towards_nearest_mean_classifier():
    x, y = _blobs(seed=2)
    w, _ = fit_lda(x, y, 3, 1.0)
    means = np.stack([x[y == k].mean(axis=0) for k in range(3)])
    # with full shrinkage Σ ∝ I, so W ∝ class means
    ratio = w / means.T
    np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-6)


def test_standardise_checks_shapes():
    np.testing.assert_allclose(standardise(np.ones((2, 3)), np.ones(3), 2 * np.ones(3)), 0.0)
    with pytest.raises(ValueError, match="columns"):
        standardise(np.ones((2, 3)), np.ones(4), np.ones(4))


def test_bad_input_is_named():
    x, y = _blobs()
    with pytest.raises(ValueError, match=r"missing classes \[3\]"):
        fit_lda(x, y, 4)
    with pytest.raises(ValueError, match="shrinkage"):
        fit_lda(x, y, 3, 1.5)
    layers = [(np.zeros((5, 3)), np.zeros(3), "linear")]
    with pytest.raises(ValueError, match=r"\(n, 5\)"):
        forward(np.zeros((2, 4)), layers)
    with pytest.raises(ValueError, match="NaN"):
        forward(np.full((1, 5), np.nan), layers)
    with pytest.raises(ValueError, match="activation"):
        check_layers([(np.zeros((5, 3)), np.zeros(3), "gelu")])
    with pytest.raises(ValueError, match="takes 4 inputs"):
        check_layers([(np.zeros((5, 3)), np.zeros(3), "relu"), (np.zeros((4, 2)), np.zeros(2),
                                                                "linear")])
