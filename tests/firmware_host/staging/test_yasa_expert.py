"""The YASA expert: causal context features, pooling, spec checks, stager integration, and
what it adds on a synthetic night with REM (which DREAMS cannot show)."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from dsp._jit import JIT_DISABLED
from firmware_host.chunk import Chunk
from firmware_host.staging.config import StagerConfig
from firmware_host.staging.model import load_model
from firmware_host.staging.stager import SleepStager
from firmware_host.staging.yasa_expert import (
    CausalContext,
    ExpertSpec,
    YasaExpert,
    base_names,
    pool_with_expert,
)
from firmware_host.vocabulary import STAGES
from somnoloop_lab.staging.evaluate import score, stream
from somnoloop_lab.staging.training import DEFAULT_EXPERT
from tests.reference.yasa_context import causal_context

SF = 100.0


def test_causal_context_equals_the_naive_definition() -> None:
    rng = np.random.default_rng(0)
    base = rng.standard_normal((25, 4)) + np.arange(4)
    for prior in (None, "prior"):
        pm = pr = None
        if prior:
            pm = {k: rng.standard_normal(4) for k in ("c7", "p2")}
            pr = {k: 1.0 + rng.random(4) for k in ("c7", "p2")}
        ctx = CausalContext([f"f{i}" for i in range(4)], pm, pr, prior_epochs=6.0)
        got = [ctx.push(b) for b in base]
        ref = causal_context(base, pm, pr, 6.0)
        for key in ("c7", "p2"):
            np.testing.assert_allclose(np.array([g[key] for g in got]), ref["scaled"][key],
                                       rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(ctx.raw(base)[key], ref["raw"][key], rtol=1e-12)


def test_a_provisional_look_changes_nothing() -> None:
    rng = np.random.default_rng(1)
    base = rng.standard_normal((12, 3))
    a, b = CausalContext(["x", "y", "z"]), CausalContext(["x", "y", "z"])
    for i, row in enumerate(base):
        if i % 3 == 1:
            peek = b.push(row + 5.0, commit=False)
            assert np.all(np.isfinite(peek["c7"]))
        ra, rb = a.push(row), b.push(row)
        for key in ("c7", "p2"):
            np.testing.assert_array_equal(ra[key], rb[key])


def test_features_without_a_prior_use_the_nights_statistics_alone() -> None:
    rng = np.random.default_rng(2)
    base = rng.standard_normal((10, 2))
    nan_prior = {k: np.array([np.nan, 3.0]) for k in ("c7", "p2")}
    with_nan = CausalContext(["a", "b"], nan_prior, {k: np.array([np.nan, 2.0]) for k in nan_prior},
                             prior_epochs=5.0)
    plain = CausalContext(["a", "b"])
    for row in base:
        x, y = with_nan.push(row), plain.push(row)
        np.testing.assert_array_equal(x["c7"][0], y["c7"][0])  # no prior: identical
        assert x["c7"][1] != y["c7"][1]  # prior: blended


def test_pooling_keeps_absent_stages_from_the_expert_and_shares_the_rest() -> None:
    ours = np.array([0.1, 0.2, 0.6, 0.09, 0.01])
    theirs = np.array([0.05, 0.15, 0.2, 0.1, 0.5])
    p = pool_with_expert(ours, theirs, 0.5, absent=("REM",))
    assert p.sum() == pytest.approx(1.0)
    assert p[4] == pytest.approx(0.5)  # REM: the expert's say
    g = np.sqrt(ours[:4] * theirs[:4])
    np.testing.assert_allclose(p[:4], g / g.sum() * 0.5)
    # weight 0: our classifier over the stages it knows; weight 1: the expert
    np.testing.assert_allclose(pool_with_expert(ours, theirs, 0.0)[:4] / 0.99, ours[:4] / 0.99,
                               rtol=1e-12)
    np.testing.assert_allclose(pool_with_expert(ours, theirs, 1.0, ("REM",)), theirs, rtol=1e-12)
    # zeros never give NaN
    z = pool_with_expert(np.array([1.0, 0, 0, 0, 0]), np.array([0, 1.0, 0, 0, 0]), 0.5)
    assert np.all(np.isfinite(z)) and z.sum() == pytest.approx(1.0)


def test_expert_spec_is_checked_and_picks_the_richest_tree_set() -> None:
    spec = ExpertSpec.from_json(DEFAULT_EXPERT)
    assert spec.roles_for(["eeg"]) == ["eeg"]
    assert spec.roles_for(["eeg", "eog"]) == ["eeg", "eog"]
    assert spec.roles_for(["eeg", "emg"]) == ["eeg", "emg"]
    assert spec.roles_for(["emg", "eeg", "eog"]) == ["eeg", "eog", "emg"]
    assert ExpertSpec.from_json({"trees": {"eeg": "a.npz"}}).roles_for(["eeg", "eog"]) == ["eeg"]
    with pytest.raises(ValueError, match="needs an EEG channel"):
        spec.roles_for(["eog"])
    for bad, msg in (({"trees": {}}, "expert.trees"), ({**DEFAULT_EXPERT, "weight": 2.0}, "0..1"),
                     ({"trees": {"eog": "x.npz"}}, "must start with 'eeg'"),
                     ({**DEFAULT_EXPERT, "night_hours": 0}, "night_hours")):
        with pytest.raises(ValueError, match=msg):
            ExpertSpec.from_json(bad)
    assert ExpertSpec.from_json(spec.to_json()) == spec


def test_expert_maps_every_tree_feature_and_stamps_its_trees() -> None:
    spec = ExpertSpec.from_json(DEFAULT_EXPERT)
    for roles in (["eeg"], ["eeg", "eog"], ["eeg", "emg"], ["eeg", "eog", "emg"]):
        ex = YasaExpert(spec, roles, SF)
        assert ex.roles == roles and ex.tag.startswith("yasa-" + "+".join(roles))
        n = len(base_names(roles))
        row = ex.tree_row(np.arange(n, dtype=float), {"c7": np.full(n, -1.0),
                                                     "p2": np.full(n, -2.0)}, epoch=240)
        names = ex.trees.feature_names
        assert row.size == len(names)
        assert row[names.index("time_hour")] == pytest.approx(2.0)  # epoch 240 = 2 h
        assert row[names.index("time_norm")] == pytest.approx(0.25)  # of a nominal 8-h night
        assert row[names.index(f"{roles[0]}_abspow_c7min_norm")] == -1.0
        assert row[names.index(f"{roles[-1]}_std_p2min_norm")] == -2.0


def _night(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SF)) / SF
    return (30 * np.sin(2 * np.pi * 1.0 * t) * (1 + np.sin(2 * np.pi * t / 300))
            + 8 * rng.standard_normal(t.size))[None, :]


def _chunks(x: np.ndarray, size: int, first: int = 0) -> list[Chunk]:
    return [Chunk(data=x[:, a : a + size], first_sample=first + a, sfreq=SF,
                  channel_names=("C4",), channel_types=("eeg",),
                  timestamps=(first + np.arange(a, min(a + size, x.shape[1]))) / SF)
            for a in range(0, x.shape[1], size)]


def test_the_nights_context_survives_lost_samples_and_reset_clears_it() -> None:
    st = SleepStager(StagerConfig(), load_model(), SF, {"eeg": 0})
    assert st.expert is not None
    x = _night(240)
    out = [d for c in _chunks(x[:, :9000], 500) for d in st.update(c).decisions]
    assert len(out) == 3 and st.expert.context._n == 3
    # 40 s lost: the partial epoch is dropped, the grid restarts at 150 s, the night's
    # context carries on (and the elapsed time counts the lost epochs)
    out += [d for c in _chunks(x[:, 13000:], 500, first=13000) for d in st.update(c).decisions]
    assert [d.details["epoch"] for d in out] == [0, 1, 2, 5, 6, 7]
    assert st.expert.context._n == 6
    assert all(d.details["expert"] == st.expert.tag for d in out)
    st.reset()
    assert st.expert.context._n == 0
    # the switch in the config turns the expert off
    off = SleepStager(StagerConfig(expert=False), load_model(), SF, {"eeg": 0})
    assert off.expert is None


@pytest.mark.skipif(JIT_DISABLED, reason="stages three 4-h synthetic nights (~1 min without "
                    "numba); the expert's kernels are covered by the other tests")
def test_expert_brings_rem_to_the_real_eeg_model_and_eog_emg_make_it_better() -> None:
    """The default model's own classifier never saw REM (DREAMS has none). On a synthetic
    night it has never seen either, YASA's trees find REM from EEG alone, and much better
    with EOG and chin EMG."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tools"))
    from train_stager import synthetic_recording

    rec = synthetic_recording(7, 4.0)
    m = load_model()
    res = {}
    for name, cfg, rows in (("ours", StagerConfig(expert=False), {"eeg": 0}),
                            ("eeg", StagerConfig(), {"eeg": 0}),
                            ("eeg+eog+emg", StagerConfig(), {"eeg": 0, "eog": 1, "emg": 2})):
        labels = [d.label for d in stream(SleepStager(cfg, m, rec.sfreq, rows), rec)]
        truth = np.array(rec.stages[: len(labels)])
        rem = truth == "REM"
        res[name] = (score(rec, labels)["kappa"], float(np.mean(np.array(labels)[rem] == "REM")))
    assert res["ours"][1] == 0.0  # no REM without the expert
    assert res["eeg"][1] >= 0.5 and res["eeg"][0] >= res["ours"][0] + 0.1
    assert res["eeg+eog+emg"][1] >= 0.8 and res["eeg+eog+emg"][0] >= res["eeg"][0] + 0.1
    assert set(STAGES) >= {lab for lab in labels}


