"""The service parts built from a config, for ``somnoloop run`` to attach in a line each."""

from __future__ import annotations

import time

from firmware_host.config.schema import Config
from firmware_host.runtime.hooks import RunObserver
from firmware_host.service.clockwatch import ClockWatch
from firmware_host.service.diskroom import DiskWatch
from firmware_host.service.inventory import scan_sessions
from firmware_host.service.nights import NightDecision, NightPolicy, on_start, parse_rollover
from firmware_host.service.notify import SystemdNotifier
from firmware_host.service.retention import apply_retention, plan_retention

MB = 10**6
GB = 10**9


def service_observers(cfg: Config) -> list[RunObserver]:
    """systemd notification, wall-clock jump journal and disk-room alarms for one run.

    Disk alarms go to the run's own alarm manager (status LED) when it has one.
    """
    s = cfg.service
    return [
        SystemdNotifier(status_interval_s=s.status_interval_s),
        ClockWatch(s.clock_jump_s),
        DiskWatch(low_free_bytes=int(s.disk_low_mb * MB), critical_free_bytes=int(s.disk_critical_mb * MB),
                  interval_s=s.disk_check_s),
    ]


def night_policy(cfg: Config) -> NightPolicy:
    """The ``[service]`` night settings in local time."""
    return NightPolicy(rollover=parse_rollover(cfg.service.rollover), new_night_on=cfg.service.new_night_on)


def session_at_start(cfg: Config, now_unix: float | None = None) -> NightDecision:
    """Continue this night's session (as a new segment) or start a new night, from the root."""
    now = time.time() if now_unix is None else now_unix
    return on_start(now, scan_sessions(cfg.recorder.root), night_policy(cfg))


def enforce_retention(cfg: Config, protected: set[str]) -> list[dict]:
    """Delete the oldest reported sessions over ``[service] retention_budget_gb``.

    Returns one ``retention`` journal payload per deleted session (nothing when the budget is
    0, meaning keep everything). ``protected`` names the current night's sessions.
    """
    if cfg.service.retention_budget_gb <= 0:
        return []
    plan = plan_retention(scan_sessions(cfg.recorder.root), int(cfg.service.retention_budget_gb * GB),
                          protected)
    removed = apply_retention(cfg.recorder.root, plan)
    if plan.over_budget:
        removed.append({"action": "over_budget", "bytes": plan.after_bytes, "budget": plan.budget_bytes,
                        "reason": "every other session is unreported or of the current night"})
    return removed
