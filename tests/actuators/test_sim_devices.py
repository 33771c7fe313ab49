"""Device simulators on their own: raw frames over pyserial, physics, faults, lifecycle."""

from __future__ import annotations

import math
import os
import threading
import time

import pytest
import serial

from actuators import hand_protocol as hp
from actuators import mattress_protocol as mp
from actuators.base import ActuatorError, Command
from actuators.mattress import MattressDriver
from actuators.protocol import Frame, FrameParser
from actuators.pty_link import open_pty_pair
from actuators.simulators import FaultPlan, MattressSimulator, spawn_simulator
from actuators.simulators.hand import GraspObject, HandSimulator
from firmware_host.clock import FakeClock
from tests.actuators.helpers import wait_for


def exchange(port: serial.Serial, frame: Frame, timeout: float = 1.0) -> Frame:
    """Send one frame with raw pyserial and return the first reply frame."""
    port.write(frame.encode())
    parser = FrameParser()
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for item in parser.feed(port.read(64)):
            if isinstance(item, Frame):
                return item
    raise AssertionError("no reply")


@pytest.fixture
def raw_mattress():
    sim, path = spawn_simulator("mattress", clock=FakeClock())
    port = serial.Serial(path, 115200, timeout=0.01)
    yield sim, port
    port.close()
    sim.stop()


def test_device_refuses_out_of_range_frames_and_logs_them(raw_mattress):
    sim, port = raw_mattress
    # 50 deg feet: encodable on the wire, outside the device range (driver would refuse).
    payload = bytes((mp.OP_SET_ELEVATION, 1)) + (5000).to_bytes(2, "big")
    reply = exchange(port, Frame(mp.MSG_COMMAND, 1, payload))
    assert (reply.type, reply.seq, reply.payload) == (mp.MSG_NACK, 1,
                                                      bytes((1, mp.NACK_OUT_OF_RANGE)))
    rec = sim.frames[-1]
    assert rec.action == "set_elevation" and rec.values == {"zone": "feet", "degrees": 50.0}
    assert rec.accepted is False and "out of device range" in rec.error
    assert sim.state["elevation_target"]["feet"] == 0.0


@pytest.mark.parametrize(("msg_type", "payload", "code"), [
    (mp.MSG_COMMAND, b"\x42", mp.NACK_UNKNOWN_OPCODE),
    (mp.MSG_COMMAND, b"\x01\x00", mp.NACK_BAD_LENGTH),
    (mp.MSG_COMMAND, b"", mp.NACK_BAD_LENGTH),
    (0x33, b"", mp.NACK_UNKNOWN_TYPE),
])
def test_device_nack_codes(raw_mattress, msg_type, payload, code):
    _, port = raw_mattress
    reply = exchange(port, Frame(msg_type, 9, payload))
    assert reply.type == mp.MSG_NACK and reply.payload[1] == code


def test_device_ignores_corrupted_frames_and_counts_them(raw_mattress):
    sim, port = raw_mattress
    wire = bytearray(Frame(mp.MSG_HEARTBEAT, 4).encode())
    wire[-1] ^= 0x01
    port.write(bytes(wire) + b"\x00\x01garbage")
    assert wait_for(lambda: sim.state["rx_errors"] >= 2)
    assert port.read(64) == b""
    assert exchange(port, Frame(mp.MSG_HEARTBEAT, 5)).type == mp.MSG_ACK


def test_truncated_frame_is_dropped_after_a_gap(raw_mattress):
    sim, port = raw_mattress
    # A frame whose length byte promises 60 bytes, then silence: must not eat the next one.
    port.write(bytes((0xA5, 60, 1, 1, 0, 0)))
    assert wait_for(lambda: sim.state["rx_errors"] >= 1)  # dropped as "truncated"
    assert exchange(port, Frame(mp.MSG_HEARTBEAT, 2)).type == mp.MSG_ACK


def test_mattress_physics_follow_the_injected_clock():
    clock = FakeClock()
    pair = open_pty_pair()
    sim = MattressSimulator(pair, clock=clock, heartbeat_timeout_s=1e9,
                            temperature_tau_s=100.0, elevation_speed_dps=2.0)
    sim._execute("set_elevation", {"zone": "feet", "degrees": 10.0})
    sim._execute("set_temperature", {"celsius": 32.0})
    for _ in range(50):  # many small steps give the same result as one big one
        clock.advance(0.1)
        sim.state  # noqa: B018 - advances physics
    st = sim.state
    assert st["elevation"]["feet"] == pytest.approx(10.0)
    assert st["moving"] is False
    assert st["temperature"] == pytest.approx(22 + 10 * (1 - math.exp(-0.05)), rel=1e-9)
    sim._execute("heater_off", {})
    clock.advance(1000.0)
    assert sim.state["temperature"] == pytest.approx(22.0 + (st["temperature"] - 22.0)
                                                     * math.exp(-10), abs=1e-6)
    fd = pair.master_fd
    sim.stop()
    assert pair.master_fd == -1 and pair.slave_fd == -1
    with pytest.raises(OSError):
        os.fstat(fd)


