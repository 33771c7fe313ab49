"""The loop: source → stage chain → recorder and actuation, paced by an injected clock."""

from __future__ import annotations

import copy
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Protocol

from firmware_host.chunk import Chunk
from firmware_host.clock import Clock
from firmware_host.decision import Decision
from firmware_host.runtime.pipeline import Pipeline
from firmware_host.session.recorder import SessionRecorder
from firmware_host.sources.base import Source


class ActuationPort(Protocol):
    """What the loop needs from the actuation side (see :mod:`firmware_host.actuation.facade`)."""

    def on_decisions(self, decisions: list[Decision], now: float) -> None:
        """Turn decisions into safe commands."""
        ...

    def tick(self, now: float, signal_ok: bool) -> None:
        """Heartbeats, watchdogs, status polls."""
        ...

    def safe_state(self, reason: str) -> None:
        """Every actuator to its safe state; never raises."""
        ...

    def close(self) -> None:
        """Safe state, then release devices."""
        ...


@dataclass
class RunSummary:
    """What a run did, for the closing table and the ``stop`` event."""

    data_s: float = 0.0
    wall_s: float = 0.0
    n_samples: int = 0
    n_chunks: int = 0
    n_gaps: int = 0
    stop_reason: str = ""
    decisions: Counter[str] = field(default_factory=Counter)
    stages: Counter[str] = field(default_factory=Counter)
    faults: int = 0

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return {
            "data_s": self.data_s,
            "wall_s": self.wall_s,
            "speed": self.data_s / self.wall_s if self.wall_s > 0 else None,
            "n_samples": self.n_samples,
            "n_chunks": self.n_chunks,
            "n_gaps": self.n_gaps,
            "stop_reason": self.stop_reason,
            "decisions": dict(self.decisions),
            "stages": dict(self.stages),
            "faults": self.faults,
        }


