"""AASM metrics on hand-made hypnograms; every expected figure is worked out in the comments.

30-s epochs, so one epoch = 0.5 min.
"""

import pytest

from firmware_host.report.metrics import sleep_metrics


def test_no_sleep_at_all():
    m = sleep_metrics(["W"] * 10)
    assert (m.tib_min, m.tst_min, m.spt_min, m.se_pct) == (5.0, 0.0, 0.0, 0.0)
    # latencies and WASO are undefined without sleep; nothing to count
    assert m.sol_min is None and m.lps_min is None and m.rem_latency_min is None and m.waso_min is None
    assert (m.n_awakenings, m.n_stage_shifts) == (0, 0)
    assert m.stage_min["W"] == 5.0
    assert all(v is None for v in m.stage_pct_tst.values())


def test_no_rem():
    hyp = ["W", "W", "N1", "N2", "N2", "N3", "N3", "N2", "W", "W"]
    m = sleep_metrics(hyp)
    assert m.tib_min == 5.0                      # 10 epochs
    assert m.sol_min == 1.0                      # first sleep at epoch 2
    assert m.spt_min == 3.0                      # epochs 2..7
    assert m.tst_min == 3.0                      # 6 sleep epochs
    assert m.se_pct == pytest.approx(60.0)       # 3 / 5
    assert m.waso_min == 0.0                     # the final W is after the last sleep epoch
    assert m.n_awakenings == 0
    assert m.n_stage_shifts == 3                 # N1→N2, N2→N3, N3→N2
    assert m.rem_latency_min is None
    assert m.lps_min is None                     # a 6-epoch run is shorter than 10 min
    assert sleep_metrics(hyp, persistent_epochs=4).lps_min == 1.0
    assert m.stage_min == {"W": 2.0, "N1": 0.5, "N2": 1.5, "N3": 1.0, "REM": 0.0}
    assert m.stage_pct_tst["N1"] == pytest.approx(100 / 6)
    assert m.stage_pct_tst["N2"] == pytest.approx(50.0)
    assert m.stage_pct_tst["N3"] == pytest.approx(100 / 3)
    assert m.stage_pct_tst["REM"] == 0.0


def test_sleep_onset_at_the_first_epoch():
    m = sleep_metrics(["N2", "N2", "N3", "REM", "REM", "W", "N2"])
    assert m.sol_min == 0.0
    assert m.rem_latency_min == 1.5              # REM at epoch 3, onset at 0
    assert m.spt_min == 3.5 and m.tst_min == 3.0
    assert m.waso_min == 0.5 and m.n_awakenings == 1
    assert m.n_stage_shifts == 4                 # N2→N3→REM→W→N2
    assert m.se_pct == pytest.approx(100 * 3.0 / 3.5)


def test_fragmented_sleep():
    hyp = ["W", "N1", "W", "N2", "W", "W", "N2", "REM", "W", "N2", "W"]
    m = sleep_metrics(hyp)
    assert m.sol_min == 0.5                      # epoch 1
    assert m.spt_min == 4.5                      # epochs 1..9
    assert m.tst_min == 2.5                      # epochs 1, 3, 6, 7, 9
    assert m.waso_min == 2.0                     # W at 2, 4, 5, 8
    assert m.n_awakenings == 3                   # runs [2], [4, 5], [8]
    assert sleep_metrics(hyp, min_awakening_s=60).n_awakenings == 1   # only [4, 5] lasts ≥ 60 s
    assert m.n_stage_shifts == 7                 # N1 W N2 W W N2 REM W N2: 7 changes
    assert m.rem_latency_min == 3.0              # REM at 7, onset at 1
    assert sleep_metrics(hyp, persistent_epochs=2).lps_min == 3.0   # first 2-epoch run: 6, 7
    assert m.se_pct == pytest.approx(100 * 2.5 / 5.5)


def test_unscored_epochs():
    hyp = ["W", "N2", "unscorable", "N2", "W", "?", "W", "N3", "REM", None, "W"]
    m = sleep_metrics(hyp)
    assert m.tib_min == 5.5                      # unscored epochs are time in bed
    assert m.unscored_min == 1.5                 # epochs 2, 5, 9
    assert m.spt_min == 4.0                      # epochs 1..8
    assert m.tst_min == 2.0                      # 1, 3, 7, 8
    assert m.waso_min == 1.0                     # W at 4 and 6, not the unscored 5
    assert m.unscored_in_spt_min == 1.0          # 2 and 5
    # unscored epochs are transparent: W ? W is one awakening, N2 uns N2 no shift
    assert m.n_awakenings == 1
    assert m.n_stage_shifts == 3                 # N2 N2 W W N3 REM
    # ... but they break persistent sleep: runs [1], [3], [7, 8]
    assert sleep_metrics(hyp, persistent_epochs=2).lps_min == 3.5
    assert m.rem_latency_min == 3.5              # REM at 8, onset at 1
    assert m.se_pct == pytest.approx(100 * 2.0 / 5.5)
    assert m.stage_pct_tst == {"N1": 0.0, "N2": 50.0, "N3": 25.0, "REM": 25.0}


def test_night_starting_with_a_gap():
    m = sleep_metrics([None, None, None, "W", "N1", "N2", "N2", "N2"])
    assert m.tib_min == 4.0 and m.unscored_min == 1.5
    assert m.sol_min == 2.0                      # counted from lights off, across the gap
    assert m.unscored_in_spt_min == 0.0
    assert (m.spt_min, m.tst_min, m.waso_min) == (2.0, 2.0, 0.0)
    assert m.se_pct == 50.0
    assert (m.n_awakenings, m.n_stage_shifts) == (0, 1)
    assert sleep_metrics([None, None, None, "W", "N1", "N2", "N2", "N2"], persistent_epochs=3).lps_min == 2.0


def test_other_epoch_lengths_scale_minutes():
    m = sleep_metrics(["W", "N2", "N2", "W"], epoch_s=20.0)
    assert m.tib_min == pytest.approx(80 / 60) and m.tst_min == pytest.approx(40 / 60)


def test_empty_hypnogram():
    m = sleep_metrics([])
    assert m.tib_min == 0.0 and m.se_pct is None and m.sol_min is None


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"epoch_s": 0.0}, "epoch_s must be a positive number"),
    ({"epoch_s": float("nan")}, "epoch_s must be a positive number"),
    ({"persistent_epochs": 0}, "persistent_epochs must be ≥ 1"),
])
def test_bad_parameters_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sleep_metrics(["W"], **kwargs)
