"""Builds the running system from a config: plan, clock, source, session, stage chain, actuation."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware_host.actuation.dry import dry_actuation
from firmware_host.actuation.facade import Actuation
from firmware_host.clock import Clock, FakeClock, RealClock
from firmware_host.config import Config
from firmware_host.config.durations import parse_duration, parse_speed
from firmware_host.emg.decoder import EmgDecoder, build_emg_decoder
from firmware_host.errors import UsageError
from firmware_host.events import EventSink
from firmware_host.microstructure.build import build_microstructure_stages
from firmware_host.neurofeedback.stage import build_neurofeedback_stage
from firmware_host.runtime.pipeline import Pipeline
from firmware_host.session import SessionError, SessionRecorder, paths
from firmware_host.session.resume import resume_session
from firmware_host.sources.base import Source
from firmware_host.sources.factory import make_source
from firmware_host.stages.base import Stage
from firmware_host.stages.filtering import FilterStage
from firmware_host.stages.quality import QualityStage
from firmware_host.staging.stager import build_stager

#: How commands leave the process: real drivers (or simulators on ptys), or recorded only.
ACTUATION_MODES = ("devices", "dry")


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


def check_speed(cfg: Config, plan: RunPlan, asked: str | None) -> None:
    """Refuse speeds the source cannot honour.

    Raises
    ------
    UsageError
        A BrainFlow board asked to run at any speed but 1.
    """
    if cfg.source.kind == "brainflow" and plan.speed != 1:
        raise UsageError(
            f"--speed {asked or cfg.run.speed}: a BrainFlow board streams in real time; "
            "allowed: --speed 1 (use source.kind = 'replay' to replay files faster)"
        )


def make_clock(plan: RunPlan) -> Clock:
    """A fake clock for max speed, else real time scaled by the speed."""
    return FakeClock() if plan.as_fast_as_possible else RealClock(plan.speed)


def build_source(cfg: Config, clock: Clock, plan: RunPlan) -> Source:
    """The configured source, paced by ``clock``."""
    return make_source(cfg.source, clock, plan.duration_s)


def new_session_dir(cfg: Config) -> Path:
    """A fresh directory under the sessions root (:func:`firmware_host.session.paths.default_root`)."""
    return paths.new_session_dir(paths.default_root(cfg), cfg.name)


def start_recorder(cfg: Config, session_dir: Path, clock: Clock, plan: RunPlan,
                   source: Source, *, resume: bool = False,
                   extra: dict[str, Any] | None = None) -> SessionRecorder:
    """Create the session directory (or continue it as a new segment) and journal the start.

    Raises
    ------
    UsageError
        The directory exists already (and ``resume`` is false), cannot be created, or
        cannot be continued.
    """
    try:
        if resume:
            recorder = resume_session(session_dir, clock, flush_interval_s=cfg.recorder.flush_interval_s,
                                      fsync=cfg.recorder.fsync)
        else:
            recorder = SessionRecorder(session_dir, clock, flush_interval_s=cfg.recorder.flush_interval_s,
                                       fsync=cfg.recorder.fsync)
    except SessionError as exc:
        raise UsageError(f"session {session_dir} cannot be continued: {exc}") from None
    except FileExistsError as exc:
        if exc.errno is None:  # the recorder's own: the directory already holds a session
            raise UsageError(str(exc)) from None
        raise UsageError(f"session directory {session_dir}: a file is in the way; allowed: a new "
                         "directory in a writable place (--session-dir or [recorder] root)") from None
    except OSError as exc:
        raise UsageError(f"session directory {session_dir}: cannot create it ({exc.strerror}); "
                         "allowed: a new directory in a writable place (--session-dir or "
                         "[recorder] root)") from None
    recorder.start(
        sfreq=source.sfreq, channel_names=source.channel_names, channel_types=source.channel_types,
        config=dataclasses.asdict(cfg),
        extra={"config_name": cfg.name, "source": cfg.source.kind,
               "planned_duration_s": None if math.isinf(plan.duration_s) else plan.duration_s,
               "speed": "max" if plan.as_fast_as_possible else plan.speed,
               "clock_origin_unix": getattr(clock, "origin_unix", None), **(extra or {})},
    )
    return recorder


def require_eeg_for_staging(cfg: Config, names: tuple[str, ...], types: tuple[str, ...]) -> None:
    """Refuse sleep staging on a source without an EEG channel (it would run silently unstaged).

    Raises
    ------
    UsageError
        ``[stager] enabled`` with no ``eeg`` channel among ``types``.
    """
    if cfg.stager.enabled and "eeg" not in types:
        raise UsageError(
            f"stager.enabled = true but source '{cfg.source.kind}' has no EEG channel "
            f"(channels: {list(names) or 'none'}); allowed: configure an EEG channel, or set "
            "[stager] enabled = false to record without sleep staging"
        )


def start_warnings(cfg: Config, source: Source, pipeline: Pipeline) -> list[str]:
    """What the run falls back on without being asked to, said once at start.

    ``[emg] model = "auto"`` without a calibration file runs without grip decoding on a
    real source (on the synthetic one it calibrates on the scripted session).
    """
    forearm = "forearm_emg" in source.channel_types
    decoding = any(isinstance(stage, EmgDecoder) for stage in pipeline.stages)
    if cfg.emg.enabled and cfg.emg.model == "auto" and forearm and not decoding:
        return [f"emg.model = 'auto' found no calibration file {cfg.emg.model_file!r}: grips are "
                "not decoded tonight (run 'somnoloop calibrate-emg', or set [emg] enabled = false)"]
    return []


def build_pipeline(cfg: Config, source: Source) -> Pipeline:
    """The stage chain for the source's channel layout.

    Order: signal quality (on the raw signal), then the sleep stager and the EMG grip
    decoder (each with its own validated front end, matching how its model was trained).
    Deciding stages pass the chunk on unchanged.

    Raises
    ------
    UsageError
        A stage cannot be built for this source (missing channel, impossible band, bad model
        file); the message names the config key.
    """
    names, types = tuple(source.channel_names), tuple(source.channel_types)
    require_eeg_for_staging(cfg, names, types)
    stages: list[Stage] = [QualityStage(cfg.quality)]
    try:
        if cfg.stager.enabled:
            stages.append(build_stager(cfg.stager, source.sfreq, names, types,
                                       synthetic_source=cfg.source.kind == "synthetic"))
        synthetic = cfg.source.synthetic if cfg.source.kind == "synthetic" else None
        decoder = build_emg_decoder(cfg.emg, source.sfreq, names, types, synthetic=synthetic)
        if decoder is not None:
            stages.append(decoder)
        # sleep microstructure on the raw signal (each detector filters for itself)
        stages.extend(build_microstructure_stages(cfg.spindles, cfg.slow_oscillations, source.sfreq,
                                                  names, types))
        feedback = build_neurofeedback_stage(cfg, source)  # before the display filters
        if feedback is not None:
            stages.append(feedback)
        if cfg.filters.enabled:
            filters = FilterStage(cfg.filters)
            filters.check(source.sfreq, types)
            stages.append(filters)
    except ValueError as exc:  # includes the model-file errors of both decoders
        raise UsageError(str(exc)) from None
    return Pipeline(stages)


def build_actuation(cfg: Config, clock: Clock, sink: EventSink, mode: str = "devices") -> Actuation:
    """The actuation side: drivers (or simulators on ptys) behind the safety layer, or dry."""
    if mode == "dry":
        return dry_actuation(cfg, clock, sink)
    return Actuation.from_config(cfg, clock, sink)
