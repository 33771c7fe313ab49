"""dsp.hmm forward filter and dsp.linear softmax against numpy references."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.hmm import forward, forward_step, validate_transition
from dsp.linear import softmax_linear

_spec = importlib.util.spec_from_file_location(
    "ref_spectral", Path(__file__).resolve().parents[1] / "reference" / "spectral.py")
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)


def _problem(n: int, k: int = 5, seed: int = 0):  # noqa: ANN202
    rng = np.random.default_rng(seed)
    trans = rng.random((k, k)) + np.eye(k) * 3
    trans /= trans.sum(axis=1, keepdims=True)
    post = rng.dirichlet(np.ones(k), size=n)
    prior = rng.dirichlet(np.ones(k) * 5)
    return post, trans, prior, np.full(k, 1.0 / k)


def test_forward_matches_reference() -> None:
    post, trans, prior, start = _problem(50)
    np.testing.assert_allclose(forward(post, trans, prior, start),
                               ref.hmm_forward(post, trans, prior, start), rtol=1e-12)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 40), split=st.integers(0, 40))
def test_forward_is_causal_and_chunking_invariant(n: int, split: int) -> None:
    """Prefix outputs never change when future epochs are appended; step loop == batch."""
    post, trans, prior, start = _problem(n + 5, seed=n)
    full = forward(post, trans, prior, start)
    np.testing.assert_allclose(forward(post[:n], trans, prior, start), full[:n], rtol=1e-12)
    a = start
    split = min(split, n)
    first = forward(post[:split], trans, prior, start) if split else np.zeros((0, 5))
    if split:
        a = first[-1]
    rest = [a := forward_step(a, trans, p, prior) for p in post[split:n]]
    both = np.vstack([first, np.array(rest).reshape(-1, 5)])
    np.testing.assert_allclose(both, full[:n], rtol=1e-12)


def test_transition_validation() -> None:
    with pytest.raises(ValueError, match="square"):
        validate_transition(np.ones((2, 3)) / 3)
    with pytest.raises(ValueError, match="sum to 1"):
        validate_transition(np.ones((2, 2)))


def test_softmax_linear_matches_reference() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, 4))
    mean, scale = rng.standard_normal(4), rng.random(4) + 0.5
    coef, b = rng.standard_normal((5, 4)), rng.standard_normal(5)
    got = softmax_linear(x, mean, scale, coef, b, 1.7)
    np.testing.assert_allclose(got, ref.softmax_linear(x, mean, scale, coef, b, 1.7), rtol=1e-12)
    np.testing.assert_allclose(softmax_linear(x[0], mean, scale, coef, b),
                               ref.softmax_linear(x[0], mean, scale, coef, b), rtol=1e-12)
    with pytest.raises(ValueError, match="features"):
        softmax_linear(np.zeros(3), mean, scale, coef, b)
    with pytest.raises(ValueError, match="temperature"):
        softmax_linear(x, mean, scale, coef, b, 0.0)