def test_replaced_expert_weight_changes_the_decision_probabilities() -> None:
    m = load_model()
    x = _night(60)
    p = {}
    for w in (0.0, 1.0):  # the pooled posterior itself: no sleep-onset gate after it
        st = SleepStager(StagerConfig(onset_gate=False),
                         replace(m, expert={**m.expert, "weight": w}), SF, {"eeg": 0})
        d = [d for c in _chunks(x, 1000) for d in st.update(c).decisions]
        p[w] = np.array([d[0].probabilities[s] for s in STAGES])
        ours = np.array([d[0].details["classifier"][s] for s in STAGES])
    # weight 0: our classifier's shares over W..N3; REM is the expert's either way
    np.testing.assert_allclose(p[0.0][:4] / p[0.0][:4].sum(), ours[:4] / ours[:4].sum(),
                               rtol=1e-9)
    assert p[0.0][4] == pytest.approx(p[1.0][4])


def test_hmm_view_keeps_absent_stages_out_unless_the_expert_speaks_for_them() -> None:
    from firmware_host.staging.model import hmm_view

    m = load_model()
    rem = m.classes.index("REM")
    assert m.meta["absent_classes"] == ["REM"]
    alone = hmm_view(m, expert_active=False)
    assert np.all(alone.transition[:, rem] < 1e-4)
    np.testing.assert_allclose(alone.transition.sum(axis=1), 1.0)
    pooled = hmm_view(m, expert_active=True)
    np.testing.assert_array_equal(pooled.transition, m.transition)  # as learnt
    # REM's prior: its long-run share under the learnt transitions (the stationary vector)
    pi = np.linalg.matrix_power(m.transition, 500)[0]
    assert pooled.prior[rem] / pooled.prior.sum() == pytest.approx(pi[rem], rel=0.05)
    assert pooled.prior[rem] > 10 * m.prior[rem] / m.prior.sum()
    # a stager with the expert uses the pooled view, one without it the other
    assert SleepStager(StagerConfig(), m, SF, {"eeg": 0}).model.transition[0, rem] > 1e-3
    assert SleepStager(StagerConfig(expert=False), m, SF, {"eeg": 0}).model.transition[0, rem] < 1e-4
