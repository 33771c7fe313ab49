"""The accelerated soak: many simulated hours of the default programme with faults injected.

``somnoloop soak --hours 24 --speed max --json`` runs the real loop (synthetic source, the
stage chain, the programme, the safety layer, the serial drivers over ptys to the device
simulators, the E-stop on a mock GPIO pin, the crash-safe recorder) while a
:class:`FaultInjector` applies faults from :mod:`.faults` at random times. It then measures
what users will quote: crashes, frames outside the safety bounds or slew limits, the delay
from a fault to the safe state, recovery, memory growth and lost samples.

Memory is read from ``/proc/self/statm`` after a warm-up (a tenth of the run, at most one
simulated hour: the models, the numba kernels and SQLite's page cache are in by then) and
again at the end; the simulators' frame logs (in this process) are audited and emptied
every simulated minute so they do not count as growth.
"""

from __future__ import annotations

import math
import os
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firmware_host.config import Config, parse_config
from firmware_host.runtime.hooks import IterationInfo, RunObserver
from firmware_host.runtime.run import Run
from firmware_host.session import Session
from somnoloop_lab.reliability.audit import FrameAudit
from somnoloop_lab.reliability.faults import (
    DEVICE_FAULTS,
    NEEDS_SAFE_STATE,
    SIGNAL_FAULTS,
    Fault,
    FaultySource,
    random_schedule,
)

#: A fault that needs the safe state and gets none within this long counts as missed.
SAFE_STATE_DEADLINE_S = 30.0
_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    """Resident memory of this process in MiB (2**20 bytes, as ``ps``, ``top`` and the
    benchmark's ``rss_mb`` count)."""
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * _PAGE / 2**20


def soak_config(extra: dict[str, Any] | None = None) -> Config:
    """The default config with an E-stop on the mock pin factory (the default has one)."""
    data: dict[str, Any] = {"name": "soak", "recorder": {"fsync": False}}
    data.update(extra or {})
    return parse_config(data)


class FaultInjector(RunObserver):
    """Applies and clears scheduled faults from the loop thread, by loop-clock time."""

    name = "fault-injector"

    def __init__(self, schedule: list[Fault], audit: FrameAudit, warmup_s: float = 0.0) -> None:
        self.schedule = sorted(schedule, key=lambda f: f.start_s)
        self.warmup_s = warmup_s
        self.audit = audit
        self.source: FaultySource | None = None
        self.rss_start_mb: float | None = None
        self._sims: dict[str, Any] = {}
        self._next_audit = 60.0

    def wrap(self, source: Any) -> FaultySource:
        """The ``wrap_source`` seam: remember the faulty source."""
        self.source = FaultySource(source)
        return self.source

    def on_opened(self, run: Run) -> None:
        self._sims = {s.kind: s for s in run.actuation.simulators}

    def on_iteration(self, run: Run, info: IterationInfo) -> None:
        now = info.now
        if self.rss_start_mb is None and run.ready and info.data_s >= self.warmup_s:
            self.rss_start_mb = rss_mb()
        for fault in self.schedule:
            if fault.start_s > now:
                break
            if fault.applied_at is None:
                self._apply(run, fault, now)
            elif fault.cleared_at is None and now >= max(fault.end_s, fault.applied_at):
                self._clear(run, fault, now)
        if now >= self._next_audit:
            self._next_audit = now + 60.0
            self.drain()

    def on_closed(self, run: Run, summary: Any) -> None:
        self.drain()

    def drain(self) -> None:
        """Audit and empty the simulators' frame logs."""
        for kind, sim in self._sims.items():
            self.audit.check(kind, sim.take_frames())

    # ------------------------------------------------------------------ faults
    def _apply(self, run: Run, f: Fault, now: float) -> None:
        f.applied_at = now
        src = self.source
        if f.kind in SIGNAL_FAULTS and src is not None:
            if f.kind == "overrun":
                src.drop_next(int(2.0 * src.sfreq))
            else:
                src.active[f.kind] = f
        elif f.kind in DEVICE_FAULTS:
            sim = self._sims.get(f.target)
            if sim is None:
                return
            changes = {"serial_timeout": {"silence_next": 2}, "corrupt_bytes": {"corrupt_next": 3},
                       "nack_storm": {"nack_next": 20}, "reset_mid_command": {"reset_next_command": True},
                       "heartbeat_lost": {"silence_next": 10**9}}.get(f.kind)
            if f.kind == "unplug":
                sim.unplug()
            elif changes:
                sim.faults.set(**changes)
        elif f.kind == "estop" and run.actuation.estop_button is not None:
            run.actuation.estop_button.pin.drive_low()

    def _clear(self, run: Run, f: Fault, now: float) -> None:
        f.cleared_at = now
        src = self.source
        if f.kind in SIGNAL_FAULTS and src is not None:
            src.active.pop(f.kind, None)
        elif f.kind in DEVICE_FAULTS:
            sim = self._sims.get(f.target)
            if sim is not None:
                sim.replug()
                sim.faults.clear()
        elif f.kind == "estop" and run.actuation.estop_button is not None:
            run.actuation.estop_button.pin.drive_high()
            run.actuation.reset_estop(now)


