"""The night roll-over and retention as run observers, on a fake wall clock and real sessions."""

from __future__ import annotations

import datetime as dt

from firmware_host.config import parse_config
from firmware_host.runtime.hooks import Hooks, IterationInfo
from firmware_host.runtime.run import Run
from firmware_host.service.inventory import REPORT_DIR, scan_sessions
from firmware_host.service.nights import NightPolicy
from firmware_host.service.nightwatch import ROLLOVER_PREFIX, NightWatch, RetentionKeeper
from tests.firmware_host.service.doubles import FakeRun, record

CET = dt.timezone(dt.timedelta(hours=1), "CET")
POLICY = NightPolicy(tz=CET)


def unix(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=CET).timestamp()


class Wall:
    """A fake wall clock and monotonic clock advancing together."""

    def __init__(self, start: str) -> None:
        self.t = unix(start)
        self.mono = 0.0

    def advance(self, seconds: float) -> None:
        self.t += seconds
        self.mono += seconds


def iterate(hooks: Hooks, run: FakeRun, wall: Wall, minutes: int) -> None:
    for _ in range(minutes * 6):
        wall.advance(10.0)
        hooks.call("on_iteration", run, IterationInfo(wall.mono, wall.mono, 250, 0.0, True))


def test_the_run_stops_at_the_rollover_and_only_then(tmp_path) -> None:
    record(tmp_path, "night", 1.0, close=False, night="2026-11-29")
    run = FakeRun(tmp_path / "night")
    wall = Wall("2026-11-30 11:00")
    watch = NightWatch(POLICY, check_s=30.0, wall=lambda: wall.t, monotonic=lambda: wall.mono)
    hooks = Hooks([watch])
    hooks.call("on_opened", run)
    iterate(hooks, run, wall, 59)
    assert run.stop_reasons == []
    iterate(hooks, run, wall, 90)  # through 12:00 and on
    assert len(run.stop_reasons) == 1
    assert run.stop_reasons[0].startswith(ROLLOVER_PREFIX) and "night 2026-11-29 ended" in run.stop_reasons[0]
    assert watch.ended is not None and watch.ended.night == "2026-11-30"
    assert run.faults == []


def test_lights_off_opens_the_sleep_session_once(tmp_path) -> None:
    record(tmp_path, "afternoon", 1.0, close=False, night="2026-11-30")
    run = FakeRun(tmp_path / "afternoon")
    wall = Wall("2026-11-30 22:30")
    policy = NightPolicy(tz=CET, new_night_on="lights_off")
    watch = NightWatch(policy, wall=lambda: wall.t, monotonic=lambda: wall.mono)
    watch.on_opened(run)
    decision = watch.lights_off(run)
    assert decision is not None and (decision.action, decision.trigger) == ("new", "lights_off")
    assert run.stop_reasons == [ROLLOVER_PREFIX + "lights-off: night 2026-11-30 begins"]
    assert run.recorder.of_kind("marker")[0]["what"] == "lights_off"
    assert watch.lights_off(run) is None  # the run is already ending


def test_lights_off_in_rollover_mode_is_only_journalled(tmp_path) -> None:
    record(tmp_path, "night", 1.0, close=False, night="2026-11-30")
    run = FakeRun(tmp_path / "night")
    watch = NightWatch(POLICY, wall=lambda: unix("2026-11-30 22:30"))
    watch.on_opened(run)
    assert watch.lights_off(run).action == "continue"
    assert run.stop_reasons == [] and run.recorder.of_kind("marker")[0]["decision"] == "continue"


def test_retention_on_open_spares_tonight_and_journals(tmp_path) -> None:
    for name, night in (("a", "2026-11-27"), ("b", "2026-11-28"), ("c", "2026-11-30"), ("d", "2026-11-30")):
        record(tmp_path, name, 20.0, night=night)
        (tmp_path / name / REPORT_DIR).mkdir()  # every one already reported
    budget = sum(s.size_bytes for s in scan_sessions(tmp_path) if s.name in ("c", "d"))
    run = FakeRun(tmp_path / "d")  # tonight's second session (a restart after the roll-over)
    keeper = RetentionKeeper(tmp_path, budget, POLICY)
    Hooks([keeper]).call("on_opened", run)
    journal = run.recorder.of_kind("retention")
    assert [p.get("session") for p in journal] == ["a", "b"]
    assert sorted(s.name for s in scan_sessions(tmp_path)) == ["c", "d"]  # c is tonight too


def test_retention_over_budget_is_said_and_nothing_of_tonight_goes(tmp_path) -> None:
    record(tmp_path, "old", 20.0, night="2026-11-27")  # not reported: may not go
    record(tmp_path, "now", 20.0, night="2026-11-30")
    run = FakeRun(tmp_path / "now")
    RetentionKeeper(tmp_path, 1, POLICY).on_opened(run)
    assert [p["action"] for p in run.recorder.of_kind("retention")] == ["over_budget"]
    assert len(scan_sessions(tmp_path)) == 2


def test_retention_without_budget_keeps_everything(tmp_path) -> None:
    record(tmp_path, "old", 1.0)
    (tmp_path / "old" / REPORT_DIR).mkdir()
    run = FakeRun(tmp_path / "old")
    RetentionKeeper(tmp_path, 0, POLICY).on_opened(run)
    assert run.recorder.of_kind("retention") == [] and len(scan_sessions(tmp_path)) == 1


def test_a_real_run_ends_its_night_at_the_rollover(tmp_path) -> None:
    """The lead's Run on the synthetic night at max speed, its wall clock 2 min before the
    next 12:00 (CET) after the real now: the session's ``meta.json`` stamps its real creation
    time, which must fall in the night that ends."""
    cfg = parse_config({"recorder": {"root": str(tmp_path)}})
    holder: dict[str, Run] = {}
    now = dt.datetime.now(CET)
    rollover = now.replace(hour=12, minute=0, second=0, microsecond=0)
    if rollover <= now:
        rollover += dt.timedelta(days=1)
    start = rollover.timestamp() - 120.0
    ended_night = (rollover - dt.timedelta(days=1)).date().isoformat()
    new_night = rollover.date().isoformat()

    def wall() -> float:  # the wall clock follows the run's (simulated) clock
        run = holder["run"]
        return start + (run.clock.now() if run.clock is not None else 0.0)

    watch = NightWatch(POLICY, check_s=0.0, wall=wall)
    run = Run(cfg, duration="10m", speed="max", session_dir=tmp_path / "night", actuation="dry",
              observers=[watch])
    holder["run"] = run
    run.open()
    summary = run.run()
    assert summary.stop_reason == ROLLOVER_PREFIX + f"roll-over at 12:00: night {ended_night} ended"
    assert 120.0 <= summary.data_s <= 121.0
    assert watch.ended is not None and watch.ended.night == new_night
