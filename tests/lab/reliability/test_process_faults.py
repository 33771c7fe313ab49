"""Process faults of the catalogue, each injected into a real run: a data directory that is
read-only at start or turns read-only mid-night (a real file system, remounted by the
kernel), a corrupt or missing model file, a wall-clock step, a control-socket client that
floods or disconnects mid-request, a stage that raises on every chunk, and a stage that
becomes slow.

SIGKILL and restart, a full disk, an invalid config and a half-sent control request have
their tests beside the code they exercise (see ``RELIABILITY.md``).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from firmware_host.cli import main
from firmware_host.config import parse_config
from firmware_host.control import protocol as P
from firmware_host.errors import UsageError
from firmware_host.runtime.hooks import RunObserver
from firmware_host.runtime.run import Run
from firmware_host.service.clockwatch import ClockWatch
from firmware_host.session import Session
from firmware_host.stages.base import StageOutput
from tests.firmware_host.control.live import live_loop
from tests.lab.reliability.checks import (
    StatusAtStop,
    assert_alarm_raised_and_cleared,
    assert_readable,
    assert_recovered,
    assert_safe_in_time,
)

LIGHT = {"recorder": {"fsync": False}}
#: For the tests that measure the loop's pace in real time: no stager and no grip decoder,
#: so the pace is the loop's own also without numba (NUMBA_DISABLE_JIT=1).
PACED = {**LIGHT, "stager": {"enabled": False}, "emg": {"enabled": False}}
TARGETS = {"mattress", "hand"}


def _sh(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=60)


# ------------------------------------------------------------------ read-only data directory
@pytest.fixture
def read_only_dir(tmp_path):
    """A tmpfs mounted read-only (root can write anywhere else, so chmod proves nothing)."""
    mnt = tmp_path / "ro"
    mnt.mkdir()
    done = _sh("mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(mnt))
    if done.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs here (needs root): {done.stderr.strip()}")
    yield mnt
    _sh("umount", "-l", str(mnt))


def test_read_only_data_directory_at_start_is_one_line_and_exit_2(read_only_dir, capsys):
    rc = main(["run", "--quiet", "--duration", "1m", "--session-dir", str(read_only_dir / "s")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1, err
    assert str(read_only_dir / "s") in err and "Read-only file system" in err and "allowed" in err


@pytest.fixture
def ext4_disk(tmp_path):
    """An ext4 file system on a loop device whose kernel error handler remounts it read-only
    (``errors=remount-ro``); yields (mount point, the sysfs file that triggers an error)."""
    image, mnt = tmp_path / "disk.img", tmp_path / "disk"
    mnt.mkdir()
    with image.open("wb") as f:
        f.truncate(64 * 2**20)
    if _sh("mkfs.ext4", "-q", "-F", str(image)).returncode != 0:
        pytest.skip("mkfs.ext4 is not available")
    done = _sh("mount", "-o", "loop,errors=remount-ro", str(image), str(mnt))
    if done.returncode != 0:
        pytest.skip(f"cannot mount a loop device here (needs root): {done.stderr.strip()}")
    loop = _sh("findmnt", "-n", "-o", "SOURCE", str(mnt)).stdout.strip()
    trigger = Path("/sys/fs/ext4") / Path(loop).name / "trigger_fs_error"
    if not trigger.exists():
        _sh("umount", "-l", str(mnt))
        pytest.skip(f"this kernel has no {trigger}")
    yield mnt, trigger
    _sh("umount", "-l", str(mnt))


class AfterReady(RunObserver):
    """Calls ``action(run, info)`` once, at the first iteration at least ``wall_s`` real
    seconds after the run is ready with at least ``data_s`` seconds of data in."""

    name = "after-ready"

    def __init__(self, wall_s: float, data_s: float, action) -> None:
        self.wall_s, self.min_data_s, self.action = wall_s, data_s, action
        self.ready_at: float | None = None
        self.done_at: float | None = None
        self.data_s = 0.0

    def on_ready(self, run):
        self.ready_at = time.monotonic()

    def on_iteration(self, run, info):
        if self.done_at is None and self.ready_at is not None and info.data_s >= self.min_data_s \
                and time.monotonic() - self.ready_at >= self.wall_s:
            self.done_at, self.data_s = info.now, info.data_s
            self.action(run, info)


def test_data_directory_turning_read_only_mid_night(ext4_disk):
    """The kernel remounts the session's file system read-only mid-run (as ext4 does on an
    I/O error): recording degrades (a high alarm, every actuator held safe within 1 s), the night
    goes on without a traceback, and all that was written before is readable afterwards.
    (This remount cannot be undone without unmounting; recovery from a storage failure that
    clears is tested in tests/firmware_host/runtime/test_storage_failure.py.)"""
    mnt, trigger = ext4_disk
    # 10x real time: the journal commits every 0.5 s of wall time (5 s of data here); the
    # fault comes 1 s of wall time after the start-up's backlog, once the first 30-s epoch's
    # decision has had 15 s of data (three commits) to reach the disk
    fault = AfterReady(1.0, 45.0, lambda run, info: trigger.write_text("somnoloop test\n"))
    probe = StatusAtStop()
    run = Run(parse_config(PACED), duration="2m", speed="10", session_dir=mnt / "s",
              observers=[fault, probe])
    summary = run.run()
    assert 20.0 <= fault.data_s <= 100.0
    # the journal is on the read-only disk too: the live status says what happened
    alarm = next(a for a in probe.status["alarms"] if a["code"] == "storage_failed")
    assert alarm["priority"] == "high" and alarm["since"] - fault.done_at <= 1.0
    assert probe.status["hold"].startswith("recording failed")  # every actuator held safe
    assert "storage_failed" in summary.alarms
    assert summary.stop_reason == "duration reached"
    # whichever write meets the remount first names it: the samples (EROFS, or EIO for a write
    # or fsync already under way) or the journal (SQLite's error, then the file system's state)
    assert any(why in p for p in summary.recording_problems
               for why in ("Read-only file system", "Input/output error")), \
        summary.recording_problems
    assert summary.samples_not_written > 0
    s = Session(mnt / "s")
    assert s.n_samples >= (fault.data_s - 1.0) * s.sfreq  # every sample before the fault is there
    data, idx, _ = s.read()
    assert data.shape[1] == s.n_samples and np.isfinite(data).all()
    # the journal up to its last commit before the fault (every 0.5 s of wall time, 5 s of
    # data here): the start, the configuration and each 30-s epoch's decision made before it
    before = [e for e in s.events() if e.t < fault.done_at - 5.0]
    assert {"start", "config"} <= {e.kind for e in before}
    epochs = [e for e in before if e.kind == "decision"]
    assert len(epochs) == int((fault.data_s - 5.0) // 30.0) >= 1, [e.t for e in epochs]


def test_a_journal_on_a_remounted_disk_names_the_read_only_file_system(ext4_disk):
    """SQLite says only "unable to open database file" when its file system went read-only
    under it: the journal's error adds what the file system says, so the alarm names it."""
    from firmware_host.session.journal import Journal

    mnt, trigger = ext4_disk
    journal = Journal(mnt / "journal.sqlite")
    journal.add(0.0, "start", {}, None)
    journal.commit()
    trigger.write_text("somnoloop test\n")
    journal.add(1.0, "decision", {"stage": "N2"}, 256)
    with pytest.raises(OSError, match=r"journal journal\.sqlite: .*\(Read-only file system\)"):
        journal.commit()
    journal.add(2.0, "decision", {"stage": "N3"}, 512)  # still queued, in order, for a retry
    assert [row[3] for row in journal._pending] == ["decision", "decision"]


