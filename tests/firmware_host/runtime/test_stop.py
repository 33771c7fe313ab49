"""Stopping: a stop during start-up ends the run cleanly; SIGTERM is honoured at any speed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from firmware_host.config import parse_config
from firmware_host.runtime.run import Run
from firmware_host.session import Session


def test_stop_requested_during_start_up_ends_the_run_cleanly(tmp_path):
    run = Run(parse_config({}), duration="8h", session_dir=tmp_path / "s")
    run.request_stop("signal SIGINT")  # Ctrl-C while the stages were being built
    summary = run.run()
    assert summary.stop_reason == "signal SIGINT"
    assert summary.n_samples == 0
    assert run.actuation._closed  # actuators safe and closed, simulators stopped
    stop = Session(tmp_path / "s").events("stop")
    assert stop and stop[-1].payload["stop_reason"] == "signal SIGINT"


def test_sigterm_is_honoured_promptly_at_a_very_slow_speed(tmp_path):
    session = tmp_path / "s"
    proc = subprocess.Popen(
        [sys.executable, "-m", "firmware_host", "run", "--speed", "0.001", "--duration", "1h",
         "--quiet", "--session-dir", str(session)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (session / "events.sqlite").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(3.0)  # the loop is sleeping its first 250 s tick (0.25 data s at 0.001×)
        sent = time.time()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)  # the stop, then the night's report
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, err
    stop = Session(session).events("stop")[-1]
    assert stop.payload["stop_reason"] == "signal SIGTERM"
    # the loop stopped within its 0.1-s sleep slices (before: one tick, 250 s at this speed);
    # the bound is loose for a loaded machine, and leaves out the report written afterwards
    assert stop.wall - sent < 5.0
