"""A session that cannot be written (disk full, read-only, I/O error) degrades the recording:
an alarm, actuators safe, what fits is kept, the journal stays consistent, no traceback, and
recording recovers by itself when the disk takes writes again."""

from __future__ import annotations

import errno
import subprocess
import sys
import threading
import time

import pytest

from firmware_host.config import parse_config
from firmware_host.runtime.hooks import RunObserver
from firmware_host.runtime.run import Run
from firmware_host.session import Session, SessionRecorder
from firmware_host.session import recorder as recorder_module
from tests.jit import needs_jit

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


#: The slow-disk nights measure the loop's pace, which pure-Python kernels cannot keep at 2×.
PACED_BY_JIT = needs_jit("the loop keeps its pace only with compiled kernels")


class _SlowDisk(RunObserver):
    """From ``from_s`` of data, the next sample sync takes ``stall_s`` of wall time (on the
    recorder's background thread); records every iteration's lateness and the loop's hold."""

    name = "slow-disk"

    def __init__(self, from_s: float, stall_s: float) -> None:
        self.from_s, self.stall_s = from_s, stall_s
        self.armed = threading.Event()
        self.stalled_at: float | None = None
        self.late: list[tuple[float, float]] = []
        self.holds: list[tuple[float, str]] = []

    def sync(self, real):
        def slow_sync(recorder):
            if self.armed.is_set() and self.stalled_at is None:
                self.stalled_at = time.monotonic()
                time.sleep(self.stall_s)
            return real(recorder)
        return slow_sync

    def on_iteration(self, run, info):
        self.late.append((info.data_s, info.late_s))
        if info.data_s >= self.from_s:
            self.armed.set()
        hold = run.controller.actuation.status()["hold"] if run.controller.actuation else None
        self.holds.append((info.data_s, hold or ""))


def _slow_disk_night(tmp_path, monkeypatch, stall_s: float) -> tuple[_SlowDisk, Session]:
    disk = _SlowDisk(from_s=10.0, stall_s=stall_s)
    monkeypatch.setattr(SessionRecorder, "_sync_samples", disk.sync(SessionRecorder._sync_samples))
    run = Run(parse_config({"recorder": {"fsync": True}}), duration="50s", speed="2",
              session_dir=tmp_path / "s", actuation="dry", observers=[disk])
    summary = run.run()
    assert summary.stop_reason == "duration reached" and disk.stalled_at is not None
    # the loop kept its pace while the disk stalled: had it waited for the disk, an iteration
    # would have begun 2×stall_s of data late at this speed; none past the start-up began 2 s late
    assert max(late for t, late in disk.late if t >= 5.0) < 2.0, disk.late
    s = Session(tmp_path / "s")
    assert s.n_samples == 50 * 250 and s.events("stop")  # all written once the disk woke up
    return disk, s


@PACED_BY_JIT
def test_a_slow_disk_never_holds_up_the_loop(tmp_path, monkeypatch):
    """A sample sync that takes 2 s (an SD card's housekeeping) delays only durability."""
    disk, s = _slow_disk_night(tmp_path, monkeypatch, stall_s=2.0)
    assert not [e for e in s.events("alarm") if e.payload["code"] == "storage_failed"]
    assert not any(hold for _, hold in disk.holds)


@PACED_BY_JIT
def test_a_disk_stalled_past_the_limit_degrades_the_recording_until_it_wakes(tmp_path,
                                                                               monkeypatch):
    """A sync stalled for ``STALL_S`` counts as a failed disk: the high alarm and every
    actuator held safe while it lasts; both clear when the sync returns."""
    monkeypatch.setattr(recorder_module, "STALL_S", 1.0)
    disk, s = _slow_disk_night(tmp_path, monkeypatch, stall_s=3.0)
    alarms = [e for e in s.events("alarm") if e.payload["code"] == "storage_failed"]
    assert [a.payload["state"] for a in alarms] == ["active", "cleared"], alarms
    assert "storage stalled" in alarms[0].payload["message"]
    # raised 1 s of wall time into the stall, cleared when it ended: (3 s − 1 s) × 2 of data
    assert 2.0 <= alarms[1].t - alarms[0].t <= 8.0, [a.t for a in alarms]
    assert any(hold.startswith("recording failed: storage stalled") for _, hold in disk.holds)
    assert not disk.holds[-1][1]  # released once recording had been healthy for a while
