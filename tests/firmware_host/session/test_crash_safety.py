"""A real ``somnoloop run`` killed with SIGKILL loses at most 1 s of samples."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from firmware_host.session import Session

RUN = [sys.executable, "-m", "firmware_host", "run", "--quiet", "--speed", "1",
       "--duration", "10m"]


def _recorded(path: Path) -> tuple[int, float] | None:
    try:
        s = Session(path)
        return s.n_samples, s.sfreq
    except Exception:  # noqa: BLE001 - not started yet
        return None


def _wait_until_live(path: Path, proc: subprocess.Popen, timeout: float = 240.0) -> dict:
    """Wait until the run has caught up with real time (startup, JIT compilation…)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"run exited early: {proc.stderr.read().decode()}")
        got = _recorded(path)
        if got is not None:
            meta = json.loads((path / "meta.json").read_text())
            n, sfreq = got
            behind = time.time() - meta["clock_origin_unix"] - n / sfreq
            if n / sfreq > 3.0 and behind < 0.5:
                return meta
        time.sleep(0.2)
    raise AssertionError("the run never caught up with real time")


@pytest.mark.slow
@pytest.mark.parametrize("extra_wait", [0.0, 0.37])
def test_sigkill_loses_at_most_one_second(tmp_path, extra_wait):
    session = tmp_path / "night"
    proc = subprocess.Popen([*RUN, "--session-dir", str(session)], stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, cwd=tmp_path)
    try:
        meta = _wait_until_live(session, proc)
        time.sleep(1.0 + extra_wait)  # kill at an arbitrary phase of the loop
        os.kill(proc.pid, signal.SIGKILL)
        killed_at = time.time()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    s = Session(session)
    acquired_s = killed_at - meta["clock_origin_unix"]
    lost_s = acquired_s - s.n_samples / s.sfreq
    assert lost_s <= 1.0, f"lost {lost_s:.3f} s of samples"
    summary = s.summary()
    assert summary["complete"] is False  # no stop event: it really was killed
    assert summary["n_gaps"] == 0
    data, idx, _ = s.read()
    assert data.shape[1] == s.n_samples and idx[0] == 0
    assert summary["events"]["start"] == 1 and summary["events"]["config"] >= 1
