"""SafetyLayer with small fake actuators: journal, watchdogs, device loss, E-stop, alarms."""

from __future__ import annotations

from typing import Any

import pytest

from actuators.base import ActuatorError, Command
from firmware_host.clock import FakeClock
from firmware_host.events import ListSink
from firmware_host.safety import (
    AlarmManager,
    DeviceWatchdog,
    EStopError,
    SafetyConfig,
    SafetyLayer,
    StaleSignalWatchdog,
)


class FakeActuator:
    """Records commands; can fail on demand; safe_state can be made to raise (a buggy driver)."""

    def __init__(self, name: str, *, heartbeat: bool = False) -> None:
        self.name = name
        self.applied: list[Command] = []
        self.safe_calls = 0
        self.fail = False
        self.safe_raises = False
        self.answering = True
        self.reported: dict[str, Any] = {}
        if heartbeat:
            self.heartbeat = self._heartbeat

    def apply(self, command: Command) -> dict[str, Any]:
        if self.fail:
            raise ActuatorError(f"{self.name}: no reply")
        self.applied.append(command)
        return {"seq": len(self.applied), "latency_s": 0.001, "retries": 0}

    def _heartbeat(self) -> bool:
        return self.answering

    def safe_state(self) -> None:
        self.safe_calls += 1
        if self.safe_raises:
            raise RuntimeError("port vanished")

    def status(self) -> dict[str, Any]:
        return dict(self.reported)

    def close(self) -> None:
        self.safe_state()


def _layer(**kw):
    clock = FakeClock()
    sink = ListSink()
    acts = {"mattress": FakeActuator("mattress"), "hand": FakeActuator("hand")}
    layer = SafetyLayer(SafetyConfig(**kw), acts, sink, clock)
    return layer, acts, sink, clock


GRIP = Command("hand", "grip", {"pattern": "power", "force": 0.6, "speed": 0.4})  # on the grid


def test_command_ack_and_journal_of_asked_sent_reason():
    layer, acts, sink, _ = _layer()
    layer.submit(Command("hand", "grip", {"pattern": "pinch", "force": 0.95, "speed": 0.2}), 1.0)
    assert acts["hand"].applied[0].params["force"] == 0.8
    (cmd,) = sink.of_kind("command")
    assert cmd["asked"]["force"] == 0.95 and cmd["sent"]["force"] == 0.8
    assert cmd["outcome"] == "clamped" and "grip force" in cmd["reason"]
    (ack,) = sink.of_kind("ack")
    assert ack["target"] == "hand" and ack["seq"] == 1


def test_refused_command_raises_low_alarm_then_clears():
    layer, acts, sink, _ = _layer()
    layer.submit(Command("hand", "grip", {"pattern": "fist", "force": 0.5, "speed": 0.5}), 1.0)
    assert acts["hand"].applied == []
    alarm = sink.of_kind("alarm")[-1]
    assert alarm["priority"] == "low" and "fist" in alarm["message"]
    assert layer.led_mode() == "alarm_low"
    layer.submit(GRIP, 2.0)
    assert layer.led_mode() == "running"
    states = [(a["code"], a["state"]) for a in sink.of_kind("alarm")]
    assert states == [("command_refused:hand", "active"), ("command_refused:hand", "cleared")]


def test_stale_signal_goes_safe_with_medium_alarm_and_resumes_after_good_signal():
    layer, acts, sink, _ = _layer(stale_signal_s=2.0, resume_after_s=5.0)
    layer.tick(0.0, True)
    layer.tick(1.0, False)
    assert not layer.signal_stale
    layer.tick(3.0, False)
    assert layer.signal_stale
    assert acts["mattress"].safe_calls == 1 and acts["hand"].safe_calls == 1
    assert {p["target"] for p in sink.of_kind("safe_state")} == {"mattress", "hand"}
    assert all("stale" in p["reason"] for p in sink.of_kind("safe_state"))
    assert sink.of_kind("alarm")[-1]["priority"] == "medium"
    layer.submit(GRIP, 4.0)
    assert acts["hand"].applied == [] and "stale" in sink.of_kind("command")[-1]["reason"]
    layer.tick(4.0, True)
    layer.tick(8.9, True)
    assert layer.signal_stale
    layer.tick(9.0, True)
    assert not layer.signal_stale and layer.led_mode() == "running"
    layer.submit(GRIP, 9.5)
    assert len(acts["hand"].applied) == 1


