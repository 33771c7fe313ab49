"""Whole nights (issue 19): the night metrics on hand-made hypnograms, the tree set picked by
the configured channels (``run``, ``stage --eog/--emg``), and the cold start on synthetic
nights in bed. The sleep-onset gate itself: ``tests/firmware_host/staging/test_onset_gate.py``."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from dsp._jit import JIT_DISABLED
from firmware_host.staging.batch import stage_night
from firmware_host.staging.config import StagerConfig
from firmware_host.staging.model import load_model
from firmware_host.staging.stager import SleepStager, build_stager
from night_yardstick import in_bed_hypnogram, in_bed_night, stage_recording
from somnoloop_lab.staging.datasets import Recording
from somnoloop_lab.staging.evaluate import stager_for, stream
from somnoloop_lab.staging.metrics import (
    cold_start_false_deep,
    final_wake_false_sleep,
    night_figures,
    pool_night_figures,
    rem_entry_delays,
    rem_periods,
)

W, N1, N2, N3, R = "W", "N1", "N2", "N3", "REM"


# -- metrics on hand-made hypnograms --------------------------------------------------------
def test_cold_start_counts_n3_and_rem_in_the_leading_wake_only() -> None:
    truth = [W] * 6 + [N1, N2, N3, R, W]
    pred = [W, N3, R, N1, N2, N3] + [N3, N3, N3, R, R]
    assert cold_start_false_deep(truth, pred) == {"false_deep": 3, "wake_epochs": 6}
    # the window is capped (first 30 min = 60 epochs by default)
    assert cold_start_false_deep(truth, pred, window_epochs=2) == {"false_deep": 1,
                                                                   "wake_epochs": 2}
    # an epoch without a stage truth is skipped; a recording that starts asleep has no window
    assert cold_start_false_deep(["?", W, N2], [N3, N3, N3]) == {"false_deep": 1,
                                                                "wake_epochs": 1}
    assert cold_start_false_deep([N2, W], [N3, N3]) == {"false_deep": 0, "wake_epochs": 0}
    with pytest.raises(ValueError, match="window_epochs"):
        cold_start_false_deep(truth, pred, window_epochs=-1)


def test_rem_entry_delay_per_rem_period() -> None:
    truth = [N2, R, R, R, R, N2, R, N2, N2, R, R, R]
    assert rem_periods(truth) == [(1, 5), (9, 12)]  # the single REM epoch is not a period
    assert rem_periods(truth, min_epochs=1) == [(1, 5), (6, 7), (9, 12)]
    pred = [R, N2, N2, R, R, N2, N2, N2, N2, N2, N2, N2]
    # REM called before the period does not count; the second period is never entered
    assert rem_entry_delays(truth, pred) == [2, 3]
    assert rem_entry_delays(truth, truth) == [0, 0]
    # a period beyond the predicted length is not counted
    assert rem_entry_delays(truth, pred[:8]) == [2]


def test_final_awakening_confusions() -> None:
    truth = [W, N2, R, W, N2, W, W, W, "?"]
    pred = [R, N2, R, W, N2, R, N1, W, R]
    assert final_wake_false_sleep(truth, pred) == {"false": 2, "wake_epochs": 3}
    assert final_wake_false_sleep(truth, pred, stages=(R,)) == {"false": 1, "wake_epochs": 3}
    assert final_wake_false_sleep([W, W], [R, R]) == {"false": 0, "wake_epochs": 0}
    assert final_wake_false_sleep([N2, R], [R, R]) == {"false": 0, "wake_epochs": 0}


def test_night_figures_and_pooling() -> None:
    a = night_figures([W, W, N2, R, R, W], [N3, W, N2, N2, R, R])
    assert a == {"cold_start_false_deep": 1, "cold_start_wake_epochs": 2,
                 "rem_entry_delay_epochs": 1.0, "rem_entry_delays": [1],
                 "final_wake_false_rem_n1": 1, "final_wake_epochs": 1}
    b = night_figures([N2, N2], [N2, N2])
    assert b["rem_entry_delay_epochs"] is None and b["rem_entry_delays"] == []
    c = night_figures([R, R, R, R], [N2, N2, N2, R])
    pooled = pool_night_figures([a, b, c])
    assert pooled["cold_start_false_deep"] == 1 and pooled["cold_start_wake_epochs"] == 2
    assert pooled["rem_entry_delays"] == [1, 3] and pooled["rem_entry_delay_epochs"] == 2.0
    assert pool_night_figures([b])["rem_entry_delay_epochs"] is None


# -- the tree set follows the configured channels -------------------------------------------
@pytest.mark.parametrize(("roles", "trees"), [
    (("eeg",), "yasa-eeg-lgb@0.5.0"),
    (("eeg", "eog"), "yasa-eeg+eog-lgb@0.5.0"),
    (("eeg", "emg"), "yasa-eeg+emg-lgb@0.5.0"),
    (("eeg", "eog", "emg"), "yasa-eeg+eog+emg-lgb@0.5.0"),
])
def test_configured_channels_pick_the_tree_set(roles: tuple[str, ...], trees: str) -> None:
    names = ["C4-M1", "E1-M2", "Chin", "Fp1"]
    types = ["eeg", "eog", "emg", "misc"]
    keep = [i for i, t in enumerate(types) if t in roles or t == "misc"]
    # `run`: build_stager on the source's channel types
    st = build_stager(StagerConfig(model_path=""), 250.0, [names[i] for i in keep],
                      [types[i] for i in keep])
    assert st.expert is not None and st.expert.tag == trees
    # `run` with channels named in the config, and `stage --eog/--emg` (stager_for)
    cfg = StagerConfig(model_path="", eog_channel="E1-M2" if "eog" in roles else "",
                       emg_channel="Chin" if "emg" in roles else "")
    assert build_stager(cfg, 250.0, names, ["eeg", "misc", "misc", "misc"]).expert.tag == trees
    rec = Recording("r", np.zeros((4, 10)), 100.0, tuple(names), ("eeg", "misc", "misc", "misc"),
                    [])
    st = stager_for(rec, load_model(), eog="E1-M2" if "eog" in roles else "",
                    emg="Chin" if "emg" in roles else "")
    assert st.expert.tag == trees
    # the decisions name the trees
    x = np.random.default_rng(0).standard_normal((4, 3000)) * 20
    rec = replace(rec, data=x)
    assert {d.details["expert"] for d in stream(st, rec)} == {trees}


# -- cold start on synthetic nights in bed --------------------------------------------------
SEEDS = (1, 2, 3)


def test_in_bed_night_starts_with_half_an_hour_of_wake() -> None:
    hyp = in_bed_hypnogram(2.0, seed=1)
    assert len(hyp) == 240 and hyp[:70] == [W] * 70 and hyp[-60:] == [W] * 60
    assert {N2, N3, R} <= set(hyp)
    with pytest.raises(ValueError, match="no room"):
        in_bed_hypnogram(1.0, seed=1)


@pytest.mark.skipif(JIT_DISABLED, reason="stages nine 1.5-h synthetic nights (minutes without "
                    "numba); the gate itself: tests/firmware_host/staging/test_onset_gate.py")
@pytest.mark.parametrize("seed", SEEDS)
def test_no_n3_or_rem_in_the_first_half_hour_of_wake(seed: int) -> None:
    """Scripted nights in bed (35 min of wake first): nothing deep in the first 30 min, for
    every channel set, and sleep is still found after it."""
    rec = in_bed_night(seed, 1.5)
    for channels in ("eeg", "eeg+eog", "eeg+eog+emg"):
        labels = stage_recording(rec, channels, StagerConfig())
        assert not {N3, R} & set(labels[:60]), (channels, labels[:60])
        assert night_figures(rec.stages, labels)["cold_start_false_deep"] == 0
        assert {N2, N3} & set(labels[70:])


@pytest.mark.skipif(JIT_DISABLED, reason="stages 1.5-h synthetic nights (minutes without numba)")
@pytest.mark.parametrize("seed", SEEDS)
def test_nrem_looking_wake_is_not_called_deep_with_the_gate(seed: int) -> None:
    """The real night's failure: a quarter of the first 30 min of wake carries N3-looking EEG.
    Without the gate the stager calls it N3; with the gate it calls no N3 or REM there."""
    rec = in_bed_night(seed, 1.5, intrusions=0.25)
    off = stage_recording(rec, "eeg", replace(StagerConfig(), onset_gate=False))
    on = stage_recording(rec, "eeg", StagerConfig())
    assert off[:60].count(N3) >= 5
    assert not {N3, R} & set(on[:60])
    assert {N2, N3} & set(on[70:])


@pytest.mark.skipif(JIT_DISABLED, reason="stages a 1.5-h synthetic night (slow without numba)")
def test_batch_staging_equals_live_with_the_gate() -> None:
    rec = in_bed_night(2, 1.5, intrusions=0.25)
    cfg = StagerConfig()
    live = stream(SleepStager(cfg, load_model(), rec.sfreq, {"eeg": 0, "eog": 1}), rec, 5.0)
    labels, probs = stage_night(rec.data[:2], rec.sfreq, load_model(), cfg, roles=("eeg", "eog"))
    assert labels == [d.label for d in live]
    assert any(d.details["onset_gate"]["blocked"] > 0.5 for d in live)
    assert any(d.details["onset_gate"]["asleep"] for d in live)
    for d, p in zip(live, probs, strict=True):
        np.testing.assert_allclose([d.probabilities[s] for s in load_model().classes], p,
                                   atol=1e-9)
