"""Hypnogram agreement metrics: accuracy, κ, macro-F1, unscorable epochs, flicker, calibration."""

from __future__ import annotations

import pytest

from firmware_host.staging.stager import UNSCORABLE
from somnoloop_lab.staging.metrics import agreement, calibration, flicker_per_hour


def test_metrics() -> None:
    t = ["W", "N2", "N2", "N3", "?", "N1"]
    p = ["W", "N2", "N3", "N3", "N2", UNSCORABLE]
    r = agreement(t, p)
    assert r["n_epochs"] == 5 and r["n_unscorable"] == 1
    assert r["accuracy"] == pytest.approx(3 / 5)
    assert agreement(["W", "N2"], ["W", "N2"])["kappa"] == pytest.approx(1.0)
    # a stage only ever predicted (REM here) counts in macro_f1, not in macro_f1_truth
    r = agreement(["N2", "N2", "W"], ["N2", "REM", "W"])
    assert r["macro_f1"] == pytest.approx((2 / 3 + 1.0 + 0.0) / 3)
    assert r["macro_f1_truth"] == pytest.approx((2 / 3 + 1.0) / 2)
    assert flicker_per_hour(["W", "W", "N1", "N2"]) == pytest.approx(2 / (4 * 30 / 3600))


def test_calibration_metric() -> None:
    sure = {"W": 1.0, "N1": 0.0, "N2": 0.0, "N3": 0.0, "REM": 0.0}
    c = calibration(["W", "W"], [sure, sure])
    assert c["brier"] == pytest.approx(0.0) and c["ece"] == pytest.approx(0.0)
    half = {"W": 0.5, "N1": 0.5, "N2": 0.0, "N3": 0.0, "REM": 0.0}
    c = calibration(["W", "N1", "?"], [half, half, half])
    assert c["brier"] == pytest.approx(0.5)
    assert c["ece"] == pytest.approx(0.0)  # 50 % confident, right half of the time