def test_repeated_faults_lose_device_then_reconnect():
    layer, acts, sink, _ = _layer(max_consecutive_faults=3, reconnect_after_s=5.0)
    acts["hand"].fail = True
    for t in (1.0, 2.0):
        layer.submit(GRIP, t)
    assert not layer.device_lost("hand")
    layer.submit(GRIP, 3.0)
    assert layer.device_lost("hand")
    assert len(sink.of_kind("fault")) == 3
    assert acts["hand"].safe_calls == 1 and acts["mattress"].safe_calls == 0
    alarm = sink.of_kind("alarm")[-1]
    assert alarm["code"] == "device_lost:hand" and alarm["priority"] == "high"
    assert layer.led_mode() == "alarm_high"
    layer.submit(GRIP, 4.0)  # refused without touching the device
    assert "lost" in sink.of_kind("command")[-1]["reason"]
    acts["hand"].fail = False
    layer.tick(6.0, True)  # too early for a reconnection attempt
    assert layer.device_lost("hand")
    layer.tick(8.0, True)
    assert not layer.device_lost("hand")
    assert sink.of_kind("alarm")[-1]["state"] == "cleared"
    layer.submit(GRIP, 8.5)
    assert acts["hand"].applied[-1] == GRIP


def test_silent_heartbeat_loses_device():
    clock = FakeClock()
    sink = ListSink()
    mattress = FakeActuator("mattress", heartbeat=True)
    layer = SafetyLayer(SafetyConfig(device_timeout_s=2.0, max_consecutive_faults=50),
                        {"mattress": mattress}, sink, clock)
    mattress.answering = False
    for k in range(1, 9):
        layer.tick(k * 0.25, True)
    assert layer.device_lost("mattress")
    assert mattress.safe_calls == 1
    assert any(f["during"] == "heartbeat" for f in sink.of_kind("fault"))


def test_safe_state_idempotent_and_never_raises_with_a_broken_driver():
    layer, acts, sink, _ = _layer()
    acts["mattress"].safe_raises = True
    layer.safe_state("pipeline crashed")
    layer.safe_state("pipeline crashed again")
    assert acts["mattress"].safe_calls == 2 and acts["hand"].safe_calls == 2
    assert any(f["during"] == "safe_state" for f in sink.of_kind("fault"))
    assert layer.hold_reason == "pipeline crashed"
    layer.submit(GRIP, 1.0)
    assert acts["hand"].applied == []
    layer.resume(2.0)
    layer.submit(GRIP, 2.0)
    assert acts["hand"].applied == [GRIP]


def test_estop_latches_refuses_and_requires_release_before_reset():
    layer, acts, sink, _ = _layer()
    layer.trigger_estop("test button", now=1.0)
    layer.trigger_estop("test button", now=1.1)  # already latched: no second round
    assert acts["mattress"].safe_calls == 1 and acts["hand"].safe_calls == 1
    layer.submit(GRIP, 2.0)
    assert acts["hand"].applied == []
    assert "E-stop" in sink.of_kind("command")[-1]["reason"]
    layer.tick(3.0, True)
    assert layer.estop_latched and layer.led_mode() == "alarm_high"
    with pytest.raises(EStopError, match="still pressed"):
        layer.reset_estop(4.0, button_pressed=True)
    layer.reset_estop(5.0)
    layer.submit(GRIP, 5.0)
    assert acts["hand"].applied == [GRIP]


def test_slew_ramp_released_by_tick_and_dropped_by_safe_state():
    layer, acts, sink, _ = _layer()
    layer.submit(Command("mattress", "set_elevation", {"zone": "head", "degrees": 3}), 0.0)
    assert acts["mattress"].applied == []
    for k in range(1, 3):
        layer.tick(float(k), True)
    assert [c.params["degrees"] for c in acts["mattress"].applied] == [1.0, 2.0]
    layer.safe_state("test", 2.5, alarm=False)
    layer.resume(2.6)
    layer.tick(10.0, True)
    assert len(acts["mattress"].applied) == 2  # the ramp did not survive the safe state


