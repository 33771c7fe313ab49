"""Actuation built from config: real drivers over ptys to the simulators, mock GPIO devices."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from firmware_host.actuation.facade import Actuation
from firmware_host.clock import FakeClock
from firmware_host.config import ConfigError, parse_config
from firmware_host.decision import Decision
from firmware_host.events import ListSink
from firmware_host.programme import ProgrammeConfig
from firmware_host.safety import SafetyConfig

TICK = 0.25


@pytest.fixture
def no_leaked_threads():
    before = set(threading.enumerate())
    yield
    assert set(threading.enumerate()) <= before, "threads left running"


def _build(data: dict | None = None):
    clock = FakeClock()
    sink = ListSink()
    return Actuation.from_config(parse_config(data or {}), clock, sink), clock, sink


def _run(act, clock, seconds, signal_ok=True):
    for _ in range(round(seconds / TICK)):
        clock.advance(TICK)
        act.tick(clock.now(), signal_ok)


def test_default_config_drives_both_simulators_and_journals(no_leaked_threads):
    act, clock, sink = _build()
    try:
        assert sorted(act.actuators) == ["hand", "mattress"]
        assert len(act.simulators) == 2
        red, green, blue = (act.pin_factory.pin(n) for n in (5, 6, 13))  # mock pins
        assert (red.state, green.state, blue.state) == (0, 1, 0)  # running: green
        act.on_decisions([Decision("stage", 10, "N1", {"N1": 0.9}),
                          Decision("grip", 10, "power", {"power": 0.9}, details={"force": 0.4})],
                         clock.now())
        _run(act, clock, 3.0)
        mattress_sim, hand_sim = act.simulators
        # the default programme: rocking while awake in bed, the decoded grip on the hand
        assert [f.values for f in mattress_sim.frames if f.action == "set_vibration"] == [
            {"intensity": 15, "pattern": "wave"}]
        assert [f.values["pattern"] for f in hand_sim.frames if f.action == "grip"] == ["power"]
        assert [a["rule"] for a in sink.of_kind("action")] == ["onset_rocking", "grip"]
        kinds = Counter(k for k, _, _ in sink.events)
        assert kinds["command"] == 2 and kinds["ack"] >= 2 and kinds["fault"] == 0
        (cfg_event,) = sink.of_kind("config")
        assert cfg_event["actuation"]["actuators"] == ["hand", "mattress"]
        assert act.status()["actuators"]["mattress"]["connected"]
    finally:
        act.close()
    act.close()  # idempotent
    assert sink.of_kind("safe_state")[-1]["reason"] == "shutdown"


def test_stale_signal_puts_simulated_devices_in_safe_state(no_leaked_threads):
    act, clock, sink = _build({"safety": {"stale_signal_s": 1.0, "resume_after_s": 2.0}})
    try:
        _run(act, clock, 0.5)
        _run(act, clock, 1.25, signal_ok=False)
        mattress_sim, hand_sim = act.simulators
        assert mattress_sim.state["device_safe"]
        assert any(f.action == "stop" for f in hand_sim.frames)
        alarm = [a for a in sink.of_kind("alarm") if a["code"] == "signal_stale"]
        assert alarm and alarm[0]["priority"] == "medium"
        assert act.status()["led"] == "alarm_medium"
        act.on_decisions([Decision("grip", 0, "power", {"power": 0.9})], clock.now())
        assert not any(f.action == "grip" for f in hand_sim.frames)
        _run(act, clock, 2.5)
        assert act.status()["led"] == "running"
        act.on_decisions([Decision("grip", 0, "power", {"power": 0.9})], clock.now())
        assert any(f.action == "grip" for f in hand_sim.frames)
    finally:
        act.close()


def test_unplugged_device_is_lost_alarmed_and_reconnected(no_leaked_threads):
    act, clock, sink = _build({"safety": {"reconnect_after_s": 2.0, "max_consecutive_faults": 3},
                               "actuators": {"mattress": {"sim_timeout_s": 0.05}}})
    try:
        mattress_sim = act.simulators[0]
        _run(act, clock, 0.5)
        mattress_sim.unplug()
        _run(act, clock, 2.0)
        assert act.safety.device_lost("mattress")
        assert not act.safety.device_lost("hand")
        lost = [a for a in sink.of_kind("alarm") if a["code"] == "device_lost:mattress"]
        assert lost and lost[0]["priority"] == "high" and lost[0]["state"] == "active"
        act.safe_state("test while unplugged")  # never raises, even unplugged
        act.safe_state("test while unplugged")
        mattress_sim.replug()
        _run(act, clock, 2.5)
        assert not act.safety.device_lost("mattress")
        assert [a["state"] for a in sink.of_kind("alarm")
                if a["code"] == "device_lost:mattress"] == ["active", "cleared"]
        assert any(f["target"] == "mattress" for f in sink.of_kind("fault"))
    finally:
        act.close()


def test_repeated_nacks_lose_the_device_then_it_recovers(no_leaked_threads):
    from actuators.base import Command

    act, clock, sink = _build({"safety": {"reconnect_after_s": 1.0, "max_consecutive_faults": 3}})
    try:
        mattress_sim = act.simulators[0]
        mattress_sim.faults.set(nack_next=3, nack_code=0x05)  # device fault, not retryable
        vib = Command("mattress", "set_vibration", {"intensity": 10, "pattern": "pulse"})
        for _ in range(3):
            clock.advance(TICK)
            act.safety.submit(vib, clock.now())
        faults = [f for f in sink.of_kind("fault") if f["target"] == "mattress"]
        assert len(faults) == 3 and "NACK 0x05" in faults[0]["error"]
        assert act.safety.device_lost("mattress")
        assert any(p["target"] == "mattress" and p["reason"].startswith("device lost")
                   for p in sink.of_kind("safe_state"))
        assert mattress_sim.state["device_safe"]
        assert act.status()["led"] == "alarm_high"
        _run(act, clock, 1.5)  # a reconnection attempt finds it answering again
        assert not act.safety.device_lost("mattress")
        act.safety.submit(vib, clock.now())
        assert mattress_sim.state["vibration"]["intensity"] == 10
    finally:
        act.close()


def test_port_that_cannot_open_is_left_out_and_alarmed(no_leaked_threads):
    act, clock, sink = _build({"actuators": {"mattress": {"port": "/dev/does-not-exist-42"}}})
    try:
        assert sorted(act.actuators) == ["hand"]
        alarm = sink.of_kind("alarm")[0]
        assert alarm["code"] == "device_unavailable:mattress" and alarm["priority"] == "high"
        assert "does-not-exist" in sink.of_kind("fault")[0]["error"]
        act.on_decisions([Decision("stage", 0, "N2", {"N2": 0.9})], clock.now())  # no mattress
        _run(act, clock, 0.5)
    finally:
        act.close()


def test_exception_inside_context_goes_safe_and_closes(no_leaked_threads):
    clock = FakeClock()
    sink = ListSink()
    with pytest.raises(RuntimeError, match="boom"), \
            Actuation.from_config(parse_config({}), clock, sink) as act:
        act.tick(0.25, True)
        raise RuntimeError("boom")
    reasons = {p["reason"] for p in sink.of_kind("safe_state")}
    assert "exception: RuntimeError: boom" in reasons
    assert all(not s._thread.is_alive() for s in act.simulators)


def test_process_exit_handler_goes_safe(no_leaked_threads):
    act, clock, sink = _build()
    act._at_exit()  # what atexit runs
    assert "process exit" in {p["reason"] for p in sink.of_kind("safe_state")}
    act.on_decisions([Decision("grip", 0, "power", {"power": 0.9})], clock.now())
    assert not any(f.action == "grip" for f in act.simulators[1].frames)


def test_policy_replaceable_safety_not(no_leaked_threads):
    act, clock, sink = _build({"actuators": {"mattress": {"enabled": False},
                                             "hand": {"enabled": False}}})
    try:
        assert act.actuators == {} and act.simulators == []
        with pytest.raises(TypeError, match="ProgrammeConfig"):
            act.update_programme(SafetyConfig(on_violation="refuse"))  # type: ignore[arg-type]
        act.update_programme(ProgrammeConfig(rules=()))
        assert act.programme.config.rules == ()
        with pytest.raises(AttributeError):
            act.safety.config = SafetyConfig()  # type: ignore[misc]
    finally:
        act.close()


def test_gpio_config_validation_and_factory_names():
    with pytest.raises(ConfigError, match="pins used twice"):
        parse_config({"actuators": {"gpio": {"estop_pin": 5}}})
    with pytest.raises(ConfigError, match="0, 1 or 3"):
        parse_config({"actuators": {"gpio": {"status_led_pins": [1, 2]}}})
    with pytest.raises(ConfigError, match="allowed"):
        parse_config({"actuators": {"gpio": {"pin_factory": "wiringpi"}}})


def test_close_with_every_device_unplugged_never_raises(no_leaked_threads):
    act, clock, sink = _build({"actuators": {"mattress": {"sim_timeout_s": 0.01},
                                             "hand": {"sim_timeout_s": 0.01}}})
    for sim in act.simulators:
        sim.unplug()
    act.safe_state("unplugged")
    act.close()
    assert {p["target"] for p in sink.of_kind("safe_state")} == {"mattress", "hand"}
    assert all(not s._thread.is_alive() for s in act.simulators)
