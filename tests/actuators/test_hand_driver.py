"""HandDriver against HandSimulator over a real pty with real pyserial."""

from __future__ import annotations

import time

import pytest

from actuators import hand_protocol as hp
from actuators.base import Actuator, ActuatorError, Command
from firmware_host.clock import FakeClock
from tests.actuators.conftest import TIMEOUT
from tests.actuators.helpers import accepted, run_for, wait_for

#: Control-loop tick of these tests (simulated seconds between heartbeats).
TICK = 0.05


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(50.0)


@pytest.fixture
def rig(clock, make_rig):
    return make_rig("hand", clock)


def cmd(action: str, **params) -> Command:
    return Command("hand", action, params)


def test_driver_is_an_actuator_and_reads_back(rig):
    _, drv = rig
    assert isinstance(drv, Actuator)
    st = drv.status()
    assert st["connected"] and st["positions"] == [0.0] * 6 and st["grip"] == "open"
    assert len(st["current"]) == 6 and st["contact"] == [False] * 6


def test_fingers_close_until_contact_then_force_rises_to_limit(rig, clock):
    sim, drv = rig
    ack = drv.apply(cmd("grip", pattern="power", force=0.4, speed=1.0))
    assert set(ack) >= {"seq", "latency_s", "retries"}
    run_for(clock, drv, 0.1, TICK)  # 250 %/s -> 25 %: no contact yet
    st = drv.poll_status()
    assert st["positions"][2] == pytest.approx(25.0, abs=0.05)
    assert st["contact"][2] is False and st["remote"] is True
    run_for(clock, drv, 0.6, TICK)
    st = drv.poll_status()
    assert st["positions"][2] == pytest.approx(40.0, abs=0.01)  # stopped at the ball
    assert st["contact"] == [True, False, True, True, True, True]
    limit = 0.4 * sim.max_current_ma
    assert max(st["current"]) <= limit + 1
    assert st["current"][2] == pytest.approx(limit, abs=8)  # 0.4 quantised to 102/255
    assert st["positions"][1] == pytest.approx(60.0, abs=0.01)  # thumb rotation free
    assert st["grip"] == "power"


def test_set_fingers_positions(rig, clock):
    sim, drv = rig
    sim.set_object(None)
    drv.apply(cmd("set_fingers", positions=[10, 20, 30, 40, 50, 60], speed=0.5))
    run_for(clock, drv, 1.0, TICK)
    st = drv.poll_status()
    assert st["positions"] == pytest.approx([10, 20, 30, 40, 50, 60], abs=0.01)
    assert st["grip"] == "custom"
    rec = [f for f in sim.frames if f.action == "set_fingers"][0]
    assert rec.values["positions"] == [10, 20, 30, 40, 50, 60]
    assert rec.values["force"] == pytest.approx(0.5, abs=0.01)  # default force limit


def test_invalid_commands(rig):
    sim, drv = rig
    with pytest.raises(ActuatorError, match="pattern must be one of"):
        drv.apply(cmd("grip", pattern="fist", force=0.5, speed=0.5))
    with pytest.raises(ActuatorError, match="force"):
        drv.apply(cmd("grip", pattern="power", speed=0.5))
    with pytest.raises(ActuatorError, match="6 values"):
        drv.apply(cmd("set_fingers", positions=[1, 2, 3]))
    with pytest.raises(ActuatorError, match="allowed"):
        drv.apply(cmd("wave"))
    assert sim.frames == []


@pytest.mark.parametrize("fault", ["corrupt_next", "drop_next", "silence_next",
                                   "corrupt_rx_next"])
def test_retries_after_line_faults(rig, fault):
    sim, drv = rig
    sim.faults.set(**{fault: 1})
    ack = drv.apply(cmd("grip", pattern="pinch", force=0.3, speed=0.5))
    assert ack["retries"] >= 1
    assert accepted(sim, "grip") == 1


def test_nacks(rig):
    sim, drv = rig
    sim.faults.set(nack_next=1, nack_code=hp.NACK_BUSY)
    assert drv.apply(cmd("stop"))["retries"] >= 1
    sim.faults.set(nack_next=1, nack_code=hp.NACK_FAULT)
    with pytest.raises(ActuatorError, match=r"NACK 0x05 \(hand in fault state"):
        drv.apply(cmd("stop"))


def test_timeout_then_recovery(rig):
    sim, drv = rig
    sim.faults.set(delay_s=TIMEOUT * 4)
    with pytest.raises(ActuatorError, match="failed after 3 attempt"):
        drv.apply(cmd("stop"))
    assert drv.status()["connected"] is False
    sim.faults.set(delay_s=0.0)
    time.sleep(TIMEOUT * 14)
    drv.apply(cmd("stop"))
    assert drv.status()["connected"] is True


def test_reset_and_reset_mid_command(rig):
    sim, drv = rig
    sim.reset()
    st = drv.poll_status()
    assert "device_reset" in st["faults"] and st["boot_count"] == 2
    assert st["counters"]["device_resets"] == 1
    sim.faults.set(reset_next_command=True)
    ack = drv.apply(cmd("grip", pattern="key", force=0.2, speed=0.5))
    assert ack["retries"] >= 1 and drv.status()["boot_count"] == 3
    assert accepted(sim, "grip") == 1


def test_unplug_replug(rig):
    sim, drv = rig
    sim.unplug()
    with pytest.raises(ActuatorError):
        drv.apply(cmd("stop"))
    assert drv.heartbeat(force=True) is False
    drv.safe_state()  # never raises
    assert not drv.safe_state_confirmed
    sim.replug()
    assert drv.heartbeat(force=True)
    assert drv.status()["connected"]


def test_watchdog_leaves_remote_and_keeps_grip(rig, clock):
    sim, drv = rig
    drv.apply(cmd("grip", pattern="power", force=0.5, speed=0.2))
    run_for(clock, drv, 0.4, TICK)  # 50 %/s: halfway to the ball
    pos_before = drv.status()["positions"]
    assert 0 < pos_before[2] < 40
    clock.advance(0.35)  # host silent > 300 ms
    assert wait_for(lambda: not sim.state["remote"])
    st = sim.state
    assert st["watchdog_tripped"] and not st["moving"]
    # stopped where the watchdog fired (0.3 s after the last frame), never opened
    assert st["positions"][2] == pytest.approx(pos_before[2] + 50 * 0.3, abs=0.2)
    clock.advance(1.0)
    assert sim.state["positions"] == st["positions"]
    rb = drv.poll_status()
    assert rb["remote"] is False and "watchdog_expired" in rb["faults"]
    drv.apply(cmd("grip", pattern="power", force=0.5, speed=0.2))
    assert drv.status()["remote"] is True


def test_safe_state_holds_grip_and_force(rig, clock):
    sim, drv = rig
    drv.apply(cmd("grip", pattern="power", force=0.6, speed=1.0))
    run_for(clock, drv, 0.25, TICK)  # contact reached, current still rising
    drv.safe_state()
    drv.safe_state()
    assert drv.safe_state_confirmed
    held = sim.state
    run_for(clock, drv, 0.5, TICK)
    st = sim.state
    assert st["positions"] == held["positions"]  # not closing, not opening
    touching = [i for i in range(6) if held["contact"][i]]
    assert touching == [0, 2, 3, 4, 5]
    for i in touching:  # squeeze kept, not increased, not released
        assert st["current"][i] == pytest.approx(held["current"][i])
        assert st["current"][i] > sim.free_current_ma
    assert st["contact"][2] is True
