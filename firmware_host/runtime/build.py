"""Builds the running system from a config: clock, source, stage chain, actuation."""

from __future__ import annotations

import math
from dataclasses import dataclass

from firmware_host.actuation.facade import Actuation
from firmware_host.clock import Clock, FakeClock, RealClock
from firmware_host.config import Config
from firmware_host.config.durations import parse_duration, parse_speed
from firmware_host.emg.decoder import build_emg_decoder
from firmware_host.errors import UsageError
from firmware_host.events import EventSink
from firmware_host.runtime.pipeline import Pipeline
from firmware_host.sources.base import Source
from firmware_host.sources.factory import make_source
from firmware_host.stages.base import Stage
from firmware_host.stages.filtering import FilterStage
from firmware_host.stages.quality import QualityStage
from firmware_host.staging.stager import build_stager


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


def build_pipeline(cfg: Config, source: Source) -> Pipeline:
    """The stage chain for the source's channel layout.

    Order: signal quality (on the raw signal), the sleep stager and the EMG grip decoder
    (each with its own validated front end, matching how its model was trained), then the
    display/feedback filters. Deciding stages pass the chunk on unchanged.

    Raises
    ------
    UsageError
        A stage cannot be built for this source (missing channel, impossible band, bad model
        file); the message names the config key.
    """
    names, types = tuple(source.channel_names), tuple(source.channel_types)
    stages: list[Stage] = [QualityStage(cfg.quality)]
    try:
        if cfg.stager.enabled and "eeg" in types:
            stages.append(build_stager(cfg.stager, source.sfreq, names, types,
                                       synthetic_source=cfg.source.kind == "synthetic"))
        synthetic = cfg.source.synthetic if cfg.source.kind == "synthetic" else None
        decoder = build_emg_decoder(cfg.emg, source.sfreq, names, types, synthetic=synthetic)
        if decoder is not None:
            stages.append(decoder)
        if cfg.filters.enabled:
            filters = FilterStage(cfg.filters)
            filters.check(source.sfreq, types)
            stages.append(filters)
    except ValueError as exc:  # includes the model-file errors of both decoders
        raise UsageError(str(exc)) from None
    return Pipeline(stages)


def build_actuation(cfg: Config, clock: Clock, sink: EventSink) -> Actuation:
    """Drivers (or device simulators on ptys when no port is configured) behind the safety layer."""
    return Actuation.from_config(cfg, clock, sink)
