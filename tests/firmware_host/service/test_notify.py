"""sd_notify: the datagram protocol against a socket the test owns, and the run observer."""

from __future__ import annotations

import os

import pytest

from firmware_host.runtime.hooks import Hooks, IterationInfo
from firmware_host.service.nights import ROLLOVER_PREFIX
from firmware_host.service.notify import (
    Notifier,
    NotifyError,
    SystemdNotifier,
    socket_address,
    status_line,
)
from firmware_host.service.runview import active_alarms
from tests.firmware_host.service.doubles import FakeRun


def info(healthy: bool = True, data_s: float = 3725.0, **extra: object) -> IterationInfo:
    return IterationInfo(now=data_s, data_s=data_s, n_samples=25, processing_s=0.001,
                         healthy=healthy, extra=dict(extra))


class Ticker:
    """An injected monotonic clock."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_socket_address_forms() -> None:
    assert socket_address("/run/systemd/notify") == "/run/systemd/notify"
    assert socket_address("@abc") == b"\0abc"
    with pytest.raises(NotifyError, match="allowed: an absolute socket path"):
        socket_address("vsock:2:1234")


def test_no_socket_is_a_no_op() -> None:
    notifier = Notifier(environ={})
    assert not notifier.enabled
    assert notifier.send(READY=1) is False
    observer = SystemdNotifier(notifier)
    observer.on_ready(object())  # type: ignore[arg-type]
    observer.on_iteration(object(), info())  # type: ignore[arg-type]


def test_datagram_on_a_path_socket(notify_socket) -> None:
    notifier = Notifier(environ={"NOTIFY_SOCKET": notify_socket.env_value})
    assert notifier.send(READY=1, STATUS="line one\nline two")
    assert notify_socket.messages() == [{"READY": "1", "STATUS": "line one line two"}]


def test_datagram_on_an_abstract_socket(abstract_notify_socket) -> None:
    notifier = Notifier(environ={"NOTIFY_SOCKET": abstract_notify_socket.env_value})
    notifier.send(STOPPING=1)
    assert abstract_notify_socket.messages() == [{"STOPPING": "1"}]


@pytest.mark.parametrize(("env", "expected"), [
    ({}, None),
    ({"WATCHDOG_USEC": "20000000"}, 20.0),
    ({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "4242"}, 20.0),
    ({"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "1"}, None),  # meant for another process
    ({"WATCHDOG_USEC": "0"}, None),
])
def test_watchdog_interval_from_environment(env, expected) -> None:
    assert Notifier(environ=env, pid=4242).watchdog_s == expected


@pytest.mark.parametrize(("env", "message"), [
    ({"WATCHDOG_USEC": "abc"}, "WATCHDOG_USEC='abc' must be a whole number"),
    ({"NOTIFY_SOCKET": "vsock:2:1234"}, "allowed: an absolute socket path"),
])
def test_unusable_environment_is_one_fault_not_a_crash(env, message) -> None:
    notifier = Notifier(environ=env)
    assert message in notifier.problem and notifier.watchdog_s is None
    run = FakeRun()
    hooks = Hooks([SystemdNotifier(notifier)])
    hooks.call("on_opened", run)
    hooks.call("on_iteration", run, info())
    assert [(where, type(exc)) for where, exc in run.faults] == [("observer:systemd", NotifyError)]


def test_status_line_says_what_the_loop_does() -> None:
    assert status_line(info(stage="N2"), ["signal_stale"]) == (
        "recording 1:02:05 of data; stage N2; alarms: signal_stale")
    assert status_line(info(healthy=False), []) == "recording 1:02:05 of data; no alarms; UNHEALTHY"
    assert status_line(info()) == "recording 1:02:05 of data"  # alarms unknown: nothing claimed


def test_status_line_reads_the_runs_alarms() -> None:
    from firmware_host.events import ListSink
    from firmware_host.safety.alarms import AlarmManager

    class Safety:
        alarms = AlarmManager(ListSink())

    class Actuation:
        safety = Safety()

    class RunWithAlarms:
        actuation = Actuation()

    run = RunWithAlarms()
    assert active_alarms(run) == [] and active_alarms(object()) is None
    Safety.alarms.raise_alarm("signal_stale", "medium", "no samples for 5 s", 1.0)
    Safety.alarms.raise_alarm("estop", "high", "button", 2.0)
    assert active_alarms(run) == ["estop", "signal_stale"]


def test_lifecycle_ready_watchdog_status_stopping(notify_socket) -> None:
    ticker = Ticker()
    env = {"NOTIFY_SOCKET": notify_socket.env_value, "WATCHDOG_USEC": "10000000"}
    observer = SystemdNotifier(Notifier(environ=env), status_interval_s=5.0, monotonic=ticker)
    run = object()
    observer.on_opened(run)  # type: ignore[arg-type]
    observer.on_ready(run)  # type: ignore[arg-type]
    msgs = notify_socket.messages()
    assert msgs[0]["STATUS"].startswith("starting") and msgs[0]["WATCHDOG"] == "1"
    assert msgs[1]["READY"] == "1" and msgs[1]["WATCHDOG"] == "1"
    # 0.1-s iterations over 30 s: a pet every 5 s (WATCHDOG_USEC / 2), a status every 5 s.
    for _ in range(300):
        ticker.t += 0.1
        observer.on_iteration(run, info(stage="N2"))  # type: ignore[arg-type]
    msgs = notify_socket.messages()
    pets = [m for m in msgs if m.get("WATCHDOG") == "1"]
    statuses = [m["STATUS"] for m in msgs if "STATUS" in m]
    assert 5 <= len(pets) <= 6
    assert 6 <= len(statuses) <= 7
    assert all("stage N2" in s for s in statuses)
    observer.on_stopping(run, "signal SIGTERM")  # type: ignore[arg-type]
    assert notify_socket.messages() == [{"STOPPING": "1", "STATUS": "stopping: signal SIGTERM"}]


def test_rollover_is_no_stop_for_systemd(notify_socket) -> None:
    env = {"NOTIFY_SOCKET": notify_socket.env_value, "WATCHDOG_USEC": "20000000"}
    observer = SystemdNotifier(Notifier(environ=env), monotonic=Ticker())
    observer.on_stopping(object(), ROLLOVER_PREFIX + "roll-over at 12:00: night 2026-11-29 ended")  # type: ignore[arg-type]
    (msg,) = notify_socket.messages()
    assert "STOPPING" not in msg and msg["WATCHDOG"] == "1"
    assert msg["STATUS"].endswith("night 2026-11-29 ended; opening the next night")


def test_nothing_but_starting_before_ready(notify_socket) -> None:
    env = {"NOTIFY_SOCKET": notify_socket.env_value}
    observer = SystemdNotifier(Notifier(environ=env), monotonic=Ticker())
    observer.on_opened(object())  # type: ignore[arg-type]
    observer.on_iteration(object(), info(healthy=False))  # type: ignore[arg-type]
    assert [m["STATUS"] for m in notify_socket.messages()] == [
        "starting: source open, waiting for data and actuators"]


def test_no_watchdog_while_unhealthy(notify_socket) -> None:
    ticker = Ticker()
    env = {"NOTIFY_SOCKET": notify_socket.env_value, "WATCHDOG_USEC": "2000000"}
    observer = SystemdNotifier(Notifier(environ=env), monotonic=ticker)
    observer.on_ready(object())  # type: ignore[arg-type]
    notify_socket.messages()
    for _ in range(100):  # 10 s unhealthy: no pet at all, the status says why at once
        ticker.t += 0.1
        observer.on_iteration(object(), info(healthy=False))  # type: ignore[arg-type]
    msgs = notify_socket.messages()
    assert not any("WATCHDOG" in m for m in msgs)
    assert msgs[0]["STATUS"].endswith("UNHEALTHY")
    ticker.t += 0.1
    observer.on_iteration(object(), info(healthy=True))  # type: ignore[arg-type]
    recovered = notify_socket.messages()
    assert recovered[0]["WATCHDOG"] == "1" and not recovered[0]["STATUS"].endswith("UNHEALTHY")


def test_a_vanished_socket_is_one_fault_not_one_per_iteration(tmp_path) -> None:
    run = FakeRun()
    gone = str(tmp_path / "nobody-listens")
    observer = SystemdNotifier(Notifier(environ={"NOTIFY_SOCKET": gone}), status_interval_s=0.01)
    hooks = Hooks([observer])
    hooks.call("on_ready", run)
    for _ in range(5):
        hooks.call("on_iteration", run, info())
    assert len(run.faults) == 1 and run.faults[0][0] == "observer:systemd"
    assert isinstance(run.faults[0][1], OSError)


def test_watchdog_not_for_this_process_is_never_sent(notify_socket) -> None:
    env = {"NOTIFY_SOCKET": notify_socket.env_value, "WATCHDOG_USEC": "1000000",
           "WATCHDOG_PID": str(os.getpid() + 1)}
    observer = SystemdNotifier(Notifier(environ=env))
    observer.on_ready(object())  # type: ignore[arg-type]
    observer.on_iteration(object(), info())  # type: ignore[arg-type]
    assert not any("WATCHDOG" in m for m in notify_socket.messages())
