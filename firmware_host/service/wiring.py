"""The service parts built from a config, for ``somnoloop run`` to attach in a line each."""

from __future__ import annotations

import time

from firmware_host.config.schema import Config
from firmware_host.runtime.hooks import RunObserver
from firmware_host.service.clockwatch import ClockWatch
from firmware_host.service.diskroom import DiskWatch
from firmware_host.service.inventory import scan_sessions
from firmware_host.service.nights import NightDecision, NightPolicy, on_start, parse_rollover
from firmware_host.service.nightwatch import NightWatch, RetentionKeeper
from firmware_host.service.notify import SystemdNotifier
from firmware_host.session.paths import default_root

MB = 10**6
GB = 10**9


def service_observers(cfg: Config, *, nights: bool) -> list[RunObserver]:
    """The service observers of one run, built from ``[service]``.

    Always: systemd notification (a no-op outside systemd), the wall-clock jump journal and
    disk-room alarms (to the run's own alarm manager, which drives the status LED).

    Parameters
    ----------
    cfg
        The run's config.
    nights
        Also the night roll-over and retention: true for the device's open-ended run
        (duration ``until-stopped``), false for a run of fixed length, which must not stop at
        12:00 nor delete sessions.
    """
    s = cfg.service
    policy = night_policy(cfg)
    observers: list[RunObserver] = [
        SystemdNotifier(status_interval_s=s.status_interval_s),
        ClockWatch(s.clock_jump_s),
        DiskWatch(low_free_bytes=int(s.disk_low_mb * MB), critical_free_bytes=int(s.disk_critical_mb * MB),
                  interval_s=s.disk_check_s),
    ]
    if nights:
        observers += [NightWatch(policy),
                      RetentionKeeper(default_root(cfg), int(s.retention_budget_gb * GB), policy)]
    return observers


def night_policy(cfg: Config) -> NightPolicy:
    """The ``[service]`` night settings in local time."""
    return NightPolicy(rollover=parse_rollover(cfg.service.rollover), new_night_on=cfg.service.new_night_on)


def session_at_start(cfg: Config, now_unix: float | None = None) -> NightDecision:
    """Continue this night's session (as a new segment) or start a new night, from the root.

    The run that follows stores ``{"night": {"date": d.night, "trigger": d.trigger}}`` in
    its ``meta.json`` so later decisions read the night back.
    """
    now = time.time() if now_unix is None else now_unix
    return on_start(now, scan_sessions(default_root(cfg)), night_policy(cfg))
