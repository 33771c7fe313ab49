"""The engine as a whole: the default programme over a hand-made night, determinism under any
batching, every command explained by an action, live reconfiguration and refusals."""

from __future__ import annotations

import json

import hypothesis.strategies as st
from hypothesis import given, settings

from actuators.base import Command
from firmware_host.clock import FakeClock, RealClock
from firmware_host.config import parse_config
from firmware_host.events import ListSink
from firmware_host.programme import Engine, ProgrammeConfig, night_start_of
from firmware_host.programme.defaults import default_rules
from firmware_host.programme.journal import command_json
from tests.firmware_host.programme.helpers import (
    actions,
    grip,
    hypnogram,
    make,
    rule,
    run,
    stage,
)

# 23:00 .. 07:07: awake 20 min, sleep cycles, an arousal at 00:37, N3 from 06:25 to 06:40,
# then light sleep inside the 06:30-07:00 wake window, awake after 07:00
NIGHT = (("W", 40), ("N1", 4), ("N2", 30), ("N3", 50), ("N2", 40), ("REM", 30),
         ("W", 2), ("N1", 4), ("N2", 60), ("N3", 20), ("N2", 60), ("REM", 40), ("N2", 100),
         ("REM", 50), ("N2", 200), ("REM", 60), ("N2", 100), ("N3", 30), ("N2", 40), ("W", 15))
WINDOW = (7.5 * 3600, 8 * 3600)


def _engine_with_defaults(night_start: str = "23:00") -> tuple[Engine, ListSink]:
    cfg = parse_config({"programme": {"night_start": night_start}}).programme
    sink = ListSink()
    eng = Engine(cfg, ("mattress", "hand"), sink, night_start_s=23 * 3600)
    eng.set_sample_rate(1.0)
    eng.start(0.0)
    return eng, sink


def _stage_at(night: list, t: float, *, inclusive: bool = True) -> str:
    """The last stage decided at (or, not ``inclusive``, before) engine time ``t``."""
    label = "W"
    for d in night:
        if d.sample < t or (inclusive and d.sample == t):
            label = d.label
    return label


def _explained(sink: ListSink, commands: list[Command]) -> None:
    listed = [json.dumps(c, sort_keys=True) for a in sink.of_kind("action")
              for c in a["commands"]]
    assert sorted(listed) == sorted(json.dumps(command_json(c), sort_keys=True)
                                    for c in commands)


def test_default_programme_over_a_hand_made_night():
    eng, sink = _engine_with_defaults()
    night = hypnogram(*NIGHT)
    out = run(eng, night, until=night[-1].sample)
    _explained(sink, out)
    fired = [(a["rule"], a["t"]) for a in actions(sink) if a["trigger"] != "profile"]
    # sleep onset: rocking at the first wake epoch, faded once N2 has lasted 5 min
    assert fired[0] == ("onset_rocking", 30.0)
    fade_t = dict(fired)["onset_rocking_fade"]
    assert fade_t == 44 * 30 + 300
    vib = [(a["t"], c["params"]["intensity"]) for a in actions(sink) for c in a["commands"]
           if c["action"] == "set_vibration"]
    assert vib[0] == (30.0, 15.0)
    after_fade = [v for t, v in vib if fade_t <= t < WINDOW[0]]
    assert after_fade[-1] == 0.0 and after_fade == sorted(after_fade, reverse=True)
    # sleep onset = first N1 epoch (10 min of sleep from there), the temperature cools
    assert eng.ctx.onset_sample == 41 * 30
    assert ("cool_after_onset", 41 * 30 - 30 + 600.0) in fired
    # nothing moves in N3 (a profile step at a decision's time comes before that decision)
    for a in actions(sink):
        moving = [c for c in a["commands"] if c["action"] in ("set_elevation", "set_vibration")]
        if moving:
            assert _stage_at(night, a["t"], inclusive=a["trigger"] != "profile") != "N3", a
    # arousals (wake after sleep onset) restore the comfort profile slowly
    assert [t for r, t in fired if r == "arousal_restore"] == [195 * 30, 961 * 30]
    # the smart wake fires at the first light-sleep epoch in the window (after the N3)
    (wake,) = [(r, t) for r, t in fired if r.startswith("smart_wake")]
    assert wake == ("smart_wake_light", 921 * 30) and WINDOW[0] <= wake[1] < WINDOW[1]
    assert _stage_at(night, wake[1]) in ("N1", "N2")
    assert ("warm_before_wake", 6.75 * 3600) in fired
    assert eng.status()["suppressed"].get("max_per_night", 0) >= 1  # rocking not again


