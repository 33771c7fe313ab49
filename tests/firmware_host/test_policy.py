"""The actuation policy: sleep-stage mattress programme and grip intents."""

from __future__ import annotations

import pytest

from actuators.base import Command
from firmware_host.actuation.policy import GripPolicyConfig, Policy, PolicyConfig, StagePolicyConfig
from firmware_host.config import ConfigError, parse_config
from firmware_host.decision import Decision

TARGETS = ("mattress", "hand", "servo_hand")


def stage(label: str, p: float = 0.9, **details) -> Decision:
    return Decision("stage", 0, label, {label: p}, "test", details)


def grip(label: str, p: float = 0.9, force: float | None = 0.5) -> Decision:
    details = {} if force is None else {"force": force}
    return Decision("grip", 0, label, {label: p}, "test", details)


def _by_action(commands: list[Command]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for c in commands:
        out.setdefault(c.action, []).append(c.params)
    return out


def test_sleep_onset_then_deep_sleep_flattens_and_cools():
    pol = Policy(PolicyConfig(), TARGETS)
    pol.start(0.0)
    first = _by_action(pol.decide([stage("N1")], 30.0))
    assert {"zone": "head", "degrees": 10.0} in first["set_elevation"]
    assert first["set_temperature"] == [{"celsius": 28.0}]
    assert "set_vibration" not in first  # vibration stays off outside the wake window
    deep = _by_action(pol.decide([stage("N3")], 120.0))
    assert deep["set_elevation"] == [{"zone": "head", "degrees": 0.0}]  # only what changed
    assert deep["set_temperature"] == [{"celsius": 27.0}]


def test_holds_on_unscorable_unconfident_provisional_and_within_min_interval():
    pol = Policy(PolicyConfig(), TARGETS)
    pol.start(0.0)
    assert pol.decide([stage("unscorable", 1.0)], 10.0) == []
    assert pol.decide([stage("N2", 0.4)], 10.0) == []
    assert pol.decide([stage("N2", provisional=True)], 10.0) == []
    assert pol.decide([Decision("stage", 0, "N2")], 10.0) == []  # no probabilities: not sure
    assert pol.decide([stage("N2")], 10.0) != []
    assert pol.decide([stage("N3")], 40.0) == []  # < 60 s since the last change
    assert pol.decide([stage("N3")], 71.0) != []
    assert pol.decide([stage("N3")], 200.0) == []  # nothing changed


def test_wake_vibration_only_in_window_and_light_sleep():
    cfg = PolicyConfig(stage=StagePolicyConfig(wake_window=("1h", "1h30m"), min_interval_s=0))
    pol = Policy(cfg, TARGETS)
    pol.start(100.0)
    assert "set_vibration" not in _by_action(pol.decide([stage("W")], 100.0 + 1800))
    in_window = _by_action(pol.decide([stage("REM")], 100.0 + 3700))
    assert in_window["set_vibration"] == [{"intensity": 20.0, "pattern": "wave"}]
    deep = _by_action(pol.decide([stage("N3")], 100.0 + 3800))
    assert deep["set_vibration"] == [{"intensity": 0.0, "pattern": "off"}]


def test_grip_intents_to_hand_commands():
    cfg = PolicyConfig(grip=GripPolicyConfig(targets=("hand", "servo_hand")))
    pol = Policy(cfg, TARGETS)
    out = pol.decide([grip("power", force=0.6)], 1.0)
    assert [(c.target, c.params["pattern"], c.params["force"]) for c in out] == [
        ("hand", "power", 0.6), ("servo_hand", "power", 0.6)]
    assert pol.decide([grip("rest")], 2.0) == []  # rest holds the grip, never opens
    assert pol.decide([grip("power", force=0.62)], 3.0) == []  # inside the dead band
    out = pol.decide([grip("open", force=None)], 3.2)
    assert out[0].params == {"pattern": "open", "force": 0.5, "speed": 0.5}
    assert pol.decide([grip("pinch")], 3.25) == []  # min interval 0.1 s
    assert pol.decide([grip("pinch")], 3.35)[0].params["pattern"] == "pinch"
    assert pol.decide([grip("chuck", p=0.5)], 5.0) == []  # unconfident
    assert pol.decide([grip("wrist_flexion")], 6.0) == []  # not a grip
    assert pol.decide([grip("chuck", force=7.0)], 7.0)[0].params["force"] == 1.0


def test_forget_makes_the_next_decision_ask_again():
    pol = Policy(PolicyConfig(), TARGETS)
    assert pol.decide([grip("power")], 1.0) != []
    assert pol.decide([grip("power")], 2.0) == []
    pol.forget("hand")
    assert pol.decide([grip("power")], 2.0) != []
    assert pol.decide([stage("N2")], 0.0) != []
    pol.forget("mattress")
    assert pol.decide([stage("N2")], 1.0) != []  # neither "unchanged" nor "too soon"


def test_targets_missing_are_skipped():
    pol = Policy(PolicyConfig(), ("hand",))
    assert pol.decide([stage("N1")], 0.0) == []
    assert pol.decide([grip("power")], 0.0)[0].target == "hand"


def test_policy_config_validation():
    with pytest.raises(ValueError, match="5 values"):
        StagePolicyConfig(head_deg=(1.0, 2.0))
    with pytest.raises(ValueError, match="before end"):
        StagePolicyConfig(wake_window=("7h", "6h"))
    cfg = parse_config({"policy": {"stage": {"wake_window": ["6h", "6h45m"]},
                                   "grip": {"targets": ["servo_hand"]}}})
    assert cfg.policy.stage.wake_window_s == (21600.0, 24300.0)
    with pytest.raises(ConfigError, match="allowed"):
        parse_config({"policy": {"grip": {"targets": ["toaster"]}}})
    with pytest.raises(ConfigError, match="wake_stages"):
        parse_config({"policy": {"stage": {"wake_stages": ["N9"]}}})
