"""Nights: roll-over, restarts within a night, lights-off — three simulated days on a fake clock."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from firmware_host.clock import FakeClock
from firmware_host.service.inventory import SessionInfo
from firmware_host.service.nights import (
    NightPolicy,
    night_of,
    on_lights_off,
    on_start,
    on_tick,
    parse_rollover,
)

CET = dt.timezone(dt.timedelta(hours=1), "CET")
POLICY = NightPolicy(rollover=dt.time(12, 0), tz=CET)


def unix(text: str, tz: dt.tzinfo = CET) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=tz).timestamp()


def session(name: str, start: str, **kw) -> SessionInfo:
    return SessionInfo(name=name, started_unix=unix(start), **kw)


@pytest.mark.parametrize(("local", "night"), [
    ("2026-11-30 11:59:59", "2026-11-29"),
    ("2026-11-30 12:00:00", "2026-11-30"),
    ("2026-11-30 23:30:00", "2026-11-30"),
    ("2026-12-01 03:00:00", "2026-11-30"),
    ("2027-01-01 00:30:00", "2026-12-31"),  # across a year end
])
def test_night_of(local, night) -> None:
    assert night_of(unix(local), POLICY) == night


def test_night_of_follows_local_time_across_dst() -> None:
    zoneinfo = pytest.importorskip("zoneinfo")
    try:
        berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    except zoneinfo.ZoneInfoNotFoundError:
        pytest.skip("no time-zone database (Debian package 'tzdata')")
    policy = NightPolicy(tz=berlin)
    # 2026-10-25: clocks go back at 03:00 CEST; the roll-over stays at 12:00 local.
    assert night_of(unix("2026-10-25 11:59:00", berlin), policy) == "2026-10-24"
    assert night_of(unix("2026-10-25 12:00:00", berlin), policy) == "2026-10-25"


def test_parse_rollover() -> None:
    assert parse_rollover("07:30") == dt.time(7, 30)
    for bad in ("7h", "25:00", "12:60", ""):
        with pytest.raises(ValueError, match="allowed: 'HH:MM'"):
            parse_rollover(bad)


def test_bad_trigger_is_named() -> None:
    with pytest.raises(ValueError, match=r"allowed: \['rollover', 'lights_off'\]"):
        NightPolicy(new_night_on="button")


def test_start_without_sessions_is_a_new_night() -> None:
    d = on_start(unix("2026-11-30 22:00"), [], POLICY)
    assert (d.action, d.night, d.session, d.trigger) == ("new", "2026-11-30", None, "first_start")


def test_restart_in_the_same_night_continues_crashed_or_clean() -> None:
    s = session("a", "2026-11-30 12:00", complete=False)
    d = on_start(unix("2026-12-01 04:00"), [s], POLICY)
    assert (d.action, d.session) == ("continue", "a") and "interrupted" in d.reason
    d = on_start(unix("2026-12-01 04:00"), [replace(s, complete=True)], POLICY)
    assert (d.action, d.session) == ("continue", "a") and "ended cleanly" in d.reason


def test_restart_after_the_rollover_is_a_new_night() -> None:
    s = session("a", "2026-11-30 12:00", complete=False)
    d = on_start(unix("2026-12-01 12:30"), [s], POLICY)
    assert (d.action, d.night) == ("new", "2026-12-01")


def test_clock_behind_the_newest_session_continues_it() -> None:
    """Boot before NTP: the saved time is hours old; no night is invented in the past."""
    s = session("a", "2026-11-30 22:00", complete=False, night="2026-11-30")
    d = on_start(unix("2026-11-29 18:00"), [s], POLICY)
    assert (d.action, d.session) == ("continue", "a") and "not yet synchronised" in d.reason


def test_stored_night_wins_over_the_start_time() -> None:
    s = session("a", "2026-11-30 11:58", night="2026-11-30")  # opened at the roll-over, 2 min early
    assert on_tick(unix("2026-11-30 13:00"), s, POLICY).action == "continue"


class Daemon:
    """What the service does with the decisions: the sessions root as a list, segments counted."""

    def __init__(self, policy: NightPolicy) -> None:
        self.policy = policy
        self.sessions: list[SessionInfo] = []
        self.segments: dict[str, int] = {}
        self.current: SessionInfo | None = None

    def apply(self, d, now: float) -> None:
        if d.action == "continue":
            if self.current is None or self.current.name != d.session:
                self.current = next(s for s in self.sessions if s.name == d.session)
                self.segments[d.session] += 1
            return
        if self.current is not None:
            self.close(complete=True)
        name = f"{d.night}-{d.trigger}"
        self.current = SessionInfo(name, now, complete=False, night=d.night, trigger=d.trigger)
        self.sessions.append(self.current)
        self.segments[name] = 1

    def close(self, complete: bool) -> None:
        assert self.current is not None
        closed = replace(self.current, complete=complete)
        self.sessions = [closed if s.name == closed.name else s for s in self.sessions]
        self.current = None


def simulate(policy: NightPolicy, outages: list[tuple[str, str]], lights_off: list[str]) -> Daemon:
    """Three days in 5-minute ticks of a fake clock, with process outages and lights-off presses."""
    origin = unix("2026-11-29 09:00")
    clock = FakeClock()
    daemon = Daemon(policy)
    down = [(unix(a), unix(b)) for a, b in outages]
    presses = sorted(unix(t) for t in lights_off)
    running = False
    while clock.now() <= 3 * 86400:
        now = origin + clock.now()
        is_down = any(a <= now < b for a, b in down)
        if is_down and running:  # crash or power cut: the session is left incomplete
            daemon.close(complete=False)
            running = False
        elif not is_down and not running:
            daemon.apply(on_start(now, daemon.sessions, policy), now)
            running = True
        elif running:
            daemon.apply(on_tick(now, daemon.current, policy), now)
            while presses and presses[0] <= now:
                presses.pop(0)
                daemon.apply(on_lights_off(now, daemon.current, policy), now)
        clock.advance(300)
    return daemon


def test_three_days_with_a_crash_and_a_power_cut() -> None:
    daemon = simulate(POLICY, outages=[("2026-11-30 02:00", "2026-11-30 02:05"),   # crash
                                       ("2026-12-01 03:00", "2026-12-01 11:30")],  # power cut
                      lights_off=["2026-11-29 22:30"])
    names = [s.name for s in daemon.sessions]
    assert names == ["2026-11-28-first_start", "2026-11-29-rollover", "2026-11-30-rollover",
                     "2026-12-01-rollover"]
    # One session per night; each restart inside a night became a new segment.
    assert daemon.segments == {"2026-11-28-first_start": 1, "2026-11-29-rollover": 2,
                               "2026-11-30-rollover": 2, "2026-12-01-rollover": 1}
    assert all(s.complete for s in daemon.sessions[:-1])


def test_power_cut_across_the_rollover_starts_the_next_night() -> None:
    daemon = simulate(POLICY, outages=[("2026-11-30 10:00", "2026-11-30 13:00")], lights_off=[])
    assert [s.name for s in daemon.sessions] == [
        "2026-11-28-first_start", "2026-11-29-rollover", "2026-11-30-first_start",
        "2026-12-01-rollover"]
    assert not daemon.sessions[1].complete  # the night's session was cut, never resumed


def test_three_days_with_lights_off_nights() -> None:
    policy = replace(POLICY, new_night_on="lights_off")
    daemon = simulate(policy, outages=[("2026-11-30 02:00", "2026-11-30 02:05")],
                      lights_off=["2026-11-29 22:30", "2026-11-29 23:10",  # a second press
                                  "2026-11-30 23:00", "2026-12-01 22:00"])
    assert [s.name for s in daemon.sessions] == [
        "2026-11-28-first_start",
        "2026-11-29-rollover", "2026-11-29-lights_off",
        "2026-11-30-rollover", "2026-11-30-lights_off",
        "2026-12-01-rollover", "2026-12-01-lights_off"]
    # The crash at 02:00 resumed the sleep session, not the afternoon's.
    assert daemon.segments["2026-11-29-lights_off"] == 2
    assert daemon.segments["2026-11-29-rollover"] == 1


def test_lights_off_is_only_noted_in_rollover_mode() -> None:
    s = session("a", "2026-11-30 12:00", night="2026-11-30")
    d = on_lights_off(unix("2026-11-30 22:30"), s, POLICY)
    assert (d.action, d.session) == ("continue", "a") and "roll over at 12:00" in d.reason
