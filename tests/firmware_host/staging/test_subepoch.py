"""Sub-epoch stager models: window labels, posterior pooling, model files, live == manual."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from dsp.linear import softmax_linear
from dsp.spectral import epoch_features
from firmware_host.chunk import Chunk
from firmware_host.staging.config import StagerConfig
from firmware_host.staging.model import (
    ModelFormatError,
    load_model,
    pool_sub_epochs,
    save_model,
)
from firmware_host.staging.stager import SleepStager


def _naive_pool(post: np.ndarray) -> np.ndarray:
    """Reference: normalised geometric mean of the window posteriors, row by row."""
    out = []
    for rows in post:
        g = np.prod(rows, axis=0) ** (1.0 / rows.shape[0])
        out.append(g / g.sum())
    return np.array(out)


def test_pool_sub_epochs_is_the_normalised_geometric_mean() -> None:
    rng = np.random.default_rng(3)
    post = rng.dirichlet(np.ones(5), size=(7, 3))
    got = pool_sub_epochs(post)
    np.testing.assert_allclose(got, _naive_pool(post), rtol=1e-12)
    np.testing.assert_allclose(got.sum(axis=1), 1.0)
    # one window per epoch: the window's posterior itself
    np.testing.assert_array_equal(pool_sub_epochs(post[:, :1]), post[:, 0])
    # agreeing windows keep their posterior; a zero probability cannot produce NaN
    same = np.repeat(post[:, :1], 3, axis=1)
    np.testing.assert_allclose(pool_sub_epochs(same), post[:, 0], rtol=1e-12)
    z = np.array([[[1.0, 0.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.0, 0.0, 0.0]]])
    assert np.all(np.isfinite(pool_sub_epochs(z))) and pool_sub_epochs(z)[0, 0] > 0.5


def test_model_files_old_format_and_bad_sub_epoch(tmp_path) -> None:  # noqa: ANN001
    m = load_model()
    p = tmp_path / "m.json"
    save_model(m, p)
    assert load_model(p).sub_epoch_s == m.sub_epoch_s
    doc = json.loads(p.read_text())
    # a format-1 file (written before sub-epoch models) is a whole-epoch model
    old = {k: v for k, v in doc.items() if k != "sub_epoch_s"}
    old["format_version"] = 1
    p.write_text(json.dumps(old))
    m1 = load_model(p)
    assert m1.sub_epoch_s == 0.0 and m1.n_sub == 1 and m1.window_s == m1.epoch_s
    for bad in (7.0, -1.0, 0.5):
        doc["sub_epoch_s"] = bad
        p.write_text(json.dumps(doc))
        with pytest.raises(ModelFormatError, match="sub_epoch_s"):
            load_model(p)


def _sub_model():  # noqa: ANN202
    """The shipped model as a 10-s sub-epoch model (whatever the shipped one is)."""
    return replace(load_model(), sub_epoch_s=10.0)


def test_live_posterior_pools_the_three_windows() -> None:
    m = _sub_model()
    assert m.n_sub == 3 and m.window_s == 10.0
    rng = np.random.default_rng(5)
    sf = 100.0
    t = np.arange(int(30 * sf)) / sf
    x = 30 * np.sin(2 * np.pi * 1.5 * t) * (t > 10) + 10 * rng.standard_normal(t.size)
    stager = SleepStager(StagerConfig(), m, sf, {"eeg": 0})
    d = stager.update(Chunk(data=x[None, :], first_sample=0, sfreq=sf, channel_names=("C4",),
                            channel_types=("eeg",), timestamps=t)).decisions
    assert len(d) == 1
    cols = m.column_index("eeg")
    # the live stager resamples causally (100 → 100 Hz is the identity)
    rows = np.array([epoch_features(x[j * 1000 : (j + 1) * 1000], sf)[cols] for j in range(3)])
    post = softmax_linear(rows, m.mean, m.scale, m.coef, m.intercept, m.temperature)
    want = _naive_pool(post[None])[0]
    got = np.array([d[0].details["classifier"][c] for c in m.classes])
    np.testing.assert_allclose(got, want, rtol=1e-9)
    # windows disagree here (flat noise, then a 1.5-Hz wave): pooling is not the 30-s model
    whole = softmax_linear(epoch_features(x, sf)[cols], m.mean, m.scale, m.coef, m.intercept)
    assert not np.allclose(got, whole)


def test_batch_equals_live_for_a_sub_epoch_model() -> None:
    from firmware_host.staging.batch import stage_night

    m = _sub_model()
    sf = 200.0
    rng = np.random.default_rng(8)
    n = int(95 * sf)
    t = np.arange(n) / sf
    x = (40 * np.sin(2 * np.pi * 0.8 * t) * (t > 40) + 15 * rng.standard_normal(n))[None, :]
    stager = SleepStager(StagerConfig(), m, sf, {"eeg": 0})
    live = []
    for a in range(0, n, 777):
        b = min(a + 777, n)
        live += stager.update(Chunk(data=x[:, a:b], first_sample=a, sfreq=sf,
                                    channel_names=("C4",), channel_types=("eeg",),
                                    timestamps=t[a:b])).decisions
    labels, probs = stage_night(x, sf, m)
    assert labels == [d.label for d in live] and len(labels) == 3
    for d, p in zip(live, probs, strict=True):
        np.testing.assert_allclose([d.probabilities[c] for c in m.classes], p, atol=1e-12)


