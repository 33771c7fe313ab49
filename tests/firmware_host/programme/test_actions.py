"""Every action kind: set-point, ramp, profile, stop, hold, restore, grip."""

from __future__ import annotations

import pytest

from actuators.base import Command
from tests.firmware_host.programme.helpers import actions, grip, make, rule, run, stage

N2 = {"kind": "stage", "stages": ["N2"]}
N3 = {"kind": "stage", "stages": ["N3"]}


def test_set_sends_only_a_changed_set_point():
    eng, sink = make(rule("v", N2, {"kind": "set", "target": "mattress.vibration",
                                    "value": 12.4, "pattern": "pulse"}))
    out = run(eng, [stage(30, "N2"), stage(60, "W"), stage(90, "N2")])
    assert out == [Command("mattress", "set_vibration", {"intensity": 12.0, "pattern": "pulse"})]
    assert [len(a["commands"]) for a in actions(sink, "v")] == [1, 0]  # fired twice, sent once


def test_ramp_fades_in_steps_each_step_journalled_as_a_profile_action():
    eng, sink = make(
        rule("rock", {"kind": "stage", "stages": ["W"]},
             {"kind": "set", "target": "mattress.vibration", "value": 20.0, "pattern": "wave"}),
        rule("fade", N2, {"kind": "ramp", "target": "mattress.vibration", "to": 0.0,
                          "over": "10m", "step": "2m30s", "pattern": "wave"}, priority=1))
    out = run(eng, [stage(30, "W"), stage(60, "N2")], until=60 + 3600)
    intensities = [c.params["intensity"] for c in out]
    assert intensities == [20.0, 15.0, 10.0, 5.0, 0.0]  # the ramp's first step = no change
    assert out[-1].params["pattern"] == "off"
    steps = actions(sink, "fade")
    assert [a["trigger"] for a in steps] == ["stage", "profile", "profile", "profile", "profile"]
    assert [a["t"] for a in steps] == [60.0, 210.0, 360.0, 510.0, 660.0]
    assert steps[2]["evidence"] == {"started": 60.0, "step": 3, "steps": 5,
                                    "output": "mattress.vibration"}
    # the profile is done; the rule keeps the output while N2 lasts
    assert eng.status()["profiles"] == {}
    assert eng.status()["owners"] == {"mattress.vibration": "fade"}


def test_profile_points_interpolate_a_schedule_across_the_night():
    eng, _ = make(rule("temp", {"kind": "sleep_onset"},
                       {"kind": "profile", "target": "mattress.temperature", "step": "1h",
                        "points": [["0", 28.0], ["2h", 27.0], ["3h", 27.0], ["4h", 29.0]]}),
                  persistent_sleep="30s")
    out = run(eng, [stage(30, "N2"), stage(60, "N2")], until=10 * 3600)
    assert [c.params["celsius"] for c in out] == [28.0, 27.5, 27.0, 29.0]


def test_stop_turns_vibration_off_and_holds_the_rest_with_one_command_per_device():
    eng, sink = make(rule("halt", N3, {"kind": "stop", "target": "mattress"},
                          {"kind": "stop", "target": "hand"}))
    out = run(eng, [stage(30, "N3")])
    assert out == [Command("mattress", "stop", {}),
                   Command("mattress", "set_vibration", {"intensity": 0.0, "pattern": "off"}),
                   Command("hand", "stop", {})]
    assert len(actions(sink, "halt")[0]["commands"]) == 3


def test_hold_stops_a_lower_rules_profile_and_sends_nothing():
    eng, sink = make(
        rule("rise", {"kind": "stage", "stages": ["N1"]},
             {"kind": "ramp", "target": "mattress.head", "to": 30.0, "over": "10m"}),
        rule("still", N3, {"kind": "hold", "target": "mattress.head"}, priority=9))
    out = run(eng, [stage(30, "N1"), stage(150, "N3")], until=3600)
    # 10 -> 30 over 10 min in 1-min steps, until N3 at 150 s
    assert [c.params["degrees"] for c in out] == [10.0, 12.0, 14.0]
    assert actions(sink, "still")[0]["commands"] == []
    assert eng.status()["owners"] == {"mattress.head": "still"}


