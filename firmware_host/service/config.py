"""``[service]``: how the device behaves as a long-running service."""

from __future__ import annotations

from dataclasses import dataclass

from firmware_host.config.fields import setting
from firmware_host.service.nights import NIGHT_TRIGGERS, parse_rollover


@dataclass(frozen=True)
class ServiceConfig:
    """``[service]``: nights, retention, disk room, clock jumps, systemd status."""

    rollover: str = setting("12:00", doc="local time 'HH:MM' at which one night ends and the next begins")
    new_night_on: str = setting(
        "rollover", choices=NIGHT_TRIGGERS,
        doc="'rollover': one session per night; 'lights_off': the lights-off button (or first "
        "EEG contact) opens the night's sleep session too",
    )
    retention_budget_gb: float = setting(
        0.0, min=0.0, doc="sessions root kept under this many GB by deleting the oldest reported "
        "sessions; 0 = keep everything",
    )
    disk_low_mb: float = setting(1000.0, min=0.0, doc="free MB below which debug streams stop (alarm)")
    disk_critical_mb: float = setting(200.0, min=0.0, doc="free MB below which only the night's "
                                      "signals are kept (high alarm)")
    disk_check_s: float = setting(30.0, min=1.0, max=3600.0, doc="seconds between disk checks")
    clock_jump_s: float = setting(1.0, min=0.05, max=3600.0, doc="wall-clock steps larger than this "
                                  "are journalled as clock_jump events")
    status_interval_s: float = setting(5.0, min=0.5, max=300.0, doc="seconds between systemd STATUS lines")

    def __post_init__(self) -> None:
        try:
            parse_rollover(self.rollover)
        except ValueError as exc:
            raise ValueError(f"service.rollover: {exc}") from None
        if self.disk_critical_mb > self.disk_low_mb:
            raise ValueError(f"service.disk_critical_mb = {self.disk_critical_mb} must not exceed "
                             f"service.disk_low_mb = {self.disk_low_mb}")