def test_unplugged_device_goes_safe_on_its_own():
    clock = FakeClock()
    sim, path = spawn_simulator("mattress", clock=clock, heartbeat_timeout_s=2.0)
    drv = MattressDriver(path, timeout_s=0.1, clock=clock)
    try:
        drv.apply(Command("mattress", "set_vibration", {"intensity": 70, "pattern": "wave"}))
        sim.unplug()
        clock.advance(3.0)
        st = sim.state
        assert st["device_safe"] and st["vibration"]["intensity"] == 0
        assert "heartbeat_lost" in st["faults"]
    finally:
        drv.close()
        sim.stop()


def test_driver_survives_the_port_vanishing():
    sim, path = spawn_simulator("mattress")
    drv = MattressDriver(path, timeout_s=0.05, retries=1)
    sim.stop()  # closes the pty: the path disappears like a pulled USB adapter
    with pytest.raises(ActuatorError, match=path):
        drv.apply(Command("mattress", "stop", {}))
    drv.safe_state()  # never raises
    assert drv.safe_state_confirmed is False
    drv.close()
    assert drv.status()["connected"] is False


def test_simulator_can_open_a_port_by_path():
    pair = open_pty_pair()
    sim = MattressSimulator(pair.path, clock=FakeClock()).start()
    try:
        os.write(pair.master_fd, Frame(mp.MSG_HEARTBEAT, 3).encode())
        deadline = time.monotonic() + 1.0
        data = b""
        while time.monotonic() < deadline and not data:
            try:
                data = os.read(pair.master_fd, 64)
            except BlockingIOError:
                time.sleep(0.005)
        assert FrameParser().feed(data) == [mp.ack(3, 0)]
    finally:
        sim.stop()
        pair.close()


def test_hand_physics_contact_force_limit_and_release():
    clock = FakeClock()
    pair = open_pty_pair()
    sim = HandSimulator(pair, clock=clock, watchdog_s=1e9, obj=GraspObject.ball(30.0))
    sim._execute("grip", {"pattern": "power", "speed": 1.0, "force": 0.2})
    for _ in range(100):
        clock.advance(0.01)
        sim.state  # noqa: B018
    st = sim.state
    assert st["positions"][2] == pytest.approx(30.0) and st["contact"][2]
    assert st["current"][2] == pytest.approx(0.2 * sim.max_current_ma)
    sim._execute("grip", {"pattern": "power", "speed": 1.0, "force": 0.1})  # lower limit
    clock.advance(0.01)
    assert sim.state["current"][2] == pytest.approx(0.1 * sim.max_current_ma)
    sim._execute("grip", {"pattern": "open", "speed": 1.0, "force": 0.1})
    clock.advance(0.05)
    st = sim.state
    assert st["positions"][2] < 30.0 and not st["contact"][2]
    assert st["current"][2] <= sim.free_current_ma
    sim.stop()


def test_hand_ignores_other_addresses_and_nacks_bad_commands():
    sim, path = spawn_simulator("hand", clock=FakeClock(), watchdog_s=1e9)
    port = serial.Serial(path, 460800, timeout=0.01)
    try:
        port.write(hp.HandFrame(hp.CMD_STATUS, 1, addr=0x51).encode())
        time.sleep(0.05)
        assert port.read(100) == b""
        port.write(hp.HandFrame(0x55, 2).encode())
        parser = hp.HandFrameParser()
        out: list = []
        end = time.monotonic() + 1.0
        while not out and time.monotonic() < end:
            out = [x for x in parser.feed(port.read(100)) if isinstance(x, hp.HandFrame)]
        reply = hp.HandReply.decode(out[0].payload)
        assert reply.result == hp.NACK_UNKNOWN_COMMAND and reply.echo_cmd == 0x55
    finally:
        port.close()
        sim.stop()


def test_spawn_and_fault_plan_validation():
    with pytest.raises(ValueError, match=r"allowed: \['mattress', 'hand'\]"):
        spawn_simulator("toaster")
    with pytest.raises(ValueError, match="drop_prob must be within 0..1"):
        FaultPlan(drop_prob=1.5)
    plan = FaultPlan()
    with pytest.raises(ValueError, match="unknown FaultPlan field"):
        plan.set(explode=True)
    plan.set(nack_next=1, nack_code=3)
    assert plan.take_nack() == 3 and plan.take_nack() is None
    plan.set(corrupt_next=1, garbage_next=1)
    assert plan.mangle_reply(b"\x01\x02\x03") != b"\x01\x02\x03"
    plan.clear()
    assert plan.mangle_reply(b"\x01\x02\x03") == b"\x01\x02\x03"


def test_no_threads_leak():
    before = {t.ident for t in threading.enumerate()}
    for kind in ("mattress", "hand"):
        sim, _ = spawn_simulator(kind)
        assert sim.running
        sim.stop()
        assert not sim.running
    assert {t.ident for t in threading.enumerate()} <= before


def test_simulator_survives_an_internal_error(raw_mattress, monkeypatch):
    sim, port = raw_mattress
    original = sim._handle_frame

    def broken(frame, now):
        monkeypatch.setattr(sim, "_handle_frame", original)  # fail once only
        raise RuntimeError("firmware bug")

    monkeypatch.setattr(sim, "_handle_frame", broken)
    port.write(Frame(mp.MSG_HEARTBEAT, 1).encode())
    assert wait_for(lambda: sim.state["internal_errors"] == 1)
    assert "firmware bug" in sim.state["last_error"]
    assert exchange(port, Frame(mp.MSG_HEARTBEAT, 2)).type == mp.MSG_ACK
