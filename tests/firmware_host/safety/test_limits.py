"""Bounds and slew limits of the CommandLimiter, including a hypothesis invariant."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actuators.base import Command
from firmware_host.config import ConfigError, parse_config
from firmware_host.safety import CommandLimiter, HandLimits, SafetyConfig
from firmware_host.safety.config import MattressLimits

TARGETS = ("mattress", "hand", "servo_hand", "vibration")


def _limiter(**kw) -> CommandLimiter:
    return CommandLimiter(SafetyConfig(**kw), TARGETS, now=0.0)


def test_elevation_bound_clamped_and_slew_ramp_starts_at_request():
    lim = _limiter()
    v = lim.check(Command("mattress", "set_elevation", {"zone": "head", "degrees": 45}), 5.0)
    # at rest: idle time buys nothing, the ramp starts now and nothing is sent yet
    assert v.outcome == "queued" and v.sent is None
    assert "clamped to 30" in v.reason and "slew" in v.reason
    assert lim.pending == {"mattress.elevation.head": 30.0}
    assert lim.due(5.5) == []  # ramp interval 1 s not yet passed
    (step,) = lim.due(6.0)
    assert step.outcome == "ramp" and step.sent.params == {"zone": "head", "degrees": 1.0}
    lim.record(step, 6.0)
    for t in range(7, 40):
        for s in lim.due(float(t)):
            lim.record(s, float(t))
    assert lim.last("mattress.elevation.head") == pytest.approx(30.0)
    assert lim.pending == {}
    # at rest again: the next request starts a new ramp
    v = lim.check(Command("mattress", "set_elevation", {"zone": "head", "degrees": 29.5}), 50.0)
    assert v.outcome == "queued"
    (step,) = lim.due(51.0)
    assert step.sent.params["degrees"] == 29.5


def test_values_quantised_to_wire_resolution_inside_bounds():
    lim = _limiter()
    lim.seed("mattress.firmness.legs", 50, 0.0)
    assert lim.check(Command("mattress", "set_firmness", {"zone": "legs", "level": 60}),
                     10.0).outcome == "queued"
    (step,) = lim.due(11.0)
    assert step.sent.params["level"] == 55.0
    lim.record(step, 11.0)
    # while moving: 1.5 levels allowed in 0.3 s at 5/s -> whole levels only: 1
    v = lim.check(Command("mattress", "set_firmness", {"zone": "legs", "level": 51.4}), 11.3)
    assert v.outcome == "clamped" and v.sent.params["level"] == 54.0
    assert lim.pending == {"mattress.firmness.legs": 51.0}


def test_refuse_mode_refuses_out_of_bounds():
    lim = _limiter(on_violation="refuse")
    v = lim.check(Command("mattress", "set_temperature", {"celsius": 40}), 1.0)
    assert v.outcome == "refused" and v.sent is None and "refuse" in v.reason


@pytest.mark.parametrize(
    "command, match",
    [
        (Command("toaster", "toast", {}), "unknown actuator"),
        (Command("mattress", "fly", {}), "allowed"),
        (Command("mattress", "set_elevation", {"zone": "neck", "degrees": 1}), "allowed"),
        (Command("mattress", "set_elevation", {"zone": "head"}), "missing"),
        (Command("mattress", "set_elevation", {"zone": "head", "degrees": math.nan}), "finite"),
        (Command("hand", "grip", {"pattern": "power", "force": "hard", "speed": 1}), "finite"),
        (Command("hand", "set_fingers", {"positions": [1] * 9, "speed": 0.1}), "positions"),
        (Command("vibration", "set_vibration", {"intensity": 5, "pattern": "x"}), "allowed"),
    ],
)
def test_bad_commands_refused_with_clear_reason(command, match):
    v = _limiter().check(command, 1.0)
    assert v.outcome == "refused" and match in v.reason


def test_hand_force_and_speed_limits_and_extra_params_dropped():
    lim = _limiter()
    v = lim.check(Command("hand", "grip", {"pattern": "power", "force": 1.0, "speed": 1.0,
                                           "sneaky": 9}), 0.0)
    assert v.sent.params == {"pattern": "power", "force": 0.8, "speed": 178 / 255}
    v = lim.check(Command("servo_hand", "set_fingers", {"positions": [120, 5], "speed": 0.2}), 0)
    assert v.sent.params == {"positions": [100.0, 5.0], "speed": 0.2, "force": 128 / 255}
    # values land on the wire's 1/255 grid without ever exceeding a limit
    cfg = SafetyConfig(hand=HandLimits(force_max=0.7, speed_max=0.7))  # 0.7 * 255 = 178.5
    v = CommandLimiter(cfg, TARGETS, 0.0).check(
        Command("hand", "grip", {"pattern": "key", "force": 0.7, "speed": 0.7}), 0.0)
    assert v.sent.params["force"] * 255 == 178 and v.sent.params["speed"] <= 0.7


def test_stop_drops_pending_ramps():
    lim = _limiter()
    v = lim.check(Command("mattress", "set_elevation", {"zone": "feet", "degrees": 20}), 1.0)
    lim.record(v, 1.0)
    assert lim.pending
    lim.check(Command("mattress", "stop"), 1.5)
    assert lim.pending == {}


def test_seed_from_readback():
    lim = _limiter()
    lim.seed("mattress.temperature", 20.0, 0.0)
    v = lim.check(Command("mattress", "set_temperature", {"celsius": 21}), 60.0)
    assert v.outcome == "queued"
    # 0.5 °C/min: a worthwhile 0.1 °C step is allowed only after 12 s
    assert lim.due(61.0) == [] and lim.due(71.9) == []
    (step,) = lim.due(72.0)
    assert step.sent.params["celsius"] == pytest.approx(20.1)
    assert lim.seed("mattress.temperature", 50.0, 62.0) == 32.0  # clamped into bounds
    used = lim.seed_from_status("mattress", {"elevation": {"head": 7.123, "feet": None},
                                             "temperature": 22.0}, 63.0)
    assert used == {"mattress.elevation.head": 7.12, "mattress.temperature": 22.0}
    with pytest.raises(KeyError, match="known"):
        lim.seed("mattress.colour", 1.0, 0.0)


def test_safety_config_is_frozen_and_validated():
    cfg = SafetyConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.on_violation = "refuse"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.mattress.head_elevation_max_deg = 90  # type: ignore[misc]
    with pytest.raises(ValueError, match="firmness_min"):
        MattressLimits(firmness_min=80, firmness_max=20)
    with pytest.raises(ValueError, match="start_temperature_c"):
        MattressLimits(start_temperature_c=35)
    lim = _limiter()
    with pytest.raises(AttributeError):
        lim.config = SafetyConfig(on_violation="refuse")  # type: ignore[misc]


def test_safety_section_loads_from_toml_mapping():
    cfg = parse_config({"safety": {"mattress": {"head_elevation_max_deg": 20}}})
    assert cfg.safety.mattress.head_elevation_max_deg == 20.0
    with pytest.raises(ConfigError, match="head_elevation_max_deg"):
        parse_config({"safety": {"mattress": {"head_elevation_max_deg": 90}}})


_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.integers(-1000, 1000),
    st.none(),
    st.text(max_size=3),
)
_commands = st.one_of(
    st.builds(lambda z, d: Command("mattress", "set_elevation", {"zone": z, "degrees": d}),
              st.sampled_from(["head", "feet", "neck"]), _values),
    st.builds(lambda z, v: Command("mattress", "set_firmness", {"zone": z, "level": v}),
              st.sampled_from(["head", "torso", "legs"]), _values),
    st.builds(lambda c: Command("mattress", "set_temperature", {"celsius": c}), _values),
    st.builds(lambda i, p: Command("mattress", "set_vibration", {"intensity": i, "pattern": p}),
              _values, st.sampled_from(["off", "pulse", "wave", "siren"])),
    st.just(Command("mattress", "stop")),
    st.builds(lambda p, f, s: Command("hand", "grip", {"pattern": p, "force": f, "speed": s}),
              st.sampled_from(["power", "pinch", "open", "fist"]), _values, _values),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_commands, st.floats(0.0, 5.0)), max_size=40))
def test_invariant_no_sent_value_outside_bounds_or_slew(steps):
    cfg = SafetyConfig()
    m = cfg.mattress
    lim = CommandLimiter(cfg, TARGETS, now=0.0)
    rates = {"elevation": m.elevation_slew_deg_s, "firmness": m.firmness_slew_per_s,
             "temperature": m.temperature_slew_c_min / 60}
    history: dict[str, tuple[float, float]] = {
        "mattress.elevation.head": (0.0, 0.0), "mattress.elevation.feet": (0.0, 0.0),
        "mattress.temperature": (m.start_temperature_c, 0.0),
        **{f"mattress.firmness.{z}": (m.start_firmness, 0.0) for z in ("head", "torso", "legs")},
    }
    now = 0.0
    for command, dt in steps:
        now += dt
        verdicts = [lim.check(command, now), *lim.due(now)]
        for v in verdicts:
            if v.sent is None:
                continue
            lim.record(v, now)
            p = v.sent.params
            if v.sent.target == "hand" and v.sent.action == "grip":
                assert 0 <= p["force"] <= cfg.hand.force_max
                assert 0 <= p["speed"] <= cfg.hand.speed_max
            if v.sent.action == "set_vibration":
                assert 0 <= p["intensity"] <= m.vibration_max_intensity
            for channel, value in v.updates.items():
                prev, t_prev = history[channel]
                rate = rates[channel.split(".")[1]]
                assert abs(value - prev) <= rate * (now - t_prev) + 1e-9
                history[channel] = (value, now)
                if "elevation.head" in channel:
                    assert 0 <= value <= m.head_elevation_max_deg
                elif "elevation.feet" in channel:
                    assert 0 <= value <= m.feet_elevation_max_deg
                elif "temperature" in channel:
                    assert m.temperature_min_c <= value <= m.temperature_max_c
                else:
                    assert m.firmness_min <= value <= m.firmness_max