@dataclass
class SoakResult:
    """The soak's figures (the JSON keys of ``somnoloop soak --json``)."""

    hours: float
    faults_injected: int
    crashes: int
    out_of_bounds_commands: int
    max_safe_state_latency_s: float
    rss_start_mb: float
    rss_end_mb: float
    samples_lost: int
    faults_by_kind: dict[str, int] = field(default_factory=dict)
    safe_state_latency_by_kind_s: dict[str, float] = field(default_factory=dict)
    missed_safe_states: list[str] = field(default_factory=list)
    unrecovered: list[str] = field(default_factory=list)
    #: What the frame audit found (one line per out-of-bounds or over-slew frame).
    violations: list[str] = field(default_factory=list)
    samples_dropped_by_injected_overruns: int = 0
    frames_audited: int = 0
    wall_s: float = 0.0
    stop_reason: str = ""

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return dict(self.__dict__)


def soak(hours: float = 24.0, *, speed: str = "max", seed: int = 1,
         session_dir: Path | None = None, every_s: tuple[float, float] = (120.0, 600.0)) -> SoakResult:
    """Run the soak and measure it (see the module docstring)."""
    cfg = soak_config()
    audit = FrameAudit(cfg.safety)
    schedule = random_schedule(hours, random.Random(seed), every_s=every_s)
    injector = FaultInjector(schedule, audit, warmup_s=min(3600.0, 360.0 * hours))
    wall0 = time.monotonic()
    crashes = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = session_dir or Path(tmp) / "soak"
        run = Run(cfg, duration=f"{hours * 3600:g}s", speed=speed, session_dir=path,
                  observers=[injector], wrap_source=injector.wrap)
        try:
            summary = run.run()
            stop_reason = summary.stop_reason
        except Exception as exc:  # noqa: BLE001 - a crash is what this measures
            crashes += 1
            stop_reason = f"crash: {type(exc).__name__}: {exc}"
        if stop_reason.startswith("error"):
            crashes += 1
        rss_end = rss_mb()
        session = Session(path)
        lost = _samples_lost(session, hours, injector)
        latencies, missed, unrecovered = _safe_state_latencies(session, schedule, cfg)
    applied = [f for f in schedule if f.applied_at is not None]
    by_kind: dict[str, int] = {}
    for f in applied:
        by_kind[f.kind] = by_kind.get(f.kind, 0) + 1
    worst = {k: max(v) for k, v in latencies.items() if v}
    return SoakResult(
        hours=hours, faults_injected=len(applied), crashes=crashes,
        out_of_bounds_commands=len(audit.violations),
        max_safe_state_latency_s=max(worst.values(), default=0.0) if not missed else math.inf,
        rss_start_mb=round(injector.rss_start_mb or 0.0, 1), rss_end_mb=round(rss_end, 1),
        samples_lost=lost, faults_by_kind=by_kind,
        safe_state_latency_by_kind_s={k: round(v, 3) for k, v in worst.items()},
        missed_safe_states=missed, unrecovered=unrecovered, violations=list(audit.violations),
        samples_dropped_by_injected_overruns=injector.source.dropped if injector.source else 0,
        frames_audited=audit.checked, wall_s=round(time.monotonic() - wall0, 1),
        stop_reason=stop_reason,
    )


def _samples_lost(session: Session, hours: float, injector: FaultInjector) -> int:
    sfreq = session.meta["sfreq"]
    expected = round(hours * 3600 * sfreq)
    dropped = injector.source.dropped if injector.source else 0
    return max(0, expected - dropped - session.n_samples)


def _safe_state_latencies(session: Session, schedule: list[Fault], cfg: Config
                          ) -> tuple[dict[str, list[float]], list[str], list[str]]:
    """Per fault kind, delay from the moment a fault is detectable to the safe state."""
    safe = [(e.payload.get("t", e.t), e.payload.get("target")) for e in session.events("safe_state")]
    alarms = [e.payload for e in session.events("alarm")]
    latencies: dict[str, list[float]] = {}
    missed, unrecovered = [], []
    for f in schedule:
        if f.applied_at is None or f.kind not in NEEDS_SAFE_STATE:
            continue
        if f.kind == "stall" and f.duration_s <= cfg.run.stale_after_s + 0.5:
            continue  # shorter than the stale limit: no safe state expected
        if f.kind in ("flat", "railing") and f.duration_s < 2 * cfg.quality.window_s + 0.5:
            continue  # shorter than a whole quality window
        detectable = f.applied_at + (cfg.run.stale_after_s if f.kind == "stall" else 0.0)
        targets = {f.target} if f.target else None
        hit = [t for t, target in safe if t >= detectable - 1e-9
               and (targets is None or target in targets)
               and t <= detectable + SAFE_STATE_DEADLINE_S]
        label = f"{f.kind}@{f.applied_at:.1f}s" + (f":{f.target}" if f.target else "")
        if not hit:
            missed.append(label)
            continue
        latencies.setdefault(f.kind, []).append(min(hit) - detectable)
        cleared = f.cleared_at or f.applied_at
        raised = [a for a in alarms if a.get("t", 0) >= f.applied_at - 1e-9
                  and a.get("t", 0) <= cleared + SAFE_STATE_DEADLINE_S and a["state"] == "active"]
        codes = {a["code"] for a in raised}
        cleared_codes = {a["code"] for a in alarms if a["state"] == "cleared"
                         and a.get("t", 0) >= cleared - 1e-9}
        if codes - cleared_codes:
            unrecovered.append(f"{label}: {sorted(codes - cleared_codes)} still active")
    return latencies, missed, unrecovered
