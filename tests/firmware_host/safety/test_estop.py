"""E-stop during motion: real drivers over ptys to the device simulators, mock GPIO button.

Simulated time (FakeClock): the press, the safe-state frames and the simulators' physics all
follow the same clock, so "within 100 ms of the press" is measured in that time.
"""

from __future__ import annotations

import threading

import pytest

from firmware_host.actuation.facade import Actuation
from firmware_host.clock import FakeClock
from firmware_host.config import parse_config
from firmware_host.decision import Decision
from firmware_host.events import ListSink
from firmware_host.safety import EStopError

TICK = 0.05


def _config():
    return parse_config({
        "safety": {"ramp_interval_s": 0.1, "mattress": {"elevation_slew_deg_s": 10.0}},
        "programme": {"rules": [
            {"name": "head_up_in_n1", "trigger": {"kind": "stage", "stages": ["N1"]},
             "actions": [{"kind": "set", "target": "mattress.head", "value": 10.0}]},
            {"name": "flat_in_n3", "priority": 1, "trigger": {"kind": "stage", "stages": ["N3"]},
             "actions": [{"kind": "set", "target": "mattress.head", "value": 0.0}]},
            {"name": "grip", "trigger": {"kind": "intent", "labels": ["power", "open"]},
             "actions": [{"kind": "grip", "target": "hand"},
                         {"kind": "grip", "target": "servo_hand"}]},
        ]},
        "actuators": {"gpio": {"servo_hand_pins": [12, 16, 20, 21, 19], "vibration_pin": 18}},
    })


def _run(act: Actuation, clock: FakeClock, seconds: float) -> None:
    for _ in range(round(seconds / TICK)):
        clock.advance(TICK)
        act.tick(clock.now(), True)


@pytest.fixture
def rig():
    threads_before = set(threading.enumerate())
    clock = FakeClock()
    sink = ListSink()
    act = Actuation.from_config(_config(), clock, sink)
    yield act, clock, sink
    act.close()
    assert set(threading.enumerate()) <= threads_before, "close() left threads running"


def test_estop_during_motion_reaches_safe_state_within_100ms_and_latches(rig):
    act, clock, sink = rig
    mattress_sim, hand_sim = act.simulators
    _run(act, clock, 0.2)
    now = clock.now()
    act.on_decisions([Decision("stage", 0, "N1", {"N1": 0.95})], now)
    act.safety.submit(
        act_cmd("vibration", "set_vibration", {"intensity": 30, "pattern": "continuous"}), now)
    _run(act, clock, 0.5)
    act.on_decisions([Decision("grip", 0, "power", {"power": 0.95}, details={"force": 0.7})],
                     clock.now())
    _run(act, clock, 0.1)
    assert mattress_sim.state["moving"], "the bed should be moving before the press"
    assert hand_sim.state["moving"], "the hand should be closing before the press"
    servo = act.actuators["servo_hand"]
    assert servo.status()["moving"]

    t_press = clock.now()
    act.estop_button.pin.drive_low()  # press (normally-open button to ground)

    safe_frames = [f for f in mattress_sim.frames if f.action == "safe_state"]
    stop_frames = [f for f in hand_sim.frames if f.action == "stop"]
    assert safe_frames and safe_frames[0].t - t_press <= 0.1
    assert stop_frames and stop_frames[0].t - t_press <= 0.1
    assert act.actuators["vibration"].status()["duty"] == 0.0
    assert {p["target"] for p in sink.of_kind("safe_state") if "E-stop" in p["reason"]} == {
        "mattress", "hand", "servo_hand", "vibration"}
    assert any(a["code"] == "estop" and a["priority"] == "high" for a in sink.of_kind("alarm"))

    # the state holds: no further motion, the hand keeps its grip, the bed holds its angle
    clock.advance(0.1)
    bed = mattress_sim.state
    hand = hand_sim.state
    servo_pos = servo.positions
    assert not bed["moving"] and bed["vibration"]["intensity"] == 0 and not bed["heater_on"]
    assert not hand["moving"]
    n_frames = (len(mattress_sim.frames), len(hand_sim.frames))
    act.on_decisions([Decision("stage", 0, "N3", {"N3": 0.99}),
                      Decision("grip", 0, "open", {"open": 0.99})], clock.now())
    _run(act, clock, 2.0)
    assert mattress_sim.state["elevation"] == bed["elevation"]
    assert hand_sim.state["positions"] == hand["positions"]  # never opened, never closed more
    assert servo.positions == servo_pos
    sent_after = [f for f in mattress_sim.frames[n_frames[0]:] + hand_sim.frames[n_frames[1]:]
                  if f.action not in ("heartbeat", "status")]
    assert sent_after == [], "no command may reach a device while the E-stop is latched"
    refused = [c for c in sink.of_kind("command") if c["outcome"] == "refused"]
    assert refused and all("E-stop" in c["reason"] for c in refused)
    assert act.status()["led"] == "alarm_high"

    # reset: refused while pressed, accepted once released
    with pytest.raises(EStopError, match="still pressed"):
        act.reset_estop()
    act.estop_button.pin.drive_high()
    _run(act, clock, 0.5)
    assert act.safety.estop_latched  # releasing alone does not unlatch
    act.reset_estop()
    act.on_decisions([Decision("grip", 0, "open", {"open": 0.99})], clock.now())
    assert any(f.action == "grip" for f in hand_sim.frames[n_frames[1]:])


def test_estop_seen_by_poll_when_the_edge_is_missed(rig):
    act, clock, sink = rig
    act.estop_button.pin._state = False  # level change without an edge callback
    assert not act.safety.estop_latched
    _run(act, clock, TICK)
    assert act.safety.estop_latched


def act_cmd(target, action, params):
    from actuators.base import Command

    return Command(target, action, params)
