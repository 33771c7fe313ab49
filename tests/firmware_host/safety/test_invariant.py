"""Invariant: whatever the decision layer asks, no frame reaching a simulator breaks a limit.

Hypothesis generates wild decision streams and raw commands (out-of-range, NaN, unknown
zones, bursts, signal dropouts) and drives the real Actuation (programme -> safety layer ->
pyserial drivers -> pty -> device simulators) on a fake clock. Then every command frame the
simulators received is checked against the ``[safety]`` bounds, the sequence of values on
each slew-limited channel against the slew limit, and the frames against the journal
(nothing reaches a device that the journal does not show as sent).
"""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actuators.base import Command
from firmware_host.actuation.facade import Actuation
from firmware_host.clock import FakeClock
from firmware_host.config import parse_config
from firmware_host.decision import Decision
from firmware_host.events import ListSink

CONFIG = {
    "safety": {
        "ramp_interval_s": 0.25,
        "mattress": {"elevation_slew_deg_s": 2.0, "temperature_slew_c_min": 3.0,
                     "firmness_slew_per_s": 10.0, "head_elevation_max_deg": 25.0,
                     "vibration_max_intensity": 30.0},
        "hand": {"force_max": 0.6, "speed_max": 0.7},
    },
    "programme": {"rules": [  # a programme that asks for the extremes, the limits must hold
        {"name": "up", "trigger": {"kind": "stage", "stages": ["W", "N1", "REM"],
                                   "min_probability": 0.1},
         "actions": [{"kind": "set", "target": "mattress.head", "value": 45.0},
                     {"kind": "set", "target": "mattress.feet", "value": 30.0},
                     {"kind": "set", "target": "mattress.temperature", "value": 40.0},
                     {"kind": "set", "target": "mattress.vibration", "value": 100.0}]},
        {"name": "down", "priority": 1,
         "trigger": {"kind": "stage", "stages": ["N2", "N3"], "min_probability": 0.1},
         "actions": [{"kind": "ramp", "target": "mattress.head", "to": 0.0, "over": "2s",
                      "step": "0.5s"},
                     {"kind": "set", "target": "mattress.temperature", "value": 15.0},
                     {"kind": "stop", "target": "mattress.vibration"}]},
        {"name": "grip", "trigger": {"kind": "intent", "min_probability": 0.1,
                                     "labels": ["power", "open", "pinch", "tripod", "key",
                                                "point"]},
         "actions": [{"kind": "grip", "target": "hand", "speed": 1.0}]},
    ]},
    "actuators": {"gpio": {"estop_pin": -1, "status_led_pins": []}},
}

WILD = st.one_of(
    st.floats(-1e3, 1e3), st.sampled_from([math.nan, math.inf, -math.inf, 1e12, -0.0]),
    st.integers(-500, 500), st.none(), st.just("12"),
)
STAGES = st.sampled_from(["W", "N1", "N2", "N3", "REM", "unscorable", "N4", ""])
GRIP_INTENTS = st.sampled_from(["power", "open", "pinch", "tripod", "key", "point", "rest", "chuck", "?"])

decisions = st.one_of(
    st.builds(lambda label, p: ("decide", Decision("stage", 0, label, {label: p})),
              STAGES, st.floats(0, 1)),
    st.builds(lambda label, p, f: ("decide", Decision("grip", 0, label, {label: p}, "",
                                                      {"force": f})),
              GRIP_INTENTS, st.floats(0, 1), WILD),
)
raw_commands = st.one_of(
    st.builds(lambda z, d: ("submit", Command("mattress", "set_elevation",
                                              {"zone": z, "degrees": d})),
              st.sampled_from(["head", "feet", "back"]), WILD),
    st.builds(lambda z, v: ("submit", Command("mattress", "set_firmness", {"zone": z, "level": v})),
              st.sampled_from(["head", "torso", "legs"]), WILD),
    st.builds(lambda c: ("submit", Command("mattress", "set_temperature", {"celsius": c})), WILD),
    st.builds(lambda i: ("submit", Command("mattress", "set_vibration",
                                           {"intensity": i, "pattern": "pulse"})), WILD),
    st.just(("submit", Command("mattress", "stop"))),
    st.builds(lambda f, s: ("submit", Command("hand", "grip", {"pattern": "power", "force": f,
                                                               "speed": s})), WILD, WILD),
    st.builds(lambda p, s: ("submit", Command("hand", "set_fingers", {"positions": [p] * 6,
                                                                      "speed": s})), WILD, WILD),
)
steps = st.lists(
    st.tuples(st.one_of(decisions, raw_commands, st.tuples(st.just("signal"), st.booleans())),
              st.sampled_from([0.0, 0.05, 0.25, 0.25, 1.0, 3.0])),
    min_size=1, max_size=30,
)


