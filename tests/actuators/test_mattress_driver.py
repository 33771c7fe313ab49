"""MattressDriver against MattressSimulator over a real pty with real pyserial."""

from __future__ import annotations

import math
import time

import pytest

from actuators.base import Actuator, ActuatorError, Command
from firmware_host.clock import FakeClock
from tests.actuators.conftest import TIMEOUT
from tests.actuators.helpers import accepted, run_for, wait_for

#: Control-loop tick of these tests (simulated seconds between heartbeats).
TICK = 1.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(100.0)


@pytest.fixture
def rig(clock, make_rig):
    return make_rig("mattress", clock)


def cmd(action: str, **params) -> Command:
    return Command("mattress", action, params)


def test_driver_is_an_actuator(rig):
    _, drv = rig
    assert isinstance(drv, Actuator)
    assert drv.name == "mattress"
    st = drv.status()
    assert st["connected"] is True
    assert st["elevation"] == {"head": 0.0, "feet": 0.0}
    assert st["faults"] == []


def test_elevation_moves_at_limited_speed_and_reads_back(rig, clock):
    sim, drv = rig
    ack = drv.apply(cmd("set_elevation", zone="head", degrees=12.0))
    assert set(ack) >= {"seq", "latency_s", "retries"}
    clock.advance(2.0)  # 3 deg/s -> 6 deg
    st = drv.poll_status()
    assert st["elevation"]["head"] == pytest.approx(6.0, abs=0.02)
    assert st["moving"] is True
    assert st["elevation_target"]["head"] == pytest.approx(12.0)
    run_for(clock, drv, 10.0, TICK)
    st = drv.poll_status()
    assert st["elevation"]["head"] == pytest.approx(12.0, abs=0.01)
    assert st["moving"] is False
    rec = [f for f in sim.frames if f.action == "set_elevation"]
    assert rec[0].values == {"zone": "head", "degrees": 12.0}


def test_temperature_first_order_lag(rig, clock):
    sim, drv = rig
    drv.apply(cmd("set_temperature", celsius=30.0))
    run_for(clock, drv, sim.temperature_tau_s, TICK)
    st = drv.poll_status()
    expected = 22.0 + 8.0 * (1 - math.exp(-1))
    assert st["temperature"] == pytest.approx(expected, abs=0.02)
    assert st["target_temperature"] == pytest.approx(30.0)


def test_firmness_and_vibration_read_back(rig, clock):
    _, drv = rig
    drv.apply(cmd("set_firmness", zone="torso", level=80))
    drv.apply(cmd("set_vibration", intensity=35, pattern="pulse"))
    run_for(clock, drv, 5.0, TICK)
    st = drv.poll_status()
    assert st["firmness"] == {"head": 50, "torso": 80, "legs": 50}
    assert st["vibration"] == {"intensity": 35, "pattern": "pulse"}


def test_invalid_commands_name_what_is_allowed(rig):
    sim, drv = rig
    with pytest.raises(ActuatorError, match="allowed"):
        drv.apply(cmd("levitate"))
    with pytest.raises(ActuatorError, match=r"zone .torso. is not allowed; allowed: \[.head., .feet.\]"):
        drv.apply(cmd("set_elevation", zone="torso", degrees=3))
    with pytest.raises(ActuatorError, match="0..100"):
        drv.apply(cmd("set_vibration", intensity=300, pattern="wave"))
    assert sim.frames == []  # nothing invalid reached the device


@pytest.mark.parametrize("fault", ["corrupt_next", "drop_next", "silence_next",
                                   "corrupt_rx_next", "garbage_next"])
def test_retries_after_line_faults_execute_once(rig, fault):
    sim, drv = rig
    sim.faults.set(**{fault: 2})
    ack = drv.apply(cmd("set_vibration", intensity=20, pattern="wave"))
    if fault != "garbage_next":  # garbage before a valid reply costs no retry
        assert ack["retries"] >= 1
    assert accepted(sim, "set_vibration") == 1
    assert sim.state["vibration"] == {"intensity": 20, "pattern": "wave"}


def test_retryable_nack_is_retried(rig):
    sim, drv = rig
    sim.faults.set(nack_next=2, nack_code=0x04)  # BUSY
    ack = drv.apply(cmd("set_firmness", zone="legs", level=10))
    assert ack["retries"] >= 2
    assert accepted(sim, "set_firmness") == 1


def test_fatal_nack_raises_with_code_and_meaning(rig):
    sim, drv = rig
    sim.faults.set(nack_next=1, nack_code=0x05)
    with pytest.raises(ActuatorError, match=r"NACK 0x05 \(device in fault state"):
        drv.apply(cmd("set_firmness", zone="legs", level=10))
    assert len(sim.frames) == 1  # not retried
    assert drv.status()["connected"] is True  # the device answered


def test_timeouts_raise_then_recover(rig):
    sim, drv = rig
    drv.retries = 1
    sim.faults.set(delay_s=TIMEOUT * 4)
    with pytest.raises(ActuatorError, match=r"failed after 2 attempt\(s\): no valid reply"):
        drv.apply(cmd("set_vibration", intensity=5, pattern="continuous"))
    assert drv.status()["connected"] is False
    sim.faults.set(delay_s=0.0)
    time.sleep(TIMEOUT * 10)  # let the delayed replies drain
    drv.apply(cmd("stop"))
    assert drv.status()["connected"] is True