class Controller:
    """Pulls chunks from a source on a clock and pushes them through the system.

    A failing stage or actuator is journaled as a ``fault`` and sends the actuators to their
    safe state; recording always continues (safety rule 3).

    Parameters
    ----------
    source
        Opened by :meth:`run`.
    pipeline
        Stage chain; its decisions are journaled and handed to ``actuation``.
    recorder
        Session writer (already started).
    clock
        Paces the loop: real time on the device, fake in replay/tests.
    duration_s
        Stop after this much data (``math.inf`` = until the source ends or a stop request).
    tick_s
        Loop period in clock seconds.
    stale_after_s
        No new samples for this long means the signal is stale (actuators go safe).
    actuation
        Optional actuation side.
    on_tick
        Called after every iteration with the summary so far (progress display).
    """

    def __init__(self, source: Source, pipeline: Pipeline, recorder: SessionRecorder,
                 clock: Clock, *, duration_s: float = math.inf, tick_s: float = 0.25,
                 stale_after_s: float = 5.0, actuation: ActuationPort | None = None,
                 on_tick: Callable[[RunSummary], None] | None = None) -> None:
        self.source = source
        self.pipeline = pipeline
        self.recorder = recorder
        self.clock = clock
        self.duration_s = duration_s
        self.tick_s = tick_s
        self.stale_after_s = stale_after_s
        self.actuation = actuation
        self.on_tick = on_tick
        self.summary = RunSummary()
        self._stop_reason = ""
        self._next_sample: int | None = None
        self._last_data_t = 0.0
        self._stage_failing = False
        self._sfreq: float | None = None

    def request_stop(self, reason: str = "stop requested") -> None:
        """Ask the loop to end after the current iteration (safe from signal handlers)."""
        self._stop_reason = reason

    def run(self) -> RunSummary:
        """Run until the duration, the source's end or a stop request; always cleans up."""
        wall0 = time.monotonic()
        self._last_data_t = self.clock.now()
        next_tick = self.clock.now()
        try:
            while not self._stop_reason:
                next_tick += self.tick_s
                self.clock.sleep(next_tick - self.clock.now())
                self._iterate()
                if self._duration_reached():
                    self._stop_reason = "duration reached"
                elif self.source.finished:
                    self._stop_reason = "source finished"
                if self.on_tick is not None:
                    self.on_tick(self.summary)
        except BaseException as exc:
            self._stop_reason = f"error: {type(exc).__name__}: {exc}"
            self._safe(self._stop_reason)
            raise
        finally:
            self.summary.stop_reason = self._stop_reason
            self.summary.wall_s = time.monotonic() - wall0
            self._shutdown()
        return self.summary

    # ----------------------------------------------------------------- internals
    def _iterate(self) -> None:
        now = self.clock.now()
        chunk = self.source.read()
        if chunk is not None and chunk.n_samples:
            chunk = self._trim_to_duration(chunk)
            self._record(chunk)
            decisions = self._decide(chunk)
            self._act(decisions, now)
            self._last_data_t = now
        if self.actuation is not None:
            signal_ok = (now - self._last_data_t) < self.stale_after_s and not self._stage_failing
            try:
                self.actuation.tick(now, signal_ok)
            except Exception as exc:  # noqa: BLE001 - a fault never stops the recording
                self._fault("actuation", exc)

    def _duration_reached(self) -> bool:
        return self._sfreq is not None and self.summary.n_samples >= self._wanted_samples()

    def _wanted_samples(self) -> float:
        if math.isinf(self.duration_s) or self._sfreq is None:
            return math.inf
        return round(self.duration_s * self._sfreq)

    def _trim_to_duration(self, chunk: Chunk) -> Chunk:
        self._sfreq = chunk.sfreq
        remaining = self._wanted_samples() - self.summary.n_samples
        if chunk.n_samples <= remaining:
            return chunk
        remaining = int(remaining)
        return Chunk(chunk.data[:, :remaining], chunk.first_sample, chunk.sfreq,
                     chunk.channel_names, chunk.channel_types, chunk.timestamps[:remaining],
                     chunk.events)

    def _record(self, chunk: Chunk) -> None:
        has_gap_event = any(ev.kind == "gap" for ev in chunk.events)
        if self._next_sample is not None and chunk.first_sample != self._next_sample:
            self.summary.n_gaps += 1
            if not has_gap_event:
                self.recorder.emit("gap", {"missing": chunk.first_sample - self._next_sample,
                                           "detected_by": "controller"}, self._next_sample)
        elif has_gap_event:
            self.summary.n_gaps += 1
        self._next_sample = chunk.end_sample
        self.recorder.write_chunk(chunk)
        self.summary.n_samples += chunk.n_samples
        self.summary.n_chunks += 1
        self.summary.data_s += chunk.n_samples / chunk.sfreq

    def _decide(self, chunk: Chunk) -> list[Decision]:
        try:
            decisions = self.pipeline.update(chunk)
        except Exception as exc:  # noqa: BLE001 - a fault never stops the recording
            self._fault("pipeline", exc)
            if not self._stage_failing:
                self._safe("stage chain failed")
            self._stage_failing = True
            return []
        self._stage_failing = False
        for d in decisions:
            self.recorder.emit("decision", decision_json(d), d.sample)
            self.summary.decisions[d.kind] += 1
            if d.kind == "stage" and not d.details.get("provisional"):
                self.summary.stages[d.label] += 1
        return decisions

    def _act(self, decisions: list[Decision], now: float) -> None:
        if self.actuation is None or not decisions:
            return
        try:
            self.actuation.on_decisions(decisions, now)
        except Exception as exc:  # noqa: BLE001
            self._fault("actuation", exc)
            self._safe("actuation failed")

    def _fault(self, where: str, exc: BaseException) -> None:
        self.summary.faults += 1
        self.recorder.emit("fault", {"where": where, "error": f"{type(exc).__name__}: {exc}"})

    def _safe(self, reason: str) -> None:
        if self.actuation is not None:
            self.actuation.safe_state(reason)

    def _shutdown(self) -> None:
        for step in (self._close_actuation, self.source.close):
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - keep closing the rest
                self._fault("shutdown", exc)
        self.recorder.close(self.summary.to_json() | {"stop_reason": self._stop_reason})

    def _close_actuation(self) -> None:
        if self.actuation is not None:
            self.actuation.close()


_ATOMIC = (str, int, float, bool, type(None))
_ATOMIC_TYPES = frozenset(_ATOMIC)


def decision_json(decision: Decision) -> dict[str, Any]:
    """The same dict as :meth:`Decision.to_json`, built without ``dataclasses.asdict``.

    ``asdict`` deep-copies every leaf through :func:`copy.deepcopy`; a quality decision
    (per-channel measures) took ~0.5 ms that way, every second of data. Here immutable
    leaves are shared and containers are rebuilt exactly as ``asdict`` rebuilds them.
    """
    return {"kind": decision.kind, "sample": decision.sample, "label": decision.label,
            "probabilities": _plain(decision.probabilities), "model": decision.model,
            "details": _plain(decision.details)}


def _plain(obj: Any) -> Any:
    """``dataclasses.asdict``'s conversion of a field value, minus copies of immutables."""
    atomic = _ATOMIC_TYPES
    if type(obj) is dict:  # the common case, with atomic leaves handled inline
        return {k if type(k) in atomic else _plain(k): v if type(v) in atomic else _plain(v)
                for k, v in obj.items()}
    if isinstance(obj, _ATOMIC):
        return obj
    if isinstance(obj, dict):
        return type(obj)((_plain(k), _plain(v)) for k, v in obj.items())
    if isinstance(obj, list):
        return [v if type(v) in atomic else _plain(v) for v in obj]
    if is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _plain(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, tuple):
        if hasattr(obj, "_fields"):  # namedtuple
            return type(obj)(*[_plain(v) for v in obj])
        return type(obj)(_plain(v) for v in obj)
    return copy.deepcopy(obj)
