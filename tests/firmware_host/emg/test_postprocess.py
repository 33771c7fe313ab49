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


def _naive_intents(probs, forces, classes, reject_below, vote, onset_on, onset_off, hold):
    """The post-processing spelled out window by window (vote history recounted each time)."""
    history: list[str] = []
    last_safe = output = "rest"
    active = False
    out = []
    for p, force in zip(probs, forces, strict=True):
        k = int(np.argmax(p))
        raw, conf = classes[k], float(p[k])
        rejected = conf < reject_below
        if rejected:
            candidate = last_safe if hold == "last" else "rest"
        else:
            candidate = last_safe = raw
        history = (history + [candidate])[-vote:]
        counts = {lab: history.count(lab) for lab in history}
        best = max(counts, key=counts.get)
        voted = best if counts[best] >= len(history) // 2 + 1 else output
        active = force >= (onset_off if active else onset_on)
        gated = onset_on > 0.0 or onset_off > 0.0
        output = voted if (active or not gated) else "rest"
        out.append((output, raw, conf, rejected, active))
    return out


@pytest.mark.parametrize("vote", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("hold, onset", [("last", (0.2, 0.1)), ("rest", (0.0, 0.0))])
def test_update_many_equals_update_and_naive_reference(vote, hold, onset):
    rng = np.random.default_rng(vote)
    n = 400
    # sticky random labels with varied confidence (some rejected) and wandering force
    labels = np.repeat(rng.integers(0, 3, size=n // 8), 8)[:n]
    labels[rng.random(n) < 0.2] = rng.integers(0, 3)
    probs = rng.dirichlet(np.ones(3), size=n)
    probs[np.arange(n), labels] += rng.uniform(0.0, 2.0, size=n)
    probs /= probs.sum(axis=1, keepdims=True)
    forces = np.clip(np.cumsum(rng.normal(0, 0.05, size=n)) + 0.15, 0.0, 1.0)
    kwargs = dict(reject_below=0.6, vote=vote, onset_on=onset[0], onset_off=onset[1], hold=hold)
    want = _naive_intents(probs, forces, CLASSES, **kwargs)
    one = PostProcessor(CLASSES, **kwargs)
    by_one = [one.update(probs[i], float(forces[i])) for i in range(n)]
    many = PostProcessor(CLASSES, **kwargs)
    cuts = [0, 1, 2, 50, 51, 200, n]
    by_many = [
        it for lo, hi in zip(cuts[:-1], cuts[1:], strict=True)
        for it in many.update_many(probs[lo:hi], forces[lo:hi])
    ]
    got_one = [(i.label, i.raw_label, i.confidence, i.rejected, i.active) for i in by_one]
    got_many = [(i.label, i.raw_label, i.confidence, i.rejected, i.active) for i in by_many]
    assert got_one == want
    assert got_many == want
    assert len({w[0] for w in want}) > 1  # the data exercised changes of intent


def test_update_many_checks_shapes():
    pp = PostProcessor(CLASSES)
    with pytest.raises(ValueError, match="probabilities"):
        pp.update_many(np.ones((2, 4)) / 4, np.zeros(2))
    with pytest.raises(ValueError, match="force"):
        pp.update_many(np.ones((2, 3)) / 3, np.zeros(3))
    assert pp.update_many(np.empty((0, 3)), np.empty(0)) == []