def test_restore_returns_every_output_to_the_comfort_profile_slowly():
    eng, _ = make(
        rule("up", {"kind": "stage", "stages": ["REM"]},
             {"kind": "set", "target": "mattress.head", "value": 30.0},
             {"kind": "set", "target": "mattress.temperature", "value": 26.0}),
        rule("calm", {"kind": "stage", "stages": ["W"]},
             {"kind": "restore", "target": "mattress", "over": "4m", "step": "2m"}, priority=1),
        comfort={"head_deg": 10.0, "temperature_c": 28.0, "feet_deg": 0.0})
    out = run(eng, [stage(30, "REM"), stage(60, "W")], until=3600)
    head = [c.params["degrees"] for c in out if c.action == "set_elevation"
            and c.params["zone"] == "head"]
    temp = [c.params["celsius"] for c in out if c.action == "set_temperature"]
    assert head == [30.0, 20.0, 10.0] and temp == [26.0, 27.0, 28.0]
    feet = [c for c in out if c.params.get("zone") == "feet"]
    assert feet == [Command("mattress", "set_elevation", {"zone": "feet", "degrees": 0.0})]


def test_grip_uses_the_decoded_force_or_a_fixed_pattern_and_clamps():
    eng, _ = make(rule("g", {"kind": "intent", "labels": ["power", "open"]},
                       {"kind": "grip", "target": "hand", "speed": 0.3},
                       {"kind": "grip", "target": "servo_hand", "grip": "key", "force": 0.2}))
    out = run(eng, [grip(1, "power", force=1.7), grip(2, "open", force=0.25)])
    assert out == [
        Command("hand", "grip", {"pattern": "power", "force": 1.0, "speed": 0.3}),
        Command("servo_hand", "grip", {"pattern": "key", "force": 0.2, "speed": 0.5}),
        Command("hand", "grip", {"pattern": "open", "force": 0.25, "speed": 0.3}),
    ]  # the servo hand already holds "key" at 0.2: not sent again


def test_outputs_of_absent_devices_are_left_out():
    eng, sink = make(rule("g", {"kind": "intent", "labels": ["power"]},
                          {"kind": "grip", "target": "hand"},
                          {"kind": "grip", "target": "servo_hand"}),
                     rule("bed", N2, {"kind": "set", "target": "mattress.head", "value": 5.0}),
                     devices=("hand",))
    out = run(eng, [grip(1, "power"), stage(30, "N2")])
    assert [c.target for c in out] == ["hand"]
    assert [a["rule"] for a in actions(sink)] == ["g"]


@pytest.mark.parametrize("first", [0.0, 10.0])
def test_ramp_starts_from_what_was_sent_else_the_comfort_value(first):
    rules = [rule("rise", N2, {"kind": "ramp", "target": "mattress.head", "to": 20.0,
                               "over": "2m", "step": "1m"})]
    if first:
        rules.append(rule("set", {"kind": "stage", "stages": ["N1"]},
                          {"kind": "set", "target": "mattress.head", "value": first},
                          priority=1))
    eng, _ = make(*rules, comfort={"head_deg": 4.0})
    out = run(eng, [stage(30, "N1"), stage(60, "N2")], until=600)
    expected = {0.0: [4.0, 12.0, 20.0], 10.0: [10.0, 15.0, 20.0]}[first]
    assert [c.params["degrees"] for c in out] == expected


def test_every_output_belongs_to_a_known_actuator_kind_and_speaks_its_protocol():
    from actuators.mattress_protocol import decode_command, encode_command
    from firmware_host.actuation.kinds import ACTUATOR_NAMES
    from firmware_host.programme.outputs import DEVICES, OUTPUTS

    assert set(DEVICES) <= set(ACTUATOR_NAMES)
    for out in OUTPUTS.values():
        if out.device == "mattress":
            for v in (out.lo, out.hi):  # the whole range a rule may ask is on the wire
                cmd = out.set(v, "wave")
                decoded = decode_command(encode_command(cmd.action, cmd.params))
                assert decoded["action"] == cmd.action, decoded