def test_device_reset_is_reported_and_motion_stops(rig, clock):
    sim, drv = rig
    drv.apply(cmd("set_elevation", zone="feet", degrees=9.0))
    clock.advance(1.0)
    sim.reset()
    st = drv.poll_status()
    assert "device_reset" in st["faults"]
    assert st["boot_count"] == 2 and st["counters"]["device_resets"] == 1
    assert st["elevation_target"]["feet"] == pytest.approx(st["elevation"]["feet"], abs=0.01)
    drv.apply(cmd("set_elevation", zone="feet", degrees=9.0))  # host re-commands
    assert "device_reset" not in drv.poll_status()["faults"]


def test_reset_mid_command_is_survived_by_retry(rig):
    sim, drv = rig
    sim.faults.set(reset_next_command=True)
    ack = drv.apply(cmd("set_vibration", intensity=50, pattern="continuous"))
    assert ack["retries"] >= 1
    assert sim.state["boot_count"] == 2
    assert accepted(sim, "set_vibration") == 1


def test_unplug_and_replug(rig):
    sim, drv = rig
    sim.unplug()
    with pytest.raises(ActuatorError, match="failed after"):
        drv.apply(cmd("stop"))
    assert drv.heartbeat(force=True) is False
    st = drv.status()
    assert st["connected"] is False and st["consecutive_failures"] >= 2
    drv.safe_state()  # never raises
    assert drv.safe_state_confirmed is False
    sim.replug()
    assert drv.heartbeat(force=True) is True
    drv.apply(cmd("stop"))
    assert drv.status()["connected"] is True


def test_device_heartbeat_timeout_enters_device_safe_state(rig, clock):
    sim, drv = rig
    drv.apply(cmd("set_elevation", zone="head", degrees=30.0))
    drv.apply(cmd("set_vibration", intensity=60, pattern="wave"))
    drv.apply(cmd("set_temperature", celsius=33.0))
    for _ in range(6):  # host alive: heartbeats keep the device going
        clock.advance(0.6)
        assert drv.heartbeat() is True
    assert sim.state["device_safe"] is False
    clock.advance(2.5)  # host silent
    assert wait_for(lambda: sim.state["device_safe"])
    st = sim.state
    assert st["vibration"]["intensity"] == 0 and st["heater_on"] is False
    assert st["moving"] is False
    assert st["elevation"]["head"] == pytest.approx(3.0 * (3.6 + 2.0), abs=0.05)  # held
    rb = drv.poll_status()
    assert rb["device_safe"] is True and "heartbeat_lost" in rb["faults"]
    assert rb["heartbeat_age_s"] == pytest.approx(0.0, abs=1e-6)


def test_heartbeat_is_paced_by_heartbeat_s(rig, clock):
    sim, drv = rig
    drv.heartbeat(force=True)
    sent = drv.counters["sent"]
    clock.advance(0.2)
    assert drv.heartbeat() is True
    assert drv.counters["sent"] == sent  # too early: nothing sent
    clock.advance(0.4)
    drv.heartbeat()
    assert drv.counters["sent"] == sent + 1


def test_safe_state_and_close(rig, clock):
    sim, drv = rig
    drv.apply(cmd("set_elevation", zone="head", degrees=20.0))
    drv.apply(cmd("set_vibration", intensity=60, pattern="wave"))
    clock.advance(1.0)
    drv.safe_state()
    drv.safe_state()  # idempotent
    assert drv.safe_state_confirmed
    st = sim.state
    assert st["device_safe"] and not st["moving"] and st["vibration"]["intensity"] == 0
    assert st["elevation"]["head"] == pytest.approx(3.0, abs=0.05)
    drv.close()
    drv.close()
    with pytest.raises(ActuatorError, match="closed"):
        drv.apply(cmd("stop"))
    assert drv.status()["connected"] is False


def test_device_fault_flags_are_read_back_and_refuse_commands(rig, clock):
    sim, drv = rig
    drv.apply(cmd("set_elevation", zone="head", degrees=10.0))
    drv.apply(cmd("set_temperature", celsius=30.0))
    clock.advance(1.0)
    sim.set_device_fault("motor_stall")
    sim.set_device_fault("overtemperature")
    st = drv.poll_status()
    assert {"motor_stall", "overtemperature"} <= set(st["faults"])
    assert st["moving"] is False and st["target_temperature"] is None
    with pytest.raises(ActuatorError, match="NACK 0x05"):
        drv.apply(cmd("set_elevation", zone="head", degrees=12.0))
    with pytest.raises(ActuatorError, match="NACK 0x05"):
        drv.apply(cmd("set_temperature", celsius=30.0))
    drv.apply(cmd("set_vibration", intensity=5, pattern="pulse"))  # unaffected
    sim.set_device_fault("motor_stall", active=False)
    drv.apply(cmd("set_elevation", zone="head", degrees=12.0))
    assert drv.poll_status()["faults"] == ["overtemperature"]
    with pytest.raises(ValueError, match="allowed"):
        sim.set_device_fault("on_fire")
