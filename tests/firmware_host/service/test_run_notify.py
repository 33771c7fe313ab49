"""End to end: a real run notifies a datagram socket the test owns.

Two ways in: the lead's :class:`~firmware_host.runtime.run.Run` with the service observers
attached (runs now), and the ``somnoloop run`` command itself (skipped until ``cmd_run``
attaches ``service_observers(cfg)``).
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from firmware_host.cli import cmd_run

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow

#: The Run with the service observers, in a process of its own (as under systemd).
#: With a 4th argument, the loop thread hangs that many seconds once 6 s of data are in.
RUN_SCRIPT = """
import sys, time
from firmware_host.config import load_config
from firmware_host.runtime.hooks import RunObserver
from firmware_host.runtime.run import Run
from firmware_host.service.wiring import service_observers

class Hang(RunObserver):
    name = "hang"
    def __init__(self, seconds):
        self.seconds = seconds
    def on_iteration(self, run, info):
        if self.seconds and info.data_s >= 6:
            time.sleep(self.seconds)
            self.seconds = 0

cfg = load_config(None)
run = Run(cfg, duration=sys.argv[2], speed=sys.argv[3], session_dir=sys.argv[1],
          observers=[*service_observers(cfg), Hang(float(sys.argv[4]) if len(sys.argv) > 4 else 0)])
run.open()
summary = run.run()
sys.exit(0 if not summary.stop_reason.startswith("error") else 1)
"""


def collect(notify_socket, argv: list[str], arrivals: list[float] | None = None) -> list[dict[str, str]]:
    """Run ``argv`` with ``NOTIFY_SOCKET`` set; every datagram it sent, in order.

    ``arrivals`` receives the monotonic time each datagram was read (50-ms polling).
    """
    env = dict(os.environ, NOTIFY_SOCKET=notify_socket.env_value, WATCHDOG_USEC="1000000",
               WATCHDOG_PID="", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    messages: list[dict[str, str]] = []
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        new = notify_socket.messages()
        messages += new
        if arrivals is not None:
            arrivals += [time.monotonic()] * len(new)
        time.sleep(0.05)
    if proc.poll() is None:
        proc.kill()
        pytest.fail(f"{argv[:4]} did not finish within 300 s")
    new = notify_socket.messages()
    messages += new
    if arrivals is not None:
        arrivals += [time.monotonic()] * len(new)
    assert proc.returncode == 0, proc.stderr.read()
    return messages


def check_lifecycle(messages: list[dict[str, str]]) -> None:
    """READY, then periodic WATCHDOG and STATUS lines, then STOPPING last."""
    keys = [set(m) for m in messages]
    ready = next(i for i, k in enumerate(keys) if "READY" in k)
    stopping = next(i for i, k in enumerate(keys) if "STOPPING" in k)
    assert ready < stopping == len(messages) - 1
    assert messages[0]["STATUS"].startswith("starting")
    pets = [i for i, k in enumerate(keys) if "WATCHDOG" in k]
    assert pets and pets[0] >= ready and len(pets) >= 5  # every 0.5 s once ready
    statuses = [m["STATUS"] for m in messages[ready + 1:stopping] if "STATUS" in m]
    assert statuses and all("of data" in s and "alarms" in s for s in statuses)
    assert messages[stopping]["STATUS"] == "stopping: duration reached"


def test_run_with_service_observers_notifies(notify_socket, tmp_path) -> None:
    # 12 s of synthetic data in real time (a loaded machine makes a faster run late, so
    # unhealthy): a pet every 0.5 s while healthy.
    messages = collect(notify_socket, [sys.executable, "-c", RUN_SCRIPT, str(tmp_path / "night"), "12s", "1"])
    check_lifecycle(messages)


def test_a_hung_loop_stops_petting_the_watchdog(notify_socket, tmp_path) -> None:
    """The loop thread hangs 3 s: no WATCHDOG=1 for that long (systemd, at 1 s, would kill it),
    and the first iteration after it is late, so unhealthy: still no pet, and the status says so."""
    arrivals: list[float] = []
    messages = collect(notify_socket, [sys.executable, "-c", RUN_SCRIPT, str(tmp_path / "night"),
                                       "15s", "1", "3"], arrivals)
    pets = [t for t, m in zip(arrivals, messages, strict=True) if "WATCHDOG" in m]
    gaps = [b - a for a, b in zip(pets, pets[1:], strict=False)]
    assert max(gaps) >= 2.9  # the hang: no pet for 3 s
    assert any(m.get("STATUS", "").endswith("UNHEALTHY") for m in messages)
    check_lifecycle(messages)


@pytest.mark.skipif("service_observers" not in inspect.getsource(cmd_run),
                    reason="cmd_run does not attach firmware_host.service.wiring.service_observers yet")
def test_somnoloop_run_notifies(notify_socket, tmp_path) -> None:
    argv = [sys.executable, "-m", "firmware_host", "run", "--quiet", "--session-dir",
            str(tmp_path / "night"), "--duration", "12s", "--speed", "1"]
    messages = collect(notify_socket, argv)
    check_lifecycle(messages)
