"""Post-processing: confidence rejection, majority vote / debouncing, onset hysteresis."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_host.emg.postprocess import PostProcessor

CLASSES = ("rest", "power", "open")


def _p(label: str, conf: float = 0.9) -> np.ndarray:
    p = np.full(3, (1 - conf) / 2)
    p[CLASSES.index(label)] = conf
    return p


def test_low_confidence_holds_last_safe_intent():
    pp = PostProcessor(CLASSES, reject_below=0.6, vote=1, onset_on=0.0, onset_off=0.0)
    assert pp.update(_p("power"), 1.0).label == "power"
    out = pp.update(_p("open", conf=0.4), 1.0)
    assert out.rejected and out.raw_label == "open" and out.label == "power"


def test_low_confidence_goes_to_rest_when_configured():
    pp = PostProcessor(CLASSES, reject_below=0.6, vote=1, onset_on=0.0, onset_off=0.0, hold="rest")
    pp.update(_p("power"), 1.0)
    assert pp.update(_p("open", conf=0.4), 1.0).label == "rest"


def test_majority_vote_suppresses_single_window_flicker_and_delays_changes():
    pp = PostProcessor(CLASSES, reject_below=0.0, vote=3, onset_on=0.0, onset_off=0.0)
    seq = ["power"] * 4 + ["open"] + ["power"] * 3 + ["open"] * 4
    out = [pp.update(_p(s), 1.0).label for s in seq]
    # the lone 'open' at index 4 never reaches the output
    assert out[:8] == ["power"] * 8
    # a real change appears after vote // 2 + 1 = 2 agreeing windows
    assert out[8] == "power" and out[9] == "open"
    assert pp.added_delay_windows == 1


def test_onset_hysteresis_starts_and_ends_cleanly():
    pp = PostProcessor(CLASSES, reject_below=0.0, vote=1, onset_on=0.2, onset_off=0.1)
    forces = [0.0, 0.15, 0.25, 0.15, 0.12, 0.09, 0.15]
    out = [pp.update(_p("power"), f) for f in forces]
    assert [o.active for o in out] == [False, False, True, True, True, False, False]
    assert [o.label for o in out] == ["rest", "rest", "power", "power", "power", "rest", "rest"]


def test_reset_returns_to_rest():
    pp = PostProcessor(CLASSES, vote=1, onset_on=0.0, onset_off=0.0)
    pp.update(_p("open"), 1.0)
    pp.reset()
    assert pp.update(_p("power", conf=0.3), 1.0).label == "rest"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"rest_label": "idle"}, "rest label"),
        ({"vote": 0}, "vote"),
        ({"onset_on": 0.1, "onset_off": 0.2}, "onset_off"),
        ({"hold": "maybe"}, "hold"),
        ({"reject_below": 2.0}, "reject_below"),
    ],
)
def test_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PostProcessor(CLASSES, **kwargs)


def test_wrong_probability_count():
    with pytest.raises(ValueError, match="expected 3 probabilities"):
        PostProcessor(CLASSES).update(np.ones(4) / 4, 0.5)