def test_smart_wake_at_the_window_end_when_light_sleep_never_comes():
    eng, sink = _engine_with_defaults()
    night = hypnogram(("W", 4), ("N2", 30), ("N3", 120), ("REM", 700), ("N3", 150))
    out = run(eng, night, until=night[-1].sample)
    _explained(sink, out)
    wakes = [a for a in actions(sink) if a["rule"].startswith("smart_wake")]
    assert wakes[0]["rule"] == "smart_wake_end" and wakes[0]["t"] == WINDOW[1]
    assert _stage_at(night, WINDOW[1]) == "N3"
    assert {c["target"] for c in wakes[0]["commands"]} == {"mattress"}
    pri = [s for s in sink.of_kind("suppressed") if s["guard"] == "priority"]
    assert any(s["rule"] == "deep_sleep_hold" and "smart_wake_end" in s["reason"] for s in pri)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=60), st.integers(0, 29))
def test_same_decisions_in_any_batching_give_an_identical_journal(sizes, lag):
    night = hypnogram(("W", 10), ("N1", 4), ("N2", 30), ("N3", 20), ("W", 2), ("N2", 40),
                      ("REM", 20))
    grips = [grip(t + 7, g, force=f) for t, g, f in
             [(0, "power", 0.4), (1, "power", 0.9), (2, "rest", 0.0), (500, "open", 0.0)]]
    seq = sorted(night + grips, key=lambda d: d.sample)
    ref, ref_sink = _engine_with_defaults()
    ref_out = run(ref, seq, until=seq[-1].sample + 3600)
    eng, sink = _engine_with_defaults()
    out, i, k = [], 0, 0
    while i < len(seq):
        batch = seq[i:i + sizes[k % len(sizes)]]
        i += len(batch)
        k += 1
        nxt = seq[i].sample if i < len(seq) else batch[-1].sample + 30
        # a batch comes in stage order, not sample order: the engine orders it by sample
        out += eng.decide(batch[::-1], min(batch[-1].sample + lag, nxt))
    out += eng.decide([], seq[-1].sample + 3600)
    assert json.dumps(sink.events) == json.dumps(ref_sink.events)
    assert out == ref_out


def test_every_action_event_has_exactly_the_fixed_keys_and_serialises():
    eng, sink = _engine_with_defaults()
    run(eng, hypnogram(("W", 3), ("N2", 30)), until=7200)
    assert sink.of_kind("action")
    for a in sink.of_kind("action"):
        assert set(a) == {"rule", "trigger", "evidence", "commands", "t"}
        assert all(set(c) == {"target", "action", "params"} for c in a["commands"])
        json.dumps(a)


def test_forget_after_a_refusal_lets_the_rule_ask_again():
    eng, sink = make(rule("g", {"kind": "intent", "labels": ["power"]},
                          {"kind": "grip", "target": "hand"}),
                     rule("ramp", {"kind": "stage", "stages": ["N2"]},
                          {"kind": "ramp", "target": "mattress.head", "to": 20.0, "over": "2m",
                           "step": "1m"}))
    assert run(eng, [grip(1, "power")]) != []
    eng.forget("hand")  # the safety layer refused what this call asked for
    assert [c.target for c in run(eng, [grip(2, "power")])] == ["hand"]
    assert run(eng, [grip(3, "power")]) == []  # same intent: nothing new
    eng.forget("hand")  # nothing was asked of the hand by that call: nothing to ask again
    assert run(eng, [grip(4, "power")]) == []
    assert len(actions(sink, "g")) == 2
    run(eng, [stage(30, "N2")])
    eng.forget(None)
    assert [c.params["degrees"] for c in eng.decide([], 90.0)] == [15.0]


def test_reconfigure_keeps_the_night_and_drops_rules_that_are_gone():
    eng, sink = make(rule("a", {"kind": "stage", "stages": ["W"]},
                          {"kind": "ramp", "target": "mattress.head", "to": 30.0,
                           "over": "10m"}, max_per_night=1))
    run(eng, [stage(30, "W")])
    assert eng.status()["profiles"] == {"mattress.head": "a"}
    same = eng.config
    eng.reconfigure(ProgrammeConfig(night_start="23:00", rules=()))
    assert eng.status()["profiles"] == {} and eng.decide([], 3600.0) == []
    eng.reconfigure(same)
    run(eng, [stage(3630, "N1"), stage(3660, "W")])
    assert eng.status()["suppressed"] == {"max_per_night": 1}  # firings so far are kept


def test_night_start_from_config_real_clock_or_simulated():
    auto = ProgrammeConfig(rules=default_rules())
    assert night_start_of(ProgrammeConfig(night_start="22:30"), FakeClock()) == 22.5 * 3600
    assert night_start_of(auto, FakeClock()) == 23 * 3600
    assert night_start_of(auto, RealClock(speed=60)) == 23 * 3600
    real = RealClock()
    import time

    lt = time.localtime(real.origin_unix)
    assert night_start_of(auto, real) == lt.tm_hour * 3600 + lt.tm_min * 60 + lt.tm_sec


def test_a_disabled_programme_never_acts():
    cfg = parse_config({"programme": {"enabled": False}}).programme
    sink = ListSink()
    eng = Engine(cfg, ("mattress", "hand"), sink, night_start_s=0.0)
    assert eng.decide(hypnogram(("W", 5), ("N2", 40)), 3600.0) == []
    assert sink.events == []