def test_safe_state_reseeds_from_readback():
    layer, acts, sink, _ = _layer()
    acts["mattress"].reported = {"elevation": {"head": 7.5, "feet": 0.0}, "temperature": 22.0}
    layer.safe_state("test", 1.0, alarm=False)
    assert layer.limiter.last("mattress.elevation.head") == 7.5
    holding = [p["holding"] for p in sink.of_kind("safe_state") if p["target"] == "mattress"]
    assert holding[0]["mattress.temperature"] == 22.0


def test_safety_config_cannot_be_replaced():
    layer, *_ = _layer()
    with pytest.raises(AttributeError):
        layer.config = SafetyConfig(on_violation="refuse")  # type: ignore[misc]
    with pytest.raises(TypeError, match="SafetyConfig"):
        SafetyLayer({"mattress": {}}, {}, ListSink(), FakeClock())  # type: ignore[arg-type]


def test_alarm_manager_priorities_and_errors():
    sink = ListSink()
    alarms = AlarmManager(sink)
    alarms.raise_alarm("a", "low", "x", 0.0)
    alarms.raise_alarm("b", "high", "y", 1.0)
    assert alarms.highest() == "high" and [a.code for a in alarms.active] == ["b", "a"]
    assert not alarms.raise_alarm("b", "high", "again", 2.0)  # no duplicate journal entry
    assert len(sink.of_kind("alarm")) == 2
    with pytest.raises(ValueError, match="allowed"):
        alarms.raise_alarm("c", "urgent", "z", 0.0)


def test_watchdog_state_machines():
    dog = StaleSignalWatchdog(0.0, 1.0)
    assert dog.update(0.0, False) == "tripped"
    assert dog.update(0.5, True) is None and dog.update(1.5, True) == "recovered"
    with pytest.raises(ValueError, match=">= 0"):
        StaleSignalWatchdog(-1, 0)
    dev = DeviceWatchdog(2, 1.0, 3.0, expects_traffic=False, now=0.0)
    assert not dev.fault(0.1) and dev.fault(0.2) and dev.lost
    assert not dev.silent(10.0)  # no regular traffic expected -> silence is not loss
    assert not dev.reconnect_due(1.0) and dev.reconnect_due(3.3)


def test_estop_from_another_thread_acts_at_once_and_journals_from_the_loop_thread():
    import threading

    layer, acts, sink, _ = _layer()
    worker = threading.Thread(target=layer.trigger_estop, args=("gpio thread", 1.0))
    worker.start()
    worker.join()
    assert acts["mattress"].safe_calls == 1 and acts["hand"].safe_calls == 1  # no waiting
    assert sink.events == []  # the journal is only written from the owner thread...
    layer.tick(1.25, True)  # ...at its next call, in order
    kinds = [k for k, _, _ in sink.events]
    assert kinds[:3] == ["alarm", "safe_state", "safe_state"]


class PacedDevice:
    """Like the serial drivers: a keep-alive only when ``heartbeat_s`` passed since any frame."""

    def __init__(self, clock: FakeClock, heartbeat_s: float = 0.1) -> None:
        self.name = "hand"
        self.clock = clock
        self.heartbeat_s = heartbeat_s
        self.frames: list[tuple[float, str]] = []

    def _frame(self, what: str) -> None:
        self.frames.append((self.clock.now(), what))

    def heartbeat(self) -> bool:
        if self.frames and self.clock.now() - self.frames[-1][0] < self.heartbeat_s:
            return True
        self._frame("heartbeat")
        return True

    def poll_status(self) -> dict[str, Any]:
        self._frame("status")
        return {"positions": [0.0] * 6}

    def apply(self, command: Command) -> dict[str, Any]:
        self._frame(command.action)
        return {}

    def safe_state(self) -> None:
        self._frame("stop")

    def status(self) -> dict[str, Any]:
        return {}

    def close(self) -> None:
        pass


def test_status_poll_doubles_as_the_keep_alive_of_its_tick():
    clock = FakeClock()
    dev = PacedDevice(clock)
    layer = SafetyLayer(SafetyConfig(status_poll_s=1.0), {"hand": dev}, ListSink(), clock)
    dev.frames.clear()
    for _ in range(16):  # 4 s of 0.25-s ticks
        clock.advance(0.25)
        layer.tick(clock.now(), True)
    times = [t for t, _ in dev.frames]
    assert times == [0.25 * k for k in range(1, 17)]  # exactly one frame per tick
    assert [t for t, what in dev.frames if what == "status"] == [1.0, 2.0, 3.0, 4.0]
    assert not layer.device_lost("hand")
