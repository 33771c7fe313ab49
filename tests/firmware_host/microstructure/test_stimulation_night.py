"""End to end on a synthetic night: slow oscillations planted in the signal, the live stage's
decisions and a hypnogram through the programme engine's ``event`` rule — stimuli only in
stable N3, spaced by the refractory time, each at its scheduled up-state."""

from __future__ import annotations

import numpy as np

from firmware_host.decision import Decision
from firmware_host.microstructure.slow_oscillations import (
    SlowOscillationConfig,
    SlowOscillationStage,
)
from tests.firmware_host.microstructure.synthetic import background, stream
from tests.firmware_host.programme.helpers import actions, make, rule

FS = 100.0


def test_stimuli_only_in_stable_n3_with_refractory_time() -> None:
    n = int(300 * FS)
    t = np.arange(n) / FS
    x = background(n, FS, 11)
    deep = t >= 90  # slow oscillations from 90 s on, also in the W epochs 240-300 s
    x[deep] += -150 * np.sin(2 * np.pi * 0.9 * t[deep])
    labels = ["N2"] * 3 + ["N3"] * 5 + ["W"] * 2  # 30-s epochs: N3 90-240 s
    hypno = [Decision("stage", int((k + 1) * 30 * FS), lab, {lab: 0.9}, "test@1",
                      {"provisional": False}) for k, lab in enumerate(labels)]
    so = stream(SlowOscillationStage(SlowOscillationConfig(enabled=True)), x, FS)
    assert len(so) > 100
    assert [d for d in so if d.sample > 280 * FS]  # the detector goes on; the rule must stop
    eng, sink = make(rule("so", {"kind": "event", "decision": "slow_oscillation",
                                 "stages": ["N3"], "dwell": "30s"},
                          {"kind": "profile", "target": "vibration",
                           "points": [["0", 40.0], ["0.2s", 0.0]], "step": "0.1s"},
                          min_interval="2.5s"))
    eng.set_sample_rate(FS)
    for d in sorted([*hypno, *so], key=lambda d: (d.sample, d.kind != "stage")):
        eng.decide([d], d.sample / FS)
    eng.decide([], 400.0)
    fired = [a for a in actions(sink, "so") if a["trigger"] == "event"]
    times = np.array([a["t"] for a in fired])
    # N3 since 90 s is decided at 120 s, when its 30-s dwell (counted from the epoch's start)
    # is complete; W (epoch 240-270) is decided at 270 s
    assert len(times) >= 20
    assert times.min() >= 120.0 and times.max() <= 270.0
    assert np.diff(times).min() >= 2.5
    for a in fired:  # delivered at the stimulus sample the stage scheduled
        assert a["evidence"]["stimulus_t"] == round(a["evidence"]["stimulus_sample"] / FS, 3)
