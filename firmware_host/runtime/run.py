"""One run of the loop, from a config to a closed session.

:class:`Run` owns a run's life: :meth:`Run.open` plans it (duration, speed, clock), opens
the source, starts the session, builds the stage chain and the actuation side and calls the
``on_opened`` hooks; :meth:`Run.run` iterates until the duration, the source's end or a
stop request, then closes everything (actuators safe first) and calls ``on_closed``. The CLI
only parses arguments, attaches a progress observer and prints; the service, the control
socket and tests use the same object.

Changes from other threads go through :meth:`Run.submit` and are applied on the loop
thread between two iterations (:mod:`firmware_host.runtime.commands`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from firmware_host.clock import Clock
from firmware_host.config import Config
from firmware_host.errors import UsageError
from firmware_host.runtime import build
from firmware_host.runtime.commands import CommandQueue, RunCommand
from firmware_host.runtime.hooks import Hooks, RunObserver
from firmware_host.runtime.loop import Controller
from firmware_host.runtime.summary import RunSummary, TallySink
from firmware_host.session import SessionRecorder
from firmware_host.sources.base import Source, SourceError


class Run:
    """A configured run of the closed loop.

    Parameters
    ----------
    config
        The validated configuration.
    duration, speed
        Command-line overrides of ``[run]`` (``None`` keeps the config's).
    session_dir
        Directory of this session (a new one under ``[recorder] root`` by default).
    actuation
        ``"devices"`` (drivers, or simulators on ptys when no port is configured) or
        ``"dry"`` (commands pass the safety layer and are recorded; no device, no thread).
    observers
        Lifecycle observers attached before the run opens.
    wrap_source
        Wraps the configured source before it opens (fault injection in soak tests, taps).
    resume
        ``session_dir`` holds this night's session from a run that died: continue it as a
        new segment (same session, the gap journalled) instead of refusing the directory.
    meta
        Extra entries for the session's ``meta.json`` (e.g. the night it belongs to).

    Raises
    ------
    UsageError
        From :meth:`open`: a duration or speed that cannot be used, a source that cannot
        open, a session directory that exists, a stage that cannot be built.
    """

    def __init__(self, config: Config, *, duration: str | None = None, speed: str | None = None,
                 session_dir: str | Path | None = None, actuation: str = "devices",
                 observers: Iterable[RunObserver] = (),
                 wrap_source: Callable[[Source], Source] | None = None, resume: bool = False,
                 meta: dict[str, Any] | None = None) -> None:
        if actuation not in build.ACTUATION_MODES:
            raise UsageError(f"actuation = {actuation!r}; allowed: {list(build.ACTUATION_MODES)}")
        self.config = config
        self.hooks = Hooks(list(observers))
        self.commands = CommandQueue()
        self.summary = RunSummary()
        self._duration, self._speed = duration, speed
        self._session_dir = Path(session_dir) if session_dir else None
        self._actuation_mode = actuation
        self._wrap_source = wrap_source
        self._resume = resume
        self._meta = dict(meta or {})
        self.plan: build.RunPlan | None = None
        self.clock: Clock | None = None
        self.source: Source | None = None
        self.recorder: SessionRecorder | None = None
        self.actuation: Any = None
        self.controller: Controller | None = None
        #: Fallbacks the run takes without being asked to (printed at start by the CLI).
        self.warnings: list[str] = []
        self._stop_reason = ""

    # ----------------------------------------------------------------- life
    @property
    def session_dir(self) -> Path:
        """Where this run's session is written (known once :meth:`open` ran)."""
        if self._session_dir is None:
            raise RuntimeError("the session directory is chosen by Run.open()")
        return self._session_dir

    def attach(self, observer: RunObserver) -> None:
        """Add a lifecycle observer."""
        self.hooks.attach(observer)

    def open(self) -> None:
        """Plan, open the source, start the session, build stages and actuation."""
        cfg = self.config
        try:
            self.plan = build.plan_run(cfg, self._duration, self._speed)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        build.check_speed(cfg, self.plan, self._speed)
        self._session_dir = self._session_dir or build.new_session_dir(cfg)
        self.clock = build.make_clock(self.plan)
        try:
            self.source = build.build_source(cfg, self.clock, self.plan)
            if self._wrap_source is not None:
                self.source = self._wrap_source(self.source)
            self.source.open()
        except SourceError as exc:
            raise UsageError(str(exc)) from None
        try:  # stages first: a config that cannot run leaves no session behind
            pipeline = build.build_pipeline(cfg, self.source)
            self.warnings = build.start_warnings(cfg, self.source, pipeline)
            self.recorder = build.start_recorder(cfg, self.session_dir, self.clock, self.plan,
                                                 self.source, resume=self._resume, extra=self._meta)
        except BaseException:
            self.source.close()
            raise
        sink = TallySink(self.recorder, self.summary)
        try:
            self.actuation = build.build_actuation(cfg, self.clock, sink, self._actuation_mode)
        except BaseException as exc:
            sink.emit("fault", {"where": "startup", "error": f"{type(exc).__name__}: {exc}"})
            self.recorder.close({"stop_reason": f"startup failed: {exc}"})
            self.source.close()
            raise
        # Rules are timed by the samples of their decisions, so a night gives the same
        # actions at any speed and in any chunking.
        self.actuation.programme.set_sample_rate(self.source.sfreq)
        self.summary.unavailable = dict(self.actuation.unavailable)
        self.controller = Controller(
            self.source, pipeline, self.recorder, self.clock, duration_s=self.plan.duration_s,
            tick_s=cfg.run.realtime_tick_s if self.plan.speed == 1 else cfg.run.tick_s,
            stale_after_s=cfg.run.stale_after_s, actuation=self.actuation,
            hooks=self.hooks, commands=self.commands, owner=self, summary=self.summary)
        if self._stop_reason:
            self.controller.request_stop(self._stop_reason)
        self.hooks.call("on_opened", self)

    def run(self) -> RunSummary:
        """Iterate to the end, close everything, call ``on_closed``; return the summary."""
        if self.controller is None:
            self.open()
        assert self.controller is not None  # noqa: S101 - set by open(); typing only
        try:
            summary = self.controller.run()
        finally:
            self.hooks.call("on_closed", self, self.summary)
        return summary

    def request_stop(self, reason: str = "stop requested") -> None:
        """End the run after the current iteration (safe from signal handlers).

        Asked before the loop exists (Ctrl-C during start-up), the run ends as soon as it
        is built: nothing iterates, everything opened is closed and the session says why.
        """
        self._stop_reason = self._stop_reason or reason
        if self.controller is not None:
            self.controller.request_stop(reason)

    def submit(self, name: str, apply: Any, *, client: str = "local",
               params: dict[str, Any] | None = None) -> Future[Any]:
        """Queue a change; it is applied on the loop thread between two iterations."""
        return self.commands.submit(RunCommand(name, apply, client, dict(params or {})))

    def fault(self, where: str, exc: BaseException) -> None:
        """Journal a fault (observers and commands report theirs here)."""
        if self.controller is not None:
            self.controller.fault(where, exc)

    # ----------------------------------------------------------------- views
    @property
    def ready(self) -> bool:
        """Has the source streamed and every configured actuator answered."""
        return self.controller is not None and self.controller.ready

    def describe(self) -> dict[str, Any]:
        """What this run is, for the opening line and status displays."""
        assert self.source is not None and self.plan is not None  # noqa: S101 - after open()
        return {
            "config": self.config.name, "source": self.config.source.kind,
            "channels": len(self.source.channel_names), "sfreq": self.source.sfreq,
            "session": str(self.session_dir),
            "duration_s": None if math.isinf(self.plan.duration_s) else self.plan.duration_s,
            "speed": "max" if self.plan.as_fast_as_possible else self.plan.speed,
            "actuation": self._actuation_mode,
            "unavailable": dict(self.summary.unavailable),
            "warnings": list(self.warnings),
        }

