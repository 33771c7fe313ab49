"""The live stager: causality, chunking invariance, model files, unscorable epochs, gaps."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_host.chunk import Chunk
from firmware_host.stages.base import Stage
from firmware_host.staging.config import StagerConfig
from firmware_host.staging.model import (
    FORMAT_VERSION,
    ModelFormatError,
    load_model,
    save_model,
)
from firmware_host.staging.stager import UNSCORABLE, build_stager

SF = 250.0
NAMES = ("C4-M1", "C3-M2", "E1-M2", "Chin")
TYPES = ("eeg", "eeg", "eog", "emg")


def _signal(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * SF)
    t = np.arange(n) / SF
    slow = 40 * np.sin(2 * np.pi * 1.0 * t) * (1 + np.sin(2 * np.pi * t / 200))
    x = np.vstack([slow + 10 * rng.standard_normal(n) for _ in NAMES])
    return x


def _chunks(x: np.ndarray, sizes: list[int], first: int = 0) -> list[Chunk]:
    out, a = [], 0
    i = 0
    while a < x.shape[1]:
        b = min(a + sizes[i % len(sizes)], x.shape[1])
        out.append(Chunk(data=x[:, a:b], first_sample=first + a, sfreq=SF, channel_names=NAMES,
                         channel_types=TYPES, timestamps=np.arange(a, b) / SF))
        a, i = b, i + 1
    return out


def _run(x: np.ndarray, sizes: list[int], cfg: StagerConfig | None = None) -> list:
    st_ = build_stager(cfg or StagerConfig(), SF, NAMES, TYPES)
    return [d for c in _chunks(x, sizes) for d in st_.update(c).decisions]


def test_stager_is_a_stage_and_emits_one_decision_per_epoch() -> None:
    stager = build_stager(StagerConfig(), SF, NAMES, TYPES)
    assert isinstance(stager, Stage)
    ds = _run(_signal(95), [250])
    assert [d.details["epoch"] for d in ds] == [0, 1, 2]
    for k, d in enumerate(ds):
        assert d.kind == "stage"
        assert d.label in ("W", "N1", "N2", "N3", "REM", UNSCORABLE)
        assert set(d.probabilities) == {"W", "N1", "N2", "N3", "REM"}
        assert sum(d.probabilities.values()) == pytest.approx(1.0)
        assert d.model == load_model().tag
        # decision uses samples up to the end of its epoch, not beyond
        assert (k + 1) * 30 * SF - 3 <= d.sample <= (k + 1) * 30 * SF - 1
        json.dumps(d.to_json())


@settings(max_examples=12, deadline=None)
@given(sizes=st.lists(st.integers(1, 4000), min_size=1, max_size=5))
def test_chunking_invariance(sizes: list[int]) -> None:
    x = _signal(65, seed=1)
    cfg = StagerConfig(hmm=True, provisional_s=7.0)
    ref = _run(x, [int(SF)], cfg)
    got = _run(x, sizes, cfg)
    assert len(ref) == 2 + 5  # 2 epochs + provisional windows ending at 35, 42, 49, 56, 63 s
    assert [d.label for d in got] == [d.label for d in ref]
    for a, b in zip(got, ref, strict=True):
        assert a.sample == b.sample
        for s in a.probabilities:
            assert a.probabilities[s] == pytest.approx(b.probabilities[s], abs=1e-9)


def test_long_stream_through_store_compaction_and_growth() -> None:
    # 7 epochs: many more samples than the stager's preallocated store, fed in small chunks
    # (the store is compacted several times) and as one huge chunk (the store grows)
    x = _signal(215, seed=6)
    cfg = StagerConfig(hmm=True, provisional_s=9.0)
    small = _run(x, [250, 37, 1000], cfg)
    huge = _run(x, [x.shape[1]], cfg)
    assert len([d for d in small if not d.details["provisional"]]) == 7
    assert [d.label for d in small] == [d.label for d in huge]
    for a, b in zip(small, huge, strict=True):
        assert a.sample == b.sample and a.details["epoch"] == b.details["epoch"]
        for s in a.probabilities:
            assert a.probabilities[s] == pytest.approx(b.probabilities[s], abs=1e-9)


def test_causality_future_samples_do_not_change_past_decisions() -> None:
    x = _signal(125, seed=2)
    full = _run(x, [100], StagerConfig(hmm=True))
    y = x.copy()
    y[:, int(61 * SF) :] = 500 * np.random.default_rng(9).standard_normal(y[:, int(61 * SF):].shape)
    changed = _run(y, [100], StagerConfig(hmm=True))
    for a, b in zip(full[:2], changed[:2], strict=True):
        assert a == b
    prefix = _run(x[:, : int(61 * SF)], [100], StagerConfig(hmm=True))
    assert prefix == full[:2]


@pytest.mark.parametrize("kind", ["flat", "railing", "artefact"])
def test_low_quality_is_unscorable(kind: str) -> None:
    x = _signal(60, seed=3)
    seg = slice(int(30 * SF), int(60 * SF))
    if kind == "flat":
        x[:, seg] = 12.0
    elif kind == "railing":
        x[:, seg] = np.where(np.arange(x[:, seg].shape[1]) % 500 < 250, 187500.0, -187500.0)
    else:
        x[:, seg] += 5000 * np.sin(np.arange(x[:, seg].shape[1]) / SF * 2 * np.pi * 0.5)
    ds = _run(x, [500])
    assert ds[0].label != UNSCORABLE
    assert ds[1].label == UNSCORABLE
    assert ds[1].details["quality"]["bad_fraction"] > 0.5


def test_provisional_updates() -> None:
    ds = _run(_signal(70, seed=4), [250], StagerConfig(provisional_s=5.0))
    prov = [d for d in ds if d.details["provisional"]]
    final = [d for d in ds if not d.details["provisional"]]
    assert len(final) == 2
    # windows end at 35, 40, ..., 70 s except epoch ends (60 s): 35..55, 65, 70
    assert len(prov) == 7
    assert all(sum(d.probabilities.values()) == pytest.approx(1.0) for d in prov)
    samples = [d.sample for d in ds]
    assert samples == sorted(samples)


def test_gap_realigns_to_epoch_grid() -> None:
    x = _signal(150, seed=5)
    stager = build_stager(StagerConfig(), SF, NAMES, TYPES)
    ds = []
    for c in _chunks(x, [250]):
        if 40 * SF <= c.first_sample < 50 * SF:
            continue  # 10 s lost
        ds += stager.update(c).decisions
    # epoch 1 (30-60 s) is incomplete and dropped; epochs 2..4 continue on the grid
    assert [d.details["epoch"] for d in ds] == [0, 2, 3, 4]
    assert ds[1].sample == pytest.approx(90 * SF - 1, abs=3)


def test_build_errors() -> None:
    with pytest.raises(ValueError, match="available"):
        build_stager(StagerConfig(eeg_channel="Fz"), SF, NAMES, TYPES)
    with pytest.raises(ValueError, match="staging_sfreq"):
        build_stager(StagerConfig(staging_sfreq=128.0), SF, NAMES, TYPES)


def test_model_round_trip_and_version_mismatch(tmp_path) -> None:  # noqa: ANN001
    m = load_model()
    p = tmp_path / "m.json"
    save_model(m, p)
    m2 = load_model(p)
    assert m2.tag == m.tag and m2.features == m.features
    np.testing.assert_array_equal(m2.coef, m.coef)
    np.testing.assert_array_equal(m2.transition, m.transition)
    doc = json.loads(p.read_text())
    doc["format_version"] = FORMAT_VERSION + 1
    p.write_text(json.dumps(doc))
    with pytest.raises(ModelFormatError, match="format_version"):
        load_model(p)
    doc["format_version"] = FORMAT_VERSION
    doc["coef"] = doc["coef"][:-1]
    p.write_text(json.dumps(doc))
    with pytest.raises(ModelFormatError, match="coef"):
        load_model(p)
    with pytest.raises(ModelFormatError, match="cannot read"):
        load_model(tmp_path / "missing.json")
    # a stager built from the round-tripped file stamps its version
    cfg = replace(StagerConfig(), model_path=str(tmp_path / "m2.json"))
    save_model(m, cfg.model_path)
    assert build_stager(cfg, SF, NAMES, TYPES).model.tag == m.tag


@pytest.mark.parametrize(("hmm", "gamma", "lam"), [(False, 1.0, 1.0), (True, 1.0, 1.0),
                                                  (True, 0.5, 0.5)])
def test_batch_night_equals_live_stager(hmm: bool, gamma: float, lam: float) -> None:
    from firmware_host.staging.batch import stage_night

    x = _signal(130, seed=6)
    x[:, int(60 * SF) : int(90 * SF)] = 0.0  # one flat (unscorable) epoch
    cfg = StagerConfig(hmm=hmm, hmm_evidence_weight=gamma, hmm_transition_weight=lam)
    live = _run(x, [333], cfg)
    # the live stager has EEG, EOG and chin EMG: its expert uses YASA's EEG+EOG+EMG trees
    labels, probs = stage_night(x[[0, 2, 3]], SF, load_model(), cfg, roles=("eeg", "eog", "emg"))
    assert live[0].details["expert"].startswith("yasa-eeg+eog+emg")
    assert labels == [d.label for d in live]
    assert labels[2] == UNSCORABLE
    for d, p in zip(live, probs, strict=True):
        np.testing.assert_allclose([d.probabilities[s] for s in load_model().classes], p,
                                   atol=1e-9)


def test_hmm_weights_soften_the_filter() -> None:
    from firmware_host.staging.stager import effective_transition, tempered

    m = load_model()
    cfg = StagerConfig(hmm=True, hmm_evidence_weight=0.5, hmm_transition_weight=0.0)
    t = effective_transition(m, cfg)
    np.testing.assert_allclose(t, np.tile(m.prior / m.prior.sum(), (5, 1)))
    np.testing.assert_allclose(t.sum(axis=1), 1.0)
    post = np.array([0.7, 0.1, 0.1, 0.05, 0.05])
    q = tempered(post, m.prior, cfg)
    assert q.sum() == pytest.approx(1.0)
    # evidence is flattened towards the prior
    assert abs(np.log(q[0] / m.prior[0])) < abs(np.log(post[0] / m.prior[0]))
    assert tempered(post, m.prior, StagerConfig()) is post
