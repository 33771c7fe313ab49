"""The service parts built from a config: observers, the start-up night decision, retention."""

from __future__ import annotations

import datetime as dt

from firmware_host.config import parse_config
from firmware_host.service.clockwatch import ClockWatch
from firmware_host.service.diskroom import DiskWatch
from firmware_host.service.nightwatch import NightWatch, RetentionKeeper
from firmware_host.service.notify import SystemdNotifier
from firmware_host.service.wiring import night_policy, service_observers, session_at_start
from tests.firmware_host.service.doubles import record


def test_observers_from_config() -> None:
    cfg = parse_config({"service": {"status_interval_s": 2.0, "clock_jump_s": 0.5, "disk_low_mb": 800.0,
                                    "disk_critical_mb": 100.0, "disk_check_s": 10.0}})
    notifier, clock, disk, nights, retention = service_observers(cfg, nights=True)
    assert isinstance(notifier, SystemdNotifier) and notifier.status_interval_s == 2.0
    assert isinstance(clock, ClockWatch) and clock.threshold_s == 0.5
    assert isinstance(disk, DiskWatch)
    assert (disk.low, disk.critical, disk.interval_s) == (8 * 10**8, 10**8, 10.0)
    assert disk.path is None  # the run's session directory, known once it is opened
    assert isinstance(nights, NightWatch) and nights.policy.rollover == dt.time(12, 0)
    assert isinstance(retention, RetentionKeeper) and retention.budget_bytes == 0
    assert [type(o) for o in service_observers(cfg, nights=False)] == [SystemdNotifier, ClockWatch, DiskWatch]


def test_night_policy_from_config() -> None:
    policy = night_policy(parse_config({"service": {"rollover": "09:15", "new_night_on": "lights_off"}}))
    assert policy.rollover == dt.time(9, 15) and policy.new_night_on == "lights_off"


def test_session_at_start_reads_the_root(tmp_path) -> None:
    cfg = parse_config({"recorder": {"root": str(tmp_path)}})
    assert session_at_start(cfg).action == "new"
    record(tmp_path, "tonight", 2.0, close=False, night="")  # crashed seconds ago
    decision = session_at_start(cfg)
    assert (decision.action, decision.session) == ("continue", "tonight")
    assert "interrupted" in decision.reason
