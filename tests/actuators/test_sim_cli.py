"""``somnoloop sim``: the simulator runs stand-alone on a pty that a driver can open."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from actuators.base import Command
from actuators.hand import HandDriver
from actuators.mattress import MattressDriver
from firmware_host.cli import main


def _start(kind: str, *extra: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from firmware_host.cli import main; raise SystemExit(main())",
         "sim", kind, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    path = proc.stdout.readline().strip()
    if not path.startswith("/dev/"):
        proc.kill()
        pytest.fail(f"sim printed {path!r}, stderr: {proc.stderr.read()}")
    return proc, path


@pytest.mark.parametrize("kind", ["mattress"])  # the hand variant works alike; one is enough
def test_sim_command_serves_a_driver_and_stops_on_sigterm(kind):
    proc, path = _start(kind, *(["--object", "40"] if kind == "hand" else []))
    try:
        assert os.path.exists(path)
        if kind == "mattress":
            drv = MattressDriver(path, timeout_s=0.2)
            ack = drv.apply(Command("mattress", "set_vibration",
                                    {"intensity": 10, "pattern": "pulse"}))
            assert drv.poll_status()["vibration"] == {"intensity": 10, "pattern": "pulse"}
        else:
            drv = HandDriver(path, timeout_s=0.2)
            ack = drv.apply(Command("hand", "grip", {"pattern": "pinch", "force": 0.2,
                                                     "speed": 0.5}))
            assert drv.poll_status()["grip"] == "pinch"
        assert set(ack) >= {"seq", "latency_s", "retries"}
        drv.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "command frames received" in err


def test_sim_bad_arguments_exit_2(capsys):
    assert main(["sim", "mattress", "--object", "30"]) == 2
    assert "hand simulator only" in capsys.readouterr().err
    assert main(["sim", "hand", "--drop-prob", "2"]) == 2
