"""Scripted hypnogram, calibration and default gesture scripts."""

from __future__ import annotations

from collections import Counter

import pytest

from firmware_host.synthetic import (
    calibration_script,
    default_gesture_script,
    scripted_hypnogram,
)
from firmware_host.vocabulary import GRIP_INTENTS, STAGES


def test_scripted_night_has_realistic_architecture() -> None:
    hyp = scripted_hypnogram(8 * 3600, 30.0, seed=1)
    assert len(hyp) == 960
    assert hyp[0] == "W" and hyp[-1] == "W"
    share = {s: c / len(hyp) for s, c in Counter(hyp).items()}
    assert set(share) == set(STAGES)
    assert 0.35 < share["N2"] < 0.6 and 0.1 < share["N3"] < 0.3 and 0.15 < share["REM"] < 0.3
    half = len(hyp) // 2
    assert hyp[:half].count("N3") > 2 * hyp[half:].count("N3")
    assert hyp[half:].count("REM") > 1.5 * hyp[:half].count("REM")


def test_scripted_night_scales_and_varies_with_seed() -> None:
    short = scripted_hypnogram(1800, 30.0, seed=1)
    assert len(short) == 60 and set(short) == set(STAGES)
    assert len(scripted_hypnogram(95, 30.0)) == 4
    assert scripted_hypnogram(8 * 3600, seed=1) != scripted_hypnogram(8 * 3600, seed=2)
    assert scripted_hypnogram(8 * 3600, seed=1) == scripted_hypnogram(8 * 3600, seed=1)


def test_calibration_script_prompts_in_order() -> None:
    ev = calibration_script(["rest", "power", "open"], reps=2, hold_s=2.0, rest_s=1.0,
                            sfreq=250.0, start_s=10.0)
    assert [e.grip for e in ev] == ["rest", "power", "open"] * 2
    assert ev[0].start_sample == 2500 and ev[0].stop_sample == 3000
    assert ev[1].start_sample == 2500 + 750
    assert all(e.force == 0.7 for e in ev)


def test_calibration_script_rejects_unknown_grip() -> None:
    with pytest.raises(ValueError, match="unknown grips \\['fist'\\]; allowed"):
        calibration_script(["fist"], 1, 1.0, 1.0, 250.0)
    with pytest.raises(ValueError, match="reps >= 1"):
        calibration_script(["power"], 0, 1.0, 1.0, 250.0)


def test_default_gesture_sessions_near_start_and_end() -> None:
    ev = default_gesture_script(8 * 3600, 250.0, seed=3)
    assert len(ev) == 36
    assert Counter(e.grip for e in ev) == {g: 6 for g in GRIP_INTENTS if g != "rest"}
    assert ev[0].start_sample == 60 * 250
    assert ev[-1].stop_sample <= (8 * 3600 - 60) * 250
    assert len(default_gesture_script(300, 250.0)) == 18
    short = default_gesture_script(120, 250.0)
    assert all(e.stop_sample <= 120 * 250 for e in short)