def test_a_failing_disk_alarm_and_safe_state_are_journalled_when_it_recovers(tmp_path, monkeypatch):
    """Read-only for 30 s, then writable again (a remount by the admin): the
    ``storage_failed`` alarm and the safe states are in the journal, cleared, within 1 s."""
    import errno

    from firmware_host.session import SessionRecorder

    real = SessionRecorder._append
    state = {"ro": False}

    def append(self, data):
        if state["ro"]:
            raise OSError(errno.EROFS, "Read-only file system")
        return real(self, data)

    monkeypatch.setattr(SessionRecorder, "_append", append)

    class Toggle(RunObserver):
        name = "toggle"
        onset: float | None = None

        def on_iteration(self, run, info):
            state["ro"] = 60.0 <= info.data_s < 90.0
            if state["ro"] and self.onset is None:
                self.onset = info.now

    toggle, probe = Toggle(), StatusAtStop()
    run = Run(parse_config(LIGHT), duration="2m", session_dir=tmp_path / "s", observers=[toggle, probe])
    summary = run.run()
    s = Session(tmp_path / "s")
    assert summary.stop_reason == "duration reached"
    assert_safe_in_time(s, toggle.onset, TARGETS)
    assert_alarm_raised_and_cleared(s, "storage_failed", after=toggle.onset)
    assert_recovered(probe.status)
    assert_readable(s, 120 * 250, excused=summary.samples_not_written)