def _channel(action: str, values: dict) -> tuple[str, float] | None:
    if action == "set_elevation":
        return f"mattress.elevation.{values['zone']}", values["degrees"]
    if action == "set_firmness":
        return f"mattress.firmness.{values['zone']}", values["level"]
    if action == "set_temperature":
        return "mattress.temperature", values["celsius"]
    return None


def _check_bounds(cfg, action: str, v: dict) -> None:
    m, h = cfg.safety.mattress, cfg.safety.hand
    eps = 1e-9
    if action == "set_elevation":
        hi = m.head_elevation_max_deg if v["zone"] == "head" else m.feet_elevation_max_deg
        assert -eps <= v["degrees"] <= hi + eps, v
    elif action == "set_firmness":
        assert m.firmness_min - eps <= v["level"] <= m.firmness_max + eps, v
    elif action == "set_temperature":
        assert m.temperature_min_c - eps <= v["celsius"] <= m.temperature_max_c + eps, v
    elif action == "set_vibration":
        assert 0 <= v["intensity"] <= m.vibration_max_intensity + eps, v
    elif action == "grip":
        assert v["force"] <= h.force_max + eps and v["speed"] <= h.speed_max + eps, v
    elif action == "set_fingers":
        assert max(v["positions"]) <= h.position_max + eps, v
        assert v["force"] <= h.force_max + eps and v["speed"] <= h.speed_max + eps, v


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_no_frame_outside_bounds_or_slew(script):
    cfg = parse_config(CONFIG)
    clock = FakeClock()
    sink = ListSink()
    act = Actuation.from_config(cfg, clock, sink)
    try:
        limiter = act.safety.limiter
        ref = {c: (limiter.last(c), 0.0) for c in limiter.channels}
        signal_ok = True
        for (what, arg), dt in script:
            clock.advance(dt)
            now = clock.now()
            if what == "decide":
                act.on_decisions([arg], now)
            elif what == "submit":
                act.safety.submit(arg, now)
            else:
                signal_ok = arg
            act.tick(now, signal_ok)
        mattress_sim, hand_sim = act.simulators
        frames = {"mattress": mattress_sim.frames, "hand": hand_sim.frames}
    finally:
        act.close()

    # 1. every frame a device received is inside the bounds
    received = {}
    for target, fr in frames.items():
        executed = [f for f in fr if f.accepted and not f.duplicate]
        received[target] = [(f.action, f.values) for f in executed
                            if f.action not in ("safe_state", "stop", "status", "heartbeat")]
        for action, values in received[target]:
            _check_bounds(cfg, action, values)

    # 2. the journal shows exactly those commands as sent, and each slew channel moves
    #    no faster than its limit (from the device's read-back after a stop / safe state)
    journaled = {"mattress": [], "hand": []}
    for kind, _, p in sink.events:
        if p.get("target") not in journaled:
            continue
        if kind == "command" and p["sent"] is not None and p["action"] != "stop":
            journaled[p["target"]].append((p["action"], p["sent"]))
            ch = _channel(p["action"], p["sent"])
            if ch is not None:
                name, value = ch
                last, t_last = ref[name]
                rate = limiter.rate(name)
                assert abs(value - last) <= rate * (p["t"] - t_last) + 1e-6, (name, p, ref[name])
                ref[name] = (value, p["t"])
        holding = p.get("holding") if kind in ("ack", "safe_state") else None
        for name, value in (holding or {}).items():
            ref[name] = (value, p["t"])
    for target in ("mattress", "hand"):
        assert len(received[target]) == len(journaled[target])
        for (a1, v1), (a2, v2) in zip(received[target], journaled[target], strict=True):
            assert a1 == a2
            ch1, ch2 = _channel(a1, v1), _channel(a2, v2)
            if ch1 is not None:
                assert ch1[0] == ch2[0] and abs(ch1[1] - ch2[1]) < 1e-6
