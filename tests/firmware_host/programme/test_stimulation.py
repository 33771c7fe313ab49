"""The ``event`` trigger: stimulation timed by slow-oscillation / spindle decisions, only in
stable N2/N3, with refractory time (``min_interval``), arousal stop and ON/OFF sham blocks."""

from __future__ import annotations

import pytest

from firmware_host.config import ConfigError, parse_config
from firmware_host.decision import Decision
from tests.firmware_host.programme.helpers import actions, hypnogram, make, rule, run, suppressed

PULSE = {"kind": "profile", "target": "vibration", "points": [["0", 60.0], ["1s", 0.0]],
         "step": "1s"}


def up_state(t: int, delay: int = 1, on_time: bool = True) -> Decision:
    """A slow-oscillation decision at second ``t`` whose stimulus is due ``delay`` s later."""
    return Decision("slow_oscillation", t, "up_state", {}, "so@1", {
        "trough_sample": t - 1, "trough_uv": -90.0, "period_s": 1.0,
        "predicted_upstate_sample": t + delay, "target_phase_deg": 0.0,
        "stimulus_sample": t + delay, "stimulus_delay_s": float(delay), "on_time": on_time,
        "method": "phase"})


def stimuli(sink, name: str = "so") -> list[dict]:  # noqa: ANN001
    """The firings of rule ``name`` (not its profile's later steps)."""
    return [a for a in actions(sink, name) if a["trigger"] == "event"]


def so_rule(**guards: object) -> dict:
    return rule("so", {"kind": "event", "decision": "slow_oscillation",
                       "stages": ["N2", "N3"], "dwell": "1m"}, PULSE, **guards)


def night(stages: list[Decision], every: int = 2) -> list[Decision]:
    """The hypnogram plus an on-time up-state decision every ``every`` s, in time order."""
    end = stages[-1].sample
    return sorted([*stages, *(up_state(t) for t in range(1, end, every))],
                  key=lambda d: (d.sample, d.kind != "stage"))


def test_fires_only_in_stable_n2_n3_at_the_scheduled_stimulus_time() -> None:
    eng, sink = make(so_rule())
    # W 0-60, N1 60-120, N2 from 120 (stable from 150 after 1 min counted from 90's end)
    out = run(eng, night(hypnogram(("W", 2), ("N1", 2), ("N2", 4))), until=240)
    fired = stimuli(sink)
    assert fired, "no stimulus in stable N2"
    assert min(a["t"] for a in fired) >= 150.0
    first = fired[0]
    assert first["trigger"] == "event"
    ev = first["evidence"]
    # delivered at the decision's stimulus time, 1 s after the decision, with its phase
    assert ev["stimulus_t"] == ev["decisions"][0]["t"] + 1.0
    assert ev["target_phase_deg"] == 0.0
    assert ev["predicted_upstate_sample"] == ev["decisions"][0]["sample"] + 1
    assert out[0].target == "vibration"


def test_refractory_time_is_honoured() -> None:
    eng, sink = make(so_rule(min_interval="5s"))
    run(eng, night(hypnogram(("N3", 6))), until=200)
    times = [a["t"] for a in stimuli(sink)]
    assert len(times) >= 10
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 5.0
    assert suppressed(sink, "min_interval")


def test_stops_on_arousal_and_waits_for_stable_sleep_again() -> None:
    eng, sink = make(so_rule())
    stages = hypnogram(("N3", 4), ("W", 1), ("N3", 4))  # W epoch 120-150, decided at 150
    # an up-state decision before the W decision whose stimulus is due after it: cancelled
    decisions = night(stages) + [up_state(148, delay=3)]
    decisions.sort(key=lambda d: (d.sample, d.kind != "stage"))
    run(eng, decisions, until=300)
    times = [a["t"] for a in stimuli(sink)]
    assert times
    # nothing from the arousal's decision until 1 min of N3 again (counted from 150: 210)
    assert not [t for t in times if 150.0 <= t < 210.0]
    assert [t for t in times if t >= 210.0]
    (cancel,) = suppressed(sink, "arousal")
    assert "W at 150.0 s cancelled the stimulus due at 151.0 s" in cancel["reason"]


def test_off_blocks_are_journalled_as_sham_not_delivered() -> None:
    eng, sink = make(rule("so", {"kind": "event", "decision": "slow_oscillation",
                                 "stages": ["N3"], "blocks": ["60s", "60s"]}, PULSE))
    run(eng, night(hypnogram(("N3", 8)), every=10), until=240)
    delivered = [a["t"] for a in stimuli(sink)]
    sham = suppressed(sink, "sham")
    assert delivered and sham
    assert all(t % 120 < 60 for t in delivered)
    assert all("OFF block" in s["reason"] for s in sham)
    assert len(sham) == pytest.approx(len(delivered), abs=3)


def test_late_decisions_and_spindle_onsets() -> None:
    eng, sink = make(rule("sp", {"kind": "event", "decision": "spindle", "stages": ["N2"]},
                          PULSE))
    spindles = [Decision("spindle", 40, "onset", {}, "sp@1", {"onset_sample": 39,
                                                               "latency_s": 1.0}),
                Decision("spindle", 45, "end", {}, "sp@1", {"onset_sample": 39})]
    run(eng, sorted([*hypnogram(("N2", 2)), *spindles], key=lambda d: d.sample), until=60)
    (fired,) = stimuli(sink, "sp")
    assert fired["t"] == 40.0 and fired["evidence"]["onset_sample"] == 39
    eng, sink = make(so_rule())
    run(eng, [*hypnogram(("N3", 3)), up_state(95, on_time=False)], until=120)
    assert stimuli(sink) == []


@pytest.mark.parametrize(("trigger", "match"), [
    ({"kind": "event", "stages": ["N3"]}, "decision = 'stage'"),
    ({"kind": "event", "decision": "slow_oscillation"}, "stages is missing"),
    ({"kind": "event", "decision": "spindle", "stages": ["N2"], "blocks": ["5m"]},
     "exactly two durations"),
    ({"kind": "stage", "stages": ["N2"], "blocks": ["5m", "5m"]}, "does not apply"),
])
def test_bad_event_trigger_is_refused(trigger: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_config({"programme": {"rules": [rule("x", trigger, PULSE)]}})