# ------------------------------------------------------------------ model files
@pytest.mark.parametrize(("section", "key", "damage"), [
    ("stager", "model_path", "missing"), ("stager", "model_path", "junk"),
    ("emg", "model", "missing"), ("emg", "model", "junk"),
])
def test_corrupt_or_missing_model_file_refuses_the_start(tmp_path, section, key, damage):
    """A bedside device never runs on a model other than the one configured: one line naming
    the file, no session made. (``[emg] model = "auto"`` finds no file: see RELIABILITY.md.)"""
    model = tmp_path / ("model.json" if section == "stager" else "model.npz")
    if damage == "junk":
        model.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    cfg = parse_config({**LIGHT, section: {key: str(model)}})
    with pytest.raises(UsageError) as exc:
        Run(cfg, duration="1m", session_dir=tmp_path / "s", actuation="dry").run()
    assert "\n" not in str(exc.value) and str(model) in str(exc.value)
    assert not (tmp_path / "s").exists()


def test_no_emg_calibration_on_a_real_source_is_a_loud_warning(tmp_path, capsys):
    """``[emg] model = "auto"`` (the default) on a recording with forearm EMG but no
    calibration file: the night runs without grip decoding, and the start says so on stderr
    (also with --quiet) instead of running silently without it."""
    from edfio import Edf, EdfSignal

    t = np.arange(60 * 250) / 250
    edf = tmp_path / "arm.edf"
    Edf([EdfSignal(30 * np.sin(2 * np.pi * 10 * t), 250.0, label="C3-M2", physical_dimension="uV",
                   physical_range=(-500, 500)),
         EdfSignal(20 * np.sin(2 * np.pi * 80 * t), 250.0, label="FA1", physical_dimension="uV",
                   physical_range=(-500, 500))]).write(edf)
    config = tmp_path / "arm.toml"
    config.write_text(f"""
[source]
kind = "replay"
[source.replay]
path = "{edf}"
channel_types = ["eeg", "forearm_emg"]
[stager]
eeg_channel = "C3-M2"
[emg]
model_file = "{tmp_path / 'never-calibrated.npz'}"
[recorder]
fsync = false
""")
    rc = main(["run", "--quiet", "--config", str(config), "--actuation", "dry",
               "--session-dir", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert rc == 0
    warnings = [line for line in err.splitlines() if "WARNING" in line]
    assert len(warnings) == 1 and "never-calibrated.npz" in warnings[0]
    assert "grips are not decoded" in warnings[0] and "calibrate-emg" in warnings[0]
    assert all(e.payload["kind"] != "grip" for e in Session(tmp_path / "s").events("decision"))


# ------------------------------------------------------------------ wall-clock jump
class Pace(RunObserver):
    """Lateness of every iteration and the loop_late alarm, as the loop reported them."""

    name = "pace"

    def __init__(self) -> None:
        self.late: list[tuple[float, float]] = []

    def on_iteration(self, run, info):
        self.late.append((info.data_s, info.late_s))

    def worst_after(self, data_s: float) -> float:
        """The latest an iteration started once ``data_s`` of data was in (past the start-up,
        whose first iterations compile the numba kernels)."""
        return max(late for t, late in self.late if t >= data_s)


def test_wall_clock_jump_forward_and_back_is_journalled_and_never_felt(tmp_path):
    """NTP steps the wall clock an hour forward, then two hours back, while the loop runs at
    4× real time: both steps journalled as ``clock_jump``, the loop keeps its pace, every
    sample is recorded."""
    step = {"s": 0.0}
    watch = ClockWatch(1.0, wall=lambda: time.time() + step["s"])

    class Ntp(RunObserver):
        name = "ntp"

        def on_iteration(self, run, info):
            step["s"] = 3600.0 if 8.0 <= info.data_s < 16.0 else (-3600.0 if info.data_s >= 16.0 else 0.0)

    pace, probe = Pace(), StatusAtStop()
    run = Run(parse_config(PACED), duration="24s", speed="4", session_dir=tmp_path / "s",
              actuation="dry", observers=[Ntp(), watch, pace, probe])
    summary = run.run()
    assert summary.stop_reason == "duration reached"
    s = Session(tmp_path / "s")
    jumps = [e.payload for e in s.events("clock_jump")]
    assert [round(j["jump_s"]) for j in jumps] == [3600, -7200], jumps
    tick = run.config.run.tick_s
    assert pace.worst_after(4.0) < max(1.0, 4 * tick)  # the steps at 8 and 16 s are not felt
    assert_readable(s, 24 * 250)
    assert summary.n_samples == 24 * 250


# ------------------------------------------------------------------ control-socket clients
def _rate(live, seconds: float) -> float:
    snaps = live.server.snapshots
    t0, n0 = time.monotonic(), snaps.iterations
    time.sleep(seconds)
    return (snaps.iterations - n0) / (time.monotonic() - t0)


#: Sends requests as fast as the socket takes them for up to 10 s, never reading a reply;
#: prints the bytes sent and 1 if the server hung up on it (its replies piled up to a limit).
FLOOD_CLIENT = """
import socket, sys, time
flood = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
flood.connect(sys.argv[1])
flood.setblocking(False)
request = b'{"op": "get", "key": "programme.rules.onset_rocking.trigger.min_probability"}\\n'
sent, dropped, t0 = 0, 0, time.monotonic()
while time.monotonic() - t0 < 10.0 and not dropped:
    try:
        sent += flood.send(request * 64)
    except BlockingIOError:
        time.sleep(0.001)
    except (BrokenPipeError, ConnectionResetError):
        dropped = 1
print(sent, dropped)
"""


def test_control_clients_that_flood_or_vanish_mid_request_never_slow_the_loop(tmp_path):
    speed, tick = 4.0, 0.25
    with live_loop(tmp_path, speed=str(speed)) as live:
        base = _rate(live, 1.0)
        abuse_from = live.run.clock.now()
        # the flooding client is another process, as a hostile one would be: a thread of this
        # test's own would compete with the loop for the interpreter lock, which no outside
        # client can
        flood = subprocess.Popen([sys.executable, "-c", FLOOD_CLIENT, str(live.socket)],
                                 stdout=subprocess.PIPE, text=True)
        flooded = _rate(live, 1.0)
        sent, dropped = map(int, flood.communicate(timeout=60)[0].split())
        for _ in range(20):  # clients that vanish in the middle of a request
            gone = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            gone.connect(str(live.socket))
            gone.sendall(b'{"op": "set", "key": "programme.ru')
            gone.close()
        crowd = [socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(3 * P.MAX_CLIENTS)]
        for c in crowd:  # more connections than the server takes
            c.connect(str(live.socket))
        during = _rate(live, 1.0)
        for c in crowd:
            c.close()
        # the server still serves a well-behaved client afterwards
        ok = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ok.connect(str(live.socket))
        ok.settimeout(5.0)
        ok.sendall(b'{"op": "hello", "id": 1}\n')
        assert b'"hello"' in ok.recv(65536)
        ok.close()
        after = _rate(live, 1.0)
    assert dropped and sent > P.MAX_PENDING_OUT // 8, sent
    expected = speed / tick
    for rate in (base, flooded, during, after):
        assert rate == pytest.approx(expected, rel=0.25), (base, flooded, during, after)
    late = [e.payload for e in Session(tmp_path / "session").events("alarm")
            if e.payload["code"] == "loop_late" and e.payload["t"] >= abuse_from]
    assert not late, late  # (the start-up, which compiles the kernels, may be late)


# ------------------------------------------------------------------ stages that fail or slow down
class FailingStage:
    """Raises on every chunk while its run's data time is in ``[start_s, stop_s)``, or
    sleeps ``delay_s`` of real time per chunk instead when ``delay_s`` is set."""

    name = "faulty"

    def __init__(self, start_s: float, stop_s: float, delay_s: float = 0.0) -> None:
        self.start_s, self.stop_s, self.delay_s = start_s, stop_s, delay_s
        self.calls = 0

    def update(self, chunk):
        if self.start_s <= chunk.first_sample / chunk.sfreq < self.stop_s:
            self.calls += 1
            if self.delay_s:
                time.sleep(self.delay_s)
            else:
                raise RuntimeError("model evaluation failed (injected)")
        return StageOutput(chunk, [])

    def reset(self):
        pass


class AddStage(RunObserver):
    """Puts ``stage`` at the end of the running chain once the run is open."""

    name = "add-stage"

    def __init__(self, stage) -> None:
        self.stage = stage
        self.onset: float | None = None

    def on_opened(self, run):
        run.controller.pipeline.stages.append(self.stage)

    def on_iteration(self, run, info):
        if self.onset is None and info.data_s >= self.stage.start_s:
            self.onset = info.now


def test_a_stage_that_raises_on_every_chunk_then_recovers(tmp_path):
    stage = FailingStage(60.0, 90.0)
    add, probe = AddStage(stage), StatusAtStop()
    run = Run(parse_config(LIGHT), duration="3m", session_dir=tmp_path / "s", observers=[add, probe])
    summary = run.run()
    assert summary.stop_reason == "duration reached" and stage.calls > 20
    s = Session(tmp_path / "s")
    faults = [e.payload for e in s.events("fault") if e.payload["where"] == "pipeline"]
    assert len(faults) == stage.calls and "injected" in faults[0]["error"]
    safe = [e.payload for e in s.events("safe_state") if e.payload["reason"] == "stage chain failed"]
    assert {p["target"] for p in safe} == TARGETS  # once per actuator, not per chunk
    assert max(p["t"] for p in safe) - add.onset <= 1.0
    assert_alarm_raised_and_cleared(s, "signal_stale", after=add.onset)
    assert_recovered(probe.status)
    assert_readable(s, 180 * 250)


def test_a_stage_that_becomes_slow_keeps_the_pace_and_says_so(tmp_path):
    """At real time a stage takes 0.6 s per chunk for 4 s of data: ``loop_late`` is raised
    and journalled, the loop reads the larger chunks that piled up (no sample lost), and
    the alarm clears once the stage is fast again."""
    stage = FailingStage(3.0, 7.0, delay_s=0.6)
    add, pace, probe = AddStage(stage), Pace(), StatusAtStop()
    run = Run(parse_config(PACED), duration="16s", speed="1", session_dir=tmp_path / "s",
              actuation="dry", observers=[add, pace, probe])
    summary = run.run()
    assert summary.stop_reason == "duration reached"
    s = Session(tmp_path / "s")
    late = [e.payload for e in s.events("alarm") if e.payload["code"] == "loop_late"]
    assert late and late[0]["state"] == "active" and "behind its" in late[0]["message"]
    assert late[-1]["state"] == "cleared"
    assert pace.late[-1][1] <= run.config.run.tick_s  # on time again at the end
    assert_recovered(probe.status)
    assert_readable(s, 16 * 250)
    _, idx, _ = s.read()
    np.testing.assert_array_equal(idx, np.arange(16 * 250))
