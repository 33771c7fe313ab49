"""A session that cannot be written (disk full, read-only, I/O error) degrades the recording:
an alarm, actuators safe, what fits is kept, the journal stays consistent, no traceback, and
recording recovers by itself when the disk takes writes again."""

from __future__ import annotations

import errno
import subprocess
import sys

import pytest

from firmware_host.config import parse_config
from firmware_host.runtime.run import Run
from firmware_host.session import Session, SessionRecorder

LIGHT = {"recorder": {"fsync": False}}


def test_write_failures_degrade_then_recover(tmp_path, monkeypatch):
    """Writes fail between 60 and 90 s of data, then succeed again."""
    real_append = SessionRecorder._append
    state = {"fail": False}

    def flaky_append(self, data):
        if state["fail"]:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_append(self, data)

    monkeypatch.setattr(SessionRecorder, "_append", flaky_append)

    class Toggle:
        name = "toggle"

        def on_opened(self, run): ...
        def on_ready(self, run): ...
        def on_stopping(self, run, reason): ...
        def on_closed(self, run, summary): ...

        def on_iteration(self, run, info):
            state["fail"] = 60.0 <= info.data_s < 90.0

    run = Run(parse_config(LIGHT), duration="3m", session_dir=tmp_path / "s", observers=[Toggle()])
    summary = run.run()
    assert summary.stop_reason == "duration reached"
    assert any("No space left" in p for p in summary.recording_problems)
    assert 0 < summary.samples_not_written <= 35 * 250
    s = Session(tmp_path / "s")
    alarms = [(e.payload["code"], e.payload["state"]) for e in s.events("alarm")]
    assert ("storage_failed", "active") in alarms and ("storage_failed", "cleared") in alarms
    safe = [e.payload for e in s.events("safe_state") if "recording failed" in e.payload["reason"]]
    assert {p["target"] for p in safe} == {"mattress", "hand"}
    assert s.n_samples >= 180 * 250 - summary.samples_not_written  # everything else is there
    assert s.events("stop")  # the journal caught up once the disk took writes again


@pytest.fixture
def tiny_disk(tmp_path):
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_disk_never_ends_the_night_with_a_traceback(tiny_disk):
    session = tiny_disk / "s"
    done = subprocess.run(
        [sys.executable, "-m", "firmware_host", "run", "--duration", "20m", "--quiet",
         "--session-dir", str(session)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "recording degraded" in done.stderr and "full" in done.stderr
    s = Session(session)  # what fitted is readable
    assert s.n_samples > 0
    data, idx, _ = s.read()
    assert data.shape[1] == s.n_samples
