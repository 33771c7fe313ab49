"""Stager training: window labels from the expert's finer scoring, sub-epoch training, the
expert's normalisation prior, and band-limited variants."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_host.staging.model import load_model
from firmware_host.staging.yasa_expert import CausalContext, base_names, measure_prior
from somnoloop_lab.staging.datasets import Recording
from somnoloop_lab.staging.training import (
    expert_base_rows,
    train_model,
    window_labels,
    with_expert,
)

SF = 100.0


def _night(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SF)) / SF
    return (30 * np.sin(2 * np.pi * 1.0 * t) * (1 + np.sin(2 * np.pi * t / 300))
            + 8 * rng.standard_normal(t.size))[None, :]


def _rec(fine: list[str], stages: list[str], fine_s: float = 5.0) -> Recording:
    return Recording("r", np.zeros((1, 10)), 100.0, ("C4",), ("eeg",), stages,
                     fine_stages=fine, fine_s=fine_s)


def test_window_labels_use_the_finer_expert_labels() -> None:
    fine = ["W", "N1", "N2", "N2", "N2", "N3", "N3", "N3", "N3", "N3", "N2", "N2"]
    rec = _rec(fine, ["N2", "N3"])
    # 10-s windows = pairs of 5-s labels, ties → first reached
    assert window_labels(rec, 2, 3) == ["W", "N2", "N2", "N3", "N3", "N2"]
    # 5-s windows: the labels themselves; 30-s: the epoch labels
    assert window_labels(rec, 2, 6) == fine
    assert window_labels(rec, 2, 1) == ["N2", "N3"]
    # no finer scoring, or finer labels that do not tile the window: the epoch's label
    assert window_labels(_rec([], ["N2", "W"]), 2, 3) == ["N2"] * 3 + ["W"] * 3
    assert window_labels(_rec(fine, ["N2", "N3"], fine_s=4.0), 2, 3) == ["N2"] * 3 + ["N3"] * 3
    assert window_labels(_rec(fine[:6], ["N2", "N3"]), 2, 3) == ["N2"] * 3 + ["N3"] * 3


def test_training_on_windows_with_their_own_labels() -> None:
    pytest.importorskip("sklearn")
    sf = 100.0
    rng = np.random.default_rng(11)
    # 8 epochs; within each, 5-s labels alternate blocks of "W" (fast) and "N3" (slow waves)
    fine = (["W"] * 4 + ["N3"] * 2 + ["N3"] * 6) * 4
    t = np.arange(5 * sf) / sf
    parts = [20 * np.sin(2 * np.pi * 1.0 * t) + 3 * rng.standard_normal(t.size) if s == "N3"
             else 2 * np.sin(2 * np.pi * 20.0 * t) + 3 * rng.standard_normal(t.size)
             for s in fine]
    x = np.concatenate(parts)[None, :]
    stages = ["W", "N3"] * 4
    rec = Recording("syn", x, sf, ("C4",), ("eeg",), stages, fine_stages=fine, fine_s=5.0)
    m = train_model([rec], sub_epoch_s=10.0, C=1.0)
    assert m.sub_epoch_s == 10.0 and m.n_sub == 3
    assert m.meta["n_train_epochs"] == 24  # windows, three per epoch
    assert m.meta["train_counts"]["W"] == 8 and m.meta["train_counts"]["N3"] == 16
    # a whole-epoch model on the same data has one example per epoch
    m30 = train_model([rec], C=1.0)
    assert m30.sub_epoch_s == 0.0 and m30.meta["n_train_epochs"] == 8
    with pytest.raises(ValueError, match="sub_epoch_s"):
        train_model([rec], sub_epoch_s=7.0)


def test_prior_is_measured_on_the_training_recordings() -> None:
    recs = [Recording(f"r{i}", _night(240, seed=i), SF, ("C4",), ("eeg",), ["N2"] * 8)
            for i in range(2)]
    m = with_expert(load_model(), recs)
    names = base_names(["eeg"])
    rows = [expert_base_rows(r, ["eeg"]) for r in recs]
    assert rows[0].shape == (8, len(names))
    ref = measure_prior(rows, names)
    assert m.expert["prior"] == ref
    raw = CausalContext(names).raw(rows[0])["c7"]
    both = np.vstack([raw, CausalContext(names).raw(rows[1])["c7"]])
    assert ref["median"]["eeg_sigma_c7"] == pytest.approx(np.median(both[:, names.index("eeg_sigma")]))
    assert m.meta["expert_prior_from"] == ["r0", "r1"]
