"""A session continued after a crash: a new segment, the gap journalled, indices carry on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from firmware_host.chunk import Chunk
from firmware_host.clock import FakeClock
from firmware_host.session import Session, SessionError, SessionRecorder, resume_session
from firmware_host.session.recorder import SAMPLES

NAMES = ("a", "b")
TYPES = ("eeg", "emg")


def _chunk(first: int, n: int) -> Chunk:
    idx = np.arange(first, first + n)
    return Chunk(np.vstack([idx * 0.25, -idx * 0.5]), first, 100.0, NAMES, TYPES, idx / 100.0)


def _start(rec: SessionRecorder) -> None:
    rec.start(sfreq=100.0, channel_names=NAMES, channel_types=TYPES, config={})


def test_resume_after_a_torn_tail_continues_the_session(tmp_path):
    path = tmp_path / "s"
    rec = SessionRecorder(path, FakeClock(), fsync=False)
    _start(rec)
    for k in range(4):
        rec.write_chunk(_chunk(k * 50, 50))
    rec.flush()  # the process dies here: no close(), and the last write was torn
    os.close(rec._fd)
    with open(path / SAMPLES, "r+b") as fh:
        fh.truncate(fh.seek(0, 2) - 7)
    first = Session(path)
    assert first.n_samples == 150 and first.summary()["closed"] is False

    clock = FakeClock()
    rec2 = resume_session(path, clock, gap_s=3.0, fsync=False)
    _start(rec2)
    for k in range(3):  # the new run's source starts at sample 0 again
        rec2.write_chunk(_chunk(k * 50, 50))
    rec2.emit("decision", {"kind": "stage", "sample": 99, "label": "N2"}, 99)
    rec2.close()

    s = Session(path)
    assert [(g.start, g.stop, g.cause) for g in s.gaps()] == [(150, 450, "restart")]
    assert [(g.segment, g.first_sample, g.end_sample) for g in s.segments()] == [
        (0, 0, 150), (1, 450, 600)]
    data, idx, _ = s.read()
    np.testing.assert_array_equal(idx, np.r_[0:150, 450:600])
    np.testing.assert_array_equal(data[0], np.r_[np.arange(150) * 0.25, np.arange(150) * 0.25])
    seg = s.events("segment")[0]
    assert seg.sample == 450 and seg.payload["previous_end_sample"] == 150
    assert s.events("gap")[0].payload == {"missing": 300, "detected_by": "recorder", "cause": "restart"}
    decision = s.events("decision")[0]
    assert decision.sample == 549 and decision.payload["sample"] == 549
    summary = s.summary()
    assert summary["closed"] is True and summary["complete"] is False  # 3 s were lost
    assert summary["damage"][0]["cause"] == "torn"
    assert [x["segment"] for x in s.meta["segments"]] == [0, 1]


def test_resume_refuses_another_layout_and_format_1(tmp_path):
    path = tmp_path / "s"
    rec = SessionRecorder(path, FakeClock(), fsync=False)
    _start(rec)
    rec.write_chunk(_chunk(0, 50))
    rec.close()
    rec2 = resume_session(path, FakeClock(), gap_s=0.0, fsync=False)
    with pytest.raises(ValueError, match="cannot continue"):
        rec2.start(sfreq=250.0, channel_names=NAMES, channel_types=TYPES, config={})
    rec2.close()
    old = tmp_path / "v1"
    old.mkdir()
    (old / "meta.json").write_text('{"format": "somnoloop-session/1", "sfreq": 1, '
                                   '"channel_names": [], "channel_types": []}')
    with pytest.raises(SessionError, match="format-1"):
        resume_session(old, FakeClock())


WRITER = textwrap.dedent("""
    import sys, time
    import numpy as np
    from firmware_host.chunk import Chunk
    from firmware_host.clock import FakeClock
    from firmware_host.session import SessionRecorder
    rec = SessionRecorder(sys.argv[1], FakeClock(), fsync=True, flush_interval_s=0.05)
    rec.start(sfreq=100.0, channel_names=("a", "b"), channel_types=("eeg", "emg"), config={})
    k = 0
    while True:
        idx = np.arange(k, k + 10)
        rec.write_chunk(Chunk(np.vstack([idx * 0.25, -idx * 0.5]), k, 100.0, ("a", "b"),
                              ("eeg", "emg"), idx / 100.0))
        k += 10
        if k == 500:
            print("ready", flush=True)
        time.sleep(0.001)
""")


def test_sigkill_then_resume_reads_everything_back(tmp_path):
    """A real writer process killed with SIGKILL, then the session continued and read back."""
    path = tmp_path / "s"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, env=env)
    try:
        assert proc.stdout.readline().strip() == b"ready"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    before = Session(path)
    end = before.end_sample
    assert end >= 400 and before.gaps() == []
    rec = resume_session(path, FakeClock(), gap_s=1.0, fsync=False)
    _start(rec)
    rec.write_chunk(_chunk(0, 200))
    rec.close()
    s = Session(path)
    data, idx, _ = s.read()
    np.testing.assert_array_equal(idx, np.r_[0:end, end + 100:end + 300])
    np.testing.assert_array_equal(data[1], np.r_[-np.arange(end) * 0.5, -np.arange(200) * 0.5])
    assert [g.cause for g in s.gaps()] == ["restart"]
    assert len(s.segments()) == 2
