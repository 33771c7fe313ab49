"""Wall-clock jumps journalled against the monotonic clock (NTP sync at boot, no RTC)."""

from __future__ import annotations

import time

import pytest

from firmware_host.clock import FakeClock
from firmware_host.runtime.hooks import IterationInfo
from firmware_host.service.clockwatch import ClockWatch, corrected_wall, jump
from firmware_host.session import Session, SessionRecorder
from tests.firmware_host.service.doubles import FakeRun


class Clocks:
    """A monotonic clock and a wall clock that can be stepped or slewed."""

    def __init__(self, wall0: float) -> None:
        self.mono = 100.0
        self.offset = wall0 - self.mono

    def wall(self) -> float:
        return self.mono + self.offset

    def monotonic(self) -> float:
        return self.mono


def iterate(watch: ClockWatch, run: FakeRun, clocks: Clocks, seconds: float, step: float = 0.25,
            slew_ppm: float = 0.0) -> None:
    for _ in range(round(seconds / step)):
        clocks.mono += step
        clocks.offset += step * slew_ppm * 1e-6
        watch.on_iteration(run, IterationInfo(clocks.mono, clocks.mono, 25, 0.0, True))


def test_jump_threshold() -> None:
    assert jump(10.0, 10.5, 1.0) is None
    assert jump(10.0, 12.0, 1.0) == 2.0
    assert jump(10.0, 7.0, 1.0) == -3.0


def test_boot_time_ntp_step_is_journalled_once() -> None:
    saved = 1_764_000_000.0  # the time fake-hwclock saved at the last shutdown
    clocks = Clocks(saved)
    run = FakeRun()
    watch = ClockWatch(1.0, wall=clocks.wall, monotonic=clocks.monotonic)
    watch.on_opened(run)
    iterate(watch, run, clocks, 60.0)
    clocks.offset += 9 * 3600.0  # NTP syncs: the wall clock jumps 9 h forward
    iterate(watch, run, clocks, 3600.0, slew_ppm=500.0)  # then slews at NTP's maximum rate
    events = run.recorder.of_kind("clock_jump")
    assert len(events) == 1
    ev = events[0]
    assert ev["jump_s"] == pytest.approx(9 * 3600.0)
    assert ev["new_offset_s"] - ev["old_offset_s"] == pytest.approx(9 * 3600.0)
    assert ev["wall_after"] - ev["wall_before"] == pytest.approx(9 * 3600.0)
    # The session start re-dated with the corrected offset (for the night roll-over).
    assert watch.wall_at(100.0) == pytest.approx(saved + 9 * 3600.0, abs=2.0)


def test_backward_step_is_journalled_too() -> None:
    clocks = Clocks(1_764_000_000.0)
    run = FakeRun()
    watch = ClockWatch(1.0, wall=clocks.wall, monotonic=clocks.monotonic)
    watch.on_opened(run)
    iterate(watch, run, clocks, 10.0)
    clocks.offset -= 30.0
    iterate(watch, run, clocks, 10.0)
    assert [round(e["jump_s"]) for e in run.recorder.of_kind("clock_jump")] == [-30]


def test_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError, match="threshold_s must be > 0"):
        ClockWatch(0.0)


def test_report_times_are_re_dated_after_a_journalled_jump(tmp_path) -> None:
    """A real journal: rows before the NTP step get the step added, rows after stay."""
    clock = FakeClock()
    rec = SessionRecorder(tmp_path / "s", clock, fsync=False)
    rec.start(sfreq=100.0, channel_names=("a",), channel_types=("eeg",), config={})
    run = FakeRun(tmp_path / "s", clock)
    run.recorder = rec
    clocks = Clocks(time.time())
    watch = ClockWatch(1.0, wall=clocks.wall, monotonic=clocks.monotonic)
    watch.on_opened(run)
    for i in range(20):
        clock.advance(1.0)
        if i == 10:
            clocks.offset += 3600.0  # NTP: the true time is an hour later than the Pi thought
        rec.emit("marker", {"i": i})
        iterate(watch, run, clocks, 1.0, step=1.0)
    rec.close()
    rows = Session(tmp_path / "s").events()
    jumps = [(e.t, e.payload["jump_s"]) for e in rows if e.kind == "clock_jump"]
    assert len(jumps) == 1 and jumps[0][1] == pytest.approx(3600.0)
    markers = [e for e in rows if e.kind == "marker"]
    fixed = [corrected_wall(e.wall, e.t, jumps) for e in markers]
    assert all(f - e.wall == pytest.approx(3600.0 if e.t < jumps[0][0] else 0.0)
               for f, e in zip(fixed, markers, strict=True))
