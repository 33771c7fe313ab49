"""``[programme]``: the closed-loop programme section (night timing, comfort, rules).

Rules are validated one by one (:mod:`firmware_host.programme.rules`) and then together:
unique names, and one owner per actuator output and priority.
"""

from __future__ import annotations

from dataclasses import dataclass

from firmware_host.config.fields import setting
from firmware_host.programme.defaults import default_rules
from firmware_host.programme.rules import RuleConfig
from firmware_host.programme.timing import clock_s, duration_s


@dataclass(frozen=True)
class ComfortConfig:
    """``[programme.comfort]``: the sleeper's own settings that ``restore`` returns to."""

    head_deg: float = setting(10.0, min=0.0, max=45.0, doc="head elevation")
    feet_deg: float = setting(0.0, min=0.0, max=30.0, doc="feet elevation")
    temperature_c: float = setting(28.0, min=15.0, max=40.0, doc="surface temperature")


@dataclass(frozen=True)
class ProgrammeConfig:
    """``[programme]``: the closed-loop programme (decisions and time in, commands out)."""

    enabled: bool = setting(True, doc="run the programme (false: record only, nothing moves)")
    night_start: str = setting(
        "auto", doc="'auto': the real local time on the device, 'HH:MM' to fix it")
    simulated_night_start: str = setting(
        "23:00", doc="local time a synthetic, replayed or sped-up night starts at ('auto')")
    persistent_sleep: str | float = setting(
        "10m", doc="sleep onset = first epoch of this much uninterrupted sleep")
    manual_pause: str | float = setting(
        "30m", doc="a manual command pauses the automation of that actuator this long")
    comfort: ComfortConfig = setting(factory=ComfortConfig)
    rules: tuple[RuleConfig, ...] = setting(factory=default_rules,
                                            doc="the rules, as [[programme.rules]]")

    def __post_init__(self) -> None:
        if self.night_start != "auto":
            clock_s(self.night_start, "night_start")
        clock_s(self.simulated_night_start, "simulated_night_start")
        if duration_s(self.persistent_sleep, "persistent_sleep") <= 0:
            raise ValueError(f"persistent_sleep = {self.persistent_sleep!r} must be > 0")
        duration_s(self.manual_pause, "manual_pause")
        names: set[str] = set()
        owners: dict[tuple[str, int], str] = {}
        for rule in self.rules:
            if rule.name in names:
                raise ValueError(f"rule name {rule.name!r} is used twice; names must be unique")
            names.add(rule.name)
            if not rule.enabled:
                continue
            for out in rule.outputs:
                other = owners.setdefault((out, rule.priority), rule.name)
                if other != rule.name:
                    raise ValueError(
                        f"rules {other!r} and {rule.name!r} both drive {out!r} at priority "
                        f"{rule.priority}; allowed: one owner per actuator output and "
                        "priority (give one of them another priority)")

    @property
    def persistent_sleep_s(self) -> float:
        """``persistent_sleep`` in seconds."""
        return duration_s(self.persistent_sleep, "persistent_sleep")

    @property
    def manual_pause_s(self) -> float:
        """``manual_pause`` in seconds."""
        return duration_s(self.manual_pause, "manual_pause")
