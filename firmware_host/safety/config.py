"""``[safety]``: limits and watchdog timings, fixed at start-up.

The section is a tree of frozen dataclasses that the safety layer copies once when it is
built; nothing in the running process (tuning console included) gets a handle that could
change it. Changing a limit means editing the file and restarting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from firmware_host.config.fields import setting


def require_finite(section: object, prefix: str) -> None:
    """Refuse a NaN or infinite number anywhere in a safety section.

    The config loader already refuses them; this second check guards sections built in
    code, because a NaN bound compares false with everything and would switch its limit off.

    Raises
    ------
    ValueError
        Naming the key and the value.
    """
    for f in fields(section):  # type: ignore[arg-type]
        value = getattr(section, f.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{prefix}.{f.name} = {value!r} is not a finite number; "
                             "allowed: a finite number within its documented range")


@dataclass(frozen=True)
class MattressLimits:
    """``[safety.mattress]``: bounds and slew limits of the smart mattress."""

    head_elevation_max_deg: float = setting(30.0, min=0.0, max=45.0, doc="head section, degrees")
    feet_elevation_max_deg: float = setting(20.0, min=0.0, max=30.0, doc="feet section, degrees")
    elevation_slew_deg_s: float = setting(
        1.0, min=0.01, max=10.0, doc="largest change of an elevation target per second"
    )
    firmness_min: float = setting(10.0, min=0.0, max=100.0, doc="softest allowed level")
    firmness_max: float = setting(90.0, min=0.0, max=100.0, doc="firmest allowed level")
    firmness_slew_per_s: float = setting(5.0, min=0.01, max=100.0, doc="level change per second")
    temperature_min_c: float = setting(16.0, min=10.0, max=40.0, doc="coolest surface, °C")
    temperature_max_c: float = setting(32.0, min=10.0, max=40.0, doc="warmest surface, °C")
    temperature_slew_c_min: float = setting(
        0.5, min=0.01, max=10.0, doc="largest change of the temperature target per minute"
    )
    vibration_max_intensity: float = setting(40.0, min=0.0, max=100.0, doc="0..100")
    start_elevation_deg: float = setting(
        0.0, min=0.0, max=45.0, doc="assumed elevation when the device cannot report it"
    )
    start_firmness: float = setting(50.0, min=0.0, max=100.0, doc="assumed when not reported")
    start_temperature_c: float = setting(26.0, min=10.0, max=40.0, doc="assumed when not reported")

    def __post_init__(self) -> None:
        require_finite(self, "safety.mattress")
        if self.firmness_min > self.firmness_max:
            raise ValueError(
                f"safety.mattress: firmness_min {self.firmness_min} > firmness_max {self.firmness_max}"
            )
        if self.temperature_min_c > self.temperature_max_c:
            raise ValueError(
                f"safety.mattress: temperature_min_c {self.temperature_min_c} > "
                f"temperature_max_c {self.temperature_max_c}"
            )
        starts = (
            ("start_elevation_deg", self.start_elevation_deg, 0.0,
             min(self.head_elevation_max_deg, self.feet_elevation_max_deg)),
            ("start_firmness", self.start_firmness, self.firmness_min, self.firmness_max),
            ("start_temperature_c", self.start_temperature_c, self.temperature_min_c,
             self.temperature_max_c),
        )
        for key, value, lo, hi in starts:
            if not lo <= value <= hi:
                raise ValueError(
                    f"safety.mattress: {key} {value} must lie within the limits [{lo}, {hi}]"
                )


@dataclass(frozen=True)
class HandLimits:
    """``[safety.hand]`` / ``[safety.servo_hand]``: grip force and speed limits of a hand."""

    force_max: float = setting(0.8, min=0.0, max=1.0, doc="largest grip force (0..1)")
    speed_max: float = setting(0.7, min=0.0, max=1.0, doc="largest finger speed (0..1)")
    position_max: float = setting(100.0, min=0.0, max=100.0, doc="largest finger closure (0..100)")

    def __post_init__(self) -> None:
        require_finite(self, "safety.hand")


@dataclass(frozen=True)
class VibrationLimits:
    """``[safety.vibration]``: the GPIO vibration motor."""

    max_intensity: float = setting(50.0, min=0.0, max=100.0, doc="0..100")

    def __post_init__(self) -> None:
        require_finite(self, "safety.vibration")


@dataclass(frozen=True)
class SafetyConfig:
    """``[safety]``: what the safety layer enforces. Cannot change while running."""

    on_violation: str = setting(
        "clamp", choices=("clamp", "refuse"),
        doc="an out-of-bounds command is clamped to the bound, or refused",
    )
    stale_signal_s: float = setting(
        0.0, min=0.0, max=300.0,
        doc="signal not OK for this long (beyond run.stale_after_s) -> every actuator safe",
    )
    resume_after_s: float = setting(
        10.0, min=0.0, max=3600.0,
        doc="after a stale signal or a safe-state request, signal OK this long before acting again",
    )
    heartbeat_interval_s: float = setting(
        0.05, min=0.01, max=10.0,
        doc="least time between heartbeat() calls (drivers pace their keep-alives themselves)",
    )
    status_poll_s: float = setting(1.0, min=0.05, max=60.0, doc="how often read-back is polled")
    device_timeout_s: float = setting(
        2.0, min=0.1, max=60.0, doc="no successful exchange with a device for this long -> lost"
    )
    max_consecutive_faults: int = setting(
        3, min=1, max=100, doc="this many failed exchanges in a row -> device lost"
    )
    reconnect_after_s: float = setting(5.0, min=0.1, max=600.0, doc="retry a lost device this often")
    ramp_interval_s: float = setting(
        1.0, min=0.05, max=60.0, doc="a slew-limited target steps toward the asked value this often"
    )
    mattress: MattressLimits = setting(factory=MattressLimits)
    hand: HandLimits = setting(factory=HandLimits)
    servo_hand: HandLimits = setting(factory=HandLimits)
    vibration: VibrationLimits = setting(factory=VibrationLimits)

    def __post_init__(self) -> None:
        require_finite(self, "safety")
