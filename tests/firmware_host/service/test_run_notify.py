"""End to end: the real ``somnoloop run`` notifies a datagram socket the test owns.

Needs the lead's run with lifecycle hooks (``firmware_host.runtime.run``) and the service
observers attached in ``cmd_run`` (``service_observers(cfg)``); skipped until then.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("firmware_host.runtime.run") is None,
        reason="firmware_host.runtime.run (the run with lifecycle hooks, where SystemdNotifier is "
        "attached) is not in this branch yet",
    ),
]


def run_with_socket(notify_socket, session_dir: Path, *args: str) -> list[dict[str, str]]:
    """Run ``somnoloop run`` with ``NOTIFY_SOCKET`` set; every datagram it sent, in order."""
    env = dict(os.environ, NOTIFY_SOCKET=notify_socket.env_value, WATCHDOG_USEC="1000000",
               WATCHDOG_PID="", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "firmware_host", "run", "--quiet",
                             "--session-dir", str(session_dir), *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    messages: list[dict[str, str]] = []
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        messages += notify_socket.messages()
        time.sleep(0.05)
    if proc.poll() is None:
        proc.kill()
        pytest.fail("somnoloop run did not finish within 300 s")
    messages += notify_socket.messages()
    assert proc.returncode == 0, proc.stderr.read()
    return messages


def test_run_sends_ready_watchdog_status_stopping(notify_socket, tmp_path) -> None:
    # 40 s of synthetic data at 4x: about 10 s of real time, a pet every 0.5 s while healthy.
    messages = run_with_socket(notify_socket, tmp_path / "night", "--duration", "40s", "--speed", "4")
    keys = [set(m) for m in messages]
    ready = next(i for i, k in enumerate(keys) if "READY" in k)
    stopping = next(i for i, k in enumerate(keys) if "STOPPING" in k)
    assert ready < stopping == len(messages) - 1
    pets = [i for i, k in enumerate(keys) if "WATCHDOG" in k]
    assert pets and pets[0] >= ready and len(pets) >= 5
    statuses = [m["STATUS"] for m in messages[ready + 1:stopping] if "STATUS" in m]
    assert statuses and all("of data" in s for s in statuses)
    assert messages[stopping]["STATUS"].startswith("stopping: ")
