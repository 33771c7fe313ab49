"""Retention under a byte budget, the sessions inventory, and the disk-room alarm."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from firmware_host.chunk import Chunk
from firmware_host.clock import FakeClock
from firmware_host.runtime.hooks import Hooks, IterationInfo
from firmware_host.service.diskroom import DiskWatch, Usage, check_disk
from firmware_host.service.inventory import EXPORT_MARKER, REPORT_DIR, SessionInfo, scan_sessions
from firmware_host.service.nights import NightPolicy, night_of, on_tick
from firmware_host.service.retention import apply_retention, plan_retention
from firmware_host.session import Session, SessionRecorder
from tests.firmware_host.service.doubles import FakeRun, record

CET = dt.timezone(dt.timedelta(hours=1), "CET")
GB = 10**9


def test_plan_deletes_oldest_reported_until_under_budget() -> None:
    s = [SessionInfo(f"n{i}", 1000.0 * i, size_bytes=GB, reported=i != 1) for i in range(5)]
    plan = plan_retention(s, budget_bytes=3 * GB, protected={"n4"})
    assert [x.name for x in plan.remove] == ["n0", "n2"]  # n1 not reported yet: kept
    assert plan.after_bytes == 3 * GB and not plan.over_budget


def test_plan_never_touches_the_protected_night_even_over_budget() -> None:
    s = [SessionInfo("old", 1.0, size_bytes=GB), SessionInfo("now", 2.0, size_bytes=5 * GB, reported=True)]
    plan = plan_retention(s, budget_bytes=GB, protected={"now"})
    assert plan.remove == () and plan.over_budget


def test_plan_refuses_a_negative_budget() -> None:
    with pytest.raises(ValueError, match="budget must be >= 0"):
        plan_retention([], -1)


def test_three_days_of_nights_stay_under_budget() -> None:
    """Each night ~2.5 GB; reports arrive the morning after; a 6 GB budget on a fake clock."""
    policy = NightPolicy(tz=CET)
    clock = FakeClock()
    origin = dt.datetime(2026, 11, 29, 12, 0, tzinfo=CET).timestamp()
    sessions = [SessionInfo("2026-11-29", origin, complete=False, night="2026-11-29")]
    journal: list[dict] = []
    while clock.now() < 3 * 86400:
        clock.advance(600)
        now = origin + clock.now()
        current = sessions[-1]
        sessions[-1] = replace(current, size_bytes=current.size_bytes + 2.5 * GB / 144)  # 10-min share
        if on_tick(now, current, policy).action == "new":
            # the night that ended is closed and, in the morning, reported
            sessions[-1] = replace(sessions[-1], complete=True, reported=True)
            sessions.append(SessionInfo(night_of(now, policy), now, complete=False,
                                        night=night_of(now, policy)))
            plan = plan_retention(sessions, 6 * GB, protected={sessions[-1].name})
            journal += [{"session": x.name} for x in plan.remove]
            sessions = [x for x in sessions if x not in plan.remove]
            assert not plan.over_budget
    assert [x["session"] for x in journal] == ["2026-11-29"]  # deleted when the third night began
    assert [x.name for x in sessions] == ["2026-11-30", "2026-12-01", "2026-12-02"]


def test_inventory_reads_sessions_left_by_clean_and_killed_runs(tmp_path) -> None:
    record(tmp_path, "clean", 5.0)
    record(tmp_path, "killed", 5.0, close=False, night="2026-12-01")
    (tmp_path / "not-a-session").mkdir()
    (tmp_path / ".deleting-old").mkdir()
    infos = {s.name: s for s in scan_sessions(tmp_path)}
    assert set(infos) == {"clean", "killed"}
    assert infos["clean"].complete and not infos["killed"].complete
    assert infos["killed"].night == "2026-12-01" and infos["killed"].trigger == "rollover"
    assert infos["clean"].size_bytes > 500 * 2 * 4  # samples as float32 plus journal and meta
    assert not infos["clean"].reported
    (tmp_path / "clean" / REPORT_DIR).mkdir()
    (tmp_path / "killed" / EXPORT_MARKER).write_text("edf+ 2026-12-02")
    assert all(s.reported for s in scan_sessions(tmp_path))
    assert scan_sessions(tmp_path / "missing") == []


def test_apply_retention_deletes_and_journals(tmp_path) -> None:
    for name in ("a", "b", "c"):
        record(tmp_path, name, 20.0)
        (tmp_path / name / REPORT_DIR).mkdir()
    infos = scan_sessions(tmp_path)
    a, b, c = infos  # sizes differ by a few bytes of journal
    plan = plan_retention(infos, budget_bytes=b.size_bytes + c.size_bytes, protected={"c"})
    removed = apply_retention(tmp_path, plan)
    assert [r["session"] for r in removed] == ["a"]
    assert removed[0]["bytes"] == a.size_bytes and "budget" in removed[0]["reason"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "c"]
    assert Session(tmp_path / "b").summary()["n_samples"] == 2000  # the others untouched


def test_interrupted_deletion_leaves_no_half_session(tmp_path) -> None:
    record(tmp_path, "a", 5.0)
    (tmp_path / "a" / EXPORT_MARKER).touch()
    plan = plan_retention(scan_sessions(tmp_path), budget_bytes=0)

    def crash(path: Path) -> None:
        raise OSError("power cut")

    with pytest.raises(OSError):
        apply_retention(tmp_path, plan, delete_tree=crash)
    assert scan_sessions(tmp_path) == []  # renamed out of sight before deleting


def fake_usage(free: int, total: int = 32 * GB):
    return lambda _path: Usage(total, total - free, free)


@pytest.mark.parametrize(("free", "level", "alarm"), [
    (10 * GB, "ok", None),
    (800 * 10**6, "low", ("disk_low", "medium")),
    (100 * 10**6, "critical", ("disk_full", "high")),
])
def test_check_disk_levels(tmp_path, free, level, alarm) -> None:
    room = check_disk(tmp_path, low_free_bytes=GB, critical_free_bytes=200 * 10**6, usage=fake_usage(free))
    assert room.level == level and room.alarm == alarm
    assert room.drop_debug_streams == (level != "ok")


def test_check_disk_on_the_real_file_system(tmp_path) -> None:
    assert check_disk(tmp_path, low_free_bytes=0, critical_free_bytes=0).level == "ok"
    assert check_disk(tmp_path, low_free_bytes=2**62, critical_free_bytes=0).level == "low"
    with pytest.raises(ValueError, match="critical_free_bytes"):
        check_disk(tmp_path, low_free_bytes=1, critical_free_bytes=2)


def test_nearly_full_disk_raises_the_alarm_and_keeps_recording(tmp_path) -> None:
    """The watch runs next to a real recorder: alarms journalled, samples all there."""
    clock = FakeClock()
    run = FakeRun(tmp_path, clock)
    rec = SessionRecorder(tmp_path / "night", clock, fsync=False)
    rec.start(sfreq=100.0, channel_names=("a",), channel_types=("eeg",), config={})
    run.recorder = rec
    free = [10 * GB]
    tick = [0.0]
    watch = DiskWatch(tmp_path, low_free_bytes=GB, critical_free_bytes=100 * 10**6, interval_s=30.0,
                      usage=lambda _p: Usage(32 * GB, 32 * GB - free[0], free[0]),
                      monotonic=lambda: tick[0])
    hooks = Hooks([watch])
    hooks.call("on_opened", run)
    for i in range(600):  # 10 minutes of 1-s iterations; the disk fills, then space is freed
        clock.advance(1.0)
        tick[0] += 1.0
        free[0] = {100: 500 * 10**6, 200: 50 * 10**6, 400: 5 * GB}.get(i, free[0])
        rec.write_chunk(Chunk(np.full((1, 100), float(i)), 100 * i, 100.0, ("a",), ("eeg",),
                              np.arange(100 * i, 100 * i + 100) / 100.0))
        hooks.call("on_iteration", run, IterationInfo(clock.now(), i + 1.0, 100, 0.0, True))
    rec.close()
    assert run.faults == []
    alarms = [(e.payload["code"], e.payload["state"]) for e in Session(tmp_path / "night").events("alarm")]
    assert alarms == [("disk_low", "active"), ("disk_low", "cleared"), ("disk_full", "active"),
                      ("disk_full", "cleared")]
    assert Session(tmp_path / "night").summary()["n_samples"] == 60000
