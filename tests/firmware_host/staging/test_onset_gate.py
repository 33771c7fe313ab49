"""The sleep-onset gate (issue 19): no N3 or REM while the sleeper is awake in bed."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_host.staging.onset_gate import CLIP, SleepOnsetGate
from firmware_host.vocabulary import STAGES


def _p(**kw: float) -> np.ndarray:
    p = np.array([kw.get(s, 0.0) for s in STAGES]) + 1e-6
    return p / p.sum()


def test_gate_blocks_n3_and_rem_while_awake_and_reports_the_blocked_mass() -> None:
    g = SleepOnsetGate(STAGES)
    out, info = g.step(_p(W=0.3, N3=0.6, REM=0.1))
    assert info["asleep"] is False and info["blocked"] == pytest.approx(0.7, abs=1e-5)
    assert out[STAGES.index("N3")] == 0.0 and out[STAGES.index("REM")] == 0.0
    assert out.sum() == pytest.approx(1.0) and STAGES[int(np.argmax(out))] == "W"
    # everything blocked: the epoch is called wake
    out, _ = SleepOnsetGate(STAGES).step(np.array([0.0, 0.0, 0.0, 0.5, 0.5]))
    assert STAGES[int(np.argmax(out))] == "W" and out.sum() == pytest.approx(1.0)


def test_isolated_nrem_looking_wake_epochs_do_not_open_the_gate() -> None:
    g = SleepOnsetGate(STAGES)
    deep, awake = _p(N3=0.95, W=0.05), _p(W=0.95, N3=0.05)
    for _ in range(20):
        for p in (deep, deep, awake, awake, deep, awake):
            out, info = g.step(p)
            assert not info["asleep"] and out[STAGES.index("N3")] == 0.0


def test_sustained_nrem_opens_the_gate_and_sustained_wake_closes_it() -> None:
    g = SleepOnsetGate(STAGES, onset_evidence=3 * CLIP - 1e-9, wake_evidence=5 * CLIP - 1e-9)
    n2, n3, rem, awake = _p(N2=0.99), _p(N3=0.99), _p(REM=0.99), _p(W=0.99)
    assert [g.step(n2)[1]["asleep"] for _ in range(3)] == [False, False, True]
    out, info = g.step(n3)
    assert info["blocked"] == 0.0 and np.array_equal(out, n3)  # asleep: untouched
    # a brief awakening (4 epochs) keeps it open: REM right after is allowed
    assert all(g.step(awake)[1]["asleep"] for _ in range(4))
    assert STAGES[int(np.argmax(g.step(rem)[0]))] == "REM"
    # REM is evidence against being awake: after enough of it the next awakening starts from 0
    for _ in range(4):
        g.step(rem)
    assert g.state.wake == 0.0
    assert [g.step(awake)[1]["asleep"] for _ in range(5)] == [True] * 4 + [False]
    assert STAGES[int(np.argmax(g.step(rem)[0]))] != "REM"


def test_a_provisional_look_leaves_the_gate_as_it_was() -> None:
    g = SleepOnsetGate(STAGES)
    for _ in range(2):
        g.step(_p(N2=0.99))
    before = g.state
    for _ in range(5):
        g.step(_p(N2=0.99), commit=False)
    assert g.state == before
    g.reset()
    assert g.state.asleep is False and g.state.onset == 0.0


def test_batch_run_equals_steps_and_skips_unscorable_epochs() -> None:
    rng = np.random.default_rng(3)
    probs = rng.dirichlet(np.full(5, 0.3), size=80)
    scored = rng.random(80) > 0.1
    got = SleepOnsetGate(STAGES).run(probs, scored)
    g = SleepOnsetGate(STAGES)
    for i in range(80):
        want = g.step(probs[i])[0] if scored[i] else probs[i]
        np.testing.assert_array_equal(got[i], want)


def test_gate_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="missing \\['N3'\\]"):
        SleepOnsetGate(["W", "N1", "N2", "REM"])
    with pytest.raises(ValueError, match="must be > 0"):
        SleepOnsetGate(STAGES, onset_evidence=0.0)
