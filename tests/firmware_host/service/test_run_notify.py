"""End to end: a real run notifies a datagram socket the test owns, and stops on SIGTERM.

Two ways in: the lead's :class:`~firmware_host.runtime.run.Run` with the service observers
attached (runs now), and the ``somnoloop run`` command itself (skipped until ``cmd_run``
attaches ``service_observers(cfg)``). Like under systemd, an 8-h run is
stopped with SIGTERM once the test has seen enough. The stager and the EMG decoder are off:
the notifier does not care, and the loop then keeps real time even with
``NUMBA_DISABLE_JIT=1`` on a loaded machine.
"""

from __future__ import annotations

import inspect
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from firmware_host.cli import cmd_run

ROOT = Path(__file__).resolve().parents[3]
LIGHT = "[stager]\nenabled = false\n[emg]\nenabled = false\n"

pytestmark = pytest.mark.slow

#: The Run with the service observers, in a process of its own (as under systemd). With a
#: 3rd argument, the loop thread hangs that many seconds once 4 s of data are in.
RUN_SCRIPT = """
import sys, time
from firmware_host.config import load_config
from firmware_host.runtime.hooks import RunObserver
from firmware_host.runtime.run import Run
from firmware_host.runtime.signals import stop_on_signals
from firmware_host.service.wiring import service_observers

class Hang(RunObserver):
    name = "hang"
    def __init__(self, seconds):
        self.seconds = seconds
    def on_iteration(self, run, info):
        if self.seconds and info.data_s >= 4:
            time.sleep(self.seconds)
            self.seconds = 0

cfg = load_config(sys.argv[2])
hang = Hang(float(sys.argv[3]) if len(sys.argv) > 3 else 0)
run = Run(cfg, duration="8h", speed="1", session_dir=sys.argv[1],
          observers=[*service_observers(cfg, nights=False), hang])
with stop_on_signals(run.request_stop):
    run.open()
    summary = run.run()
sys.exit(0 if not summary.stop_reason.startswith("error") else 1)
"""

Messages = list[tuple[float, dict[str, str]]]


def collect(notify_socket, argv: list[str], enough: Callable[[Messages], bool]) -> Messages:
    """Run ``argv`` with ``NOTIFY_SOCKET`` set, SIGTERM it once ``enough``; every datagram it
    sent with the monotonic time it was read (50-ms polling)."""
    env = dict(os.environ, NOTIFY_SOCKET=notify_socket.env_value, WATCHDOG_USEC="1000000",
               WATCHDOG_PID="", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    messages: Messages = []
    deadline = time.monotonic() + 300
    terminated = False
    while proc.poll() is None and time.monotonic() < deadline:
        messages += [(time.monotonic(), m) for m in notify_socket.messages()]
        if not terminated and enough(messages):
            proc.send_signal(signal.SIGTERM)
            terminated = True
        time.sleep(0.05)
    if proc.poll() is None:
        proc.kill()
        pytest.fail(f"no clean end within 300 s; datagrams: {[m for _, m in messages][-5:]}")
    messages += [(time.monotonic(), m) for m in notify_socket.messages()]
    assert proc.returncode == 0, proc.stderr.read()
    return messages


def pets_after(messages: Messages, predicate: Callable[[dict[str, str]], bool]) -> int:
    """WATCHDOG=1 datagrams after the first one matching ``predicate``."""
    start = next((i for i, (_, m) in enumerate(messages) if predicate(m)), len(messages))
    return sum("WATCHDOG" in m for _, m in messages[start + 1:])


def unhealthy(message: dict[str, str]) -> bool:
    return message.get("STATUS", "").endswith("UNHEALTHY")


def check_lifecycle(messages: Messages) -> None:
    """READY, then periodic WATCHDOG and STATUS lines, then STOPPING last."""
    msgs = [m for _, m in messages]
    ready = next(i for i, m in enumerate(msgs) if "READY" in m)
    stopping = next(i for i, m in enumerate(msgs) if "STOPPING" in m)
    assert ready < stopping == len(msgs) - 1
    assert msgs[0]["STATUS"].startswith("starting")
    assert sum("WATCHDOG" in m for m in msgs[ready:]) >= 6
    statuses = [m["STATUS"] for m in msgs[ready + 1:stopping] if "STATUS" in m]
    assert statuses and all("of data" in s and "alarms" in s for s in statuses)
    assert msgs[stopping]["STATUS"] == "stopping: signal SIGTERM"


def light_config(tmp_path: Path) -> Path:
    path = tmp_path / "light.toml"
    path.write_text(LIGHT + f'[recorder]\nroot = "{tmp_path}"\n')
    return path


def test_run_with_service_observers_notifies(notify_socket, tmp_path) -> None:
    argv = [sys.executable, "-c", RUN_SCRIPT, str(tmp_path / "night"), str(light_config(tmp_path))]
    messages = collect(notify_socket, argv, lambda ms: pets_after(ms, lambda m: "READY" in m) >= 6)
    check_lifecycle(messages)


def test_a_hung_loop_stops_petting_the_watchdog(notify_socket, tmp_path) -> None:
    """The loop thread hangs 3 s: no WATCHDOG=1 for that long (systemd, at 1 s, would kill it),
    and the first iteration after it is late, so unhealthy: no pet, and the status says so."""
    argv = [sys.executable, "-c", RUN_SCRIPT, str(tmp_path / "night"), str(light_config(tmp_path)), "3"]
    messages = collect(notify_socket, argv,
                       lambda ms: pets_after(ms, unhealthy) >= 4)
    pets = [t for t, m in messages if "WATCHDOG" in m]
    assert max(b - a for a, b in zip(pets, pets[1:], strict=False)) >= 2.9  # the hang
    assert any(unhealthy(m) and "loop_late" in m["STATUS"] for _, m in messages)  # the loop's alarm
    check_lifecycle(messages)


@pytest.mark.skipif("service_observers" not in inspect.getsource(cmd_run),
                    reason="cmd_run does not attach firmware_host.service.wiring.service_observers yet")
def test_somnoloop_run_notifies(notify_socket, tmp_path) -> None:
    argv = [sys.executable, "-m", "firmware_host", "run", "--quiet", "--config", str(light_config(tmp_path)),
            "--session-dir", str(tmp_path / "night"), "--duration", "8h", "--speed", "1"]
    messages = collect(notify_socket, argv, lambda ms: pets_after(ms, lambda m: "READY" in m) >= 6)
    check_lifecycle(messages)
