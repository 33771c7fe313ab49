"""Builds the running system from a config: clock, source, stage chain, actuation."""

from __future__ import annotations

import math
from dataclasses import dataclass

from firmware_host.clock import Clock, FakeClock, RealClock
from firmware_host.config import Config
from firmware_host.durations import parse_duration, parse_speed
from firmware_host.events import EventSink
from firmware_host.pipeline import Pipeline, Stage
from firmware_host.sources.base import Source
from firmware_host.sources.factory import make_source


@dataclass(frozen=True)
class RunPlan:
    """How long and how fast to run, resolved from config and command line."""

    duration_s: float
    speed: float

    @property
    def as_fast_as_possible(self) -> bool:
        """True for ``--speed max``."""
        return math.isinf(self.speed)


def plan_run(cfg: Config, duration: str | None = None, speed: str | None = None) -> RunPlan:
    """Resolve duration and speed (command line wins over ``[run]``)."""
    return RunPlan(
        duration_s=parse_duration(duration if duration is not None else cfg.run.duration),
        speed=parse_speed(speed if speed is not None else cfg.run.speed),
    )


def make_clock(plan: RunPlan) -> Clock:
    """A fake clock for max speed, else real time scaled by the speed."""
    return FakeClock() if plan.as_fast_as_possible else RealClock(plan.speed)


def build_source(cfg: Config, clock: Clock, plan: RunPlan) -> Source:
    """The configured source, paced by ``clock``."""
    return make_source(cfg.source, clock, plan.duration_s)


def build_pipeline(cfg: Config, source: Source, sink: EventSink) -> Pipeline:
    """The stage chain for the source's channel layout."""
    stages: list[Stage] = []
    return Pipeline(stages)


def build_actuation(cfg: Config, clock: Clock, sink: EventSink) -> None:
    """The actuation side (drivers behind the safety layer); none until it is configured."""
    return None
