"""The loop: source → stage chain → recorder and actuation, paced by an injected clock.

Between two iterations the loop applies queued :class:`~firmware_host.runtime.commands.RunCommand`
s (changes from other threads) and after each it calls the ``on_iteration`` hooks; it calls
``on_ready`` once the source streams and the actuation side answered, and ``on_stopping``
when it decides to stop. A fault in a stage, the actuation or an observer is journalled and
never ends the recording (safety rule 3).
"""

from __future__ import annotations

import math
import time
from typing import Any, Protocol

from firmware_host.chunk import Chunk
from firmware_host.clock import Clock
from firmware_host.decision import Decision
from firmware_host.events import EventSink
from firmware_host.runtime.commands import CommandQueue
from firmware_host.runtime.hooks import Hooks, IterationInfo
from firmware_host.runtime.pipeline import Pipeline
from firmware_host.runtime.summary import RunSummary, TallySink
from firmware_host.safety.alarms import AlarmManager
from firmware_host.session.recorder import SessionRecorder
from firmware_host.sources.base import Source


class ActuationPort(Protocol):
    """What the loop needs from the actuation side (see :mod:`firmware_host.actuation`)."""

    def on_decisions(self, decisions: list[Decision], now: float) -> None:
        """Turn decisions into safe commands."""
        ...

    def tick(self, now: float, signal_ok: bool) -> None:
        """Heartbeats, watchdogs, status polls."""
        ...

    def answered(self) -> bool:
        """Has every configured actuator answered at least once."""
        ...

    def claim_loop_thread(self) -> None:
        """The calling thread is the loop thread (journal lines are written from it)."""
        ...

    @property
    def alarms(self) -> AlarmManager:
        """Where alarms are raised (the status LED shows them)."""
        ...

    def safe_state(self, reason: str) -> None:
        """Every actuator to its safe state; never raises."""
        ...

    def close(self) -> None:
        """Safe state, then release devices."""
        ...


class Controller:
    """Pulls chunks from a source on a clock and pushes them through the system.

    A failing stage or actuator is journaled as a ``fault`` and sends the actuators to their
    safe state; recording always continues (safety rule 3).

    Parameters
    ----------
    source
        Already opened.
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
    hooks
        Lifecycle observers (progress display, sd_notify, control socket…).
    commands
        Changes queued by other threads, applied between two iterations.
    owner
        The object hooks receive as their ``run`` argument (the :class:`~firmware_host.runtime.run.Run`;
        this controller when used alone). It must offer ``fault(where, exc)``.
    summary
        Where counts go (a fresh one by default).
    """

    def __init__(self, source: Source, pipeline: Pipeline, recorder: SessionRecorder,
                 clock: Clock, *, duration_s: float = math.inf, tick_s: float = 0.25,
                 stale_after_s: float = 5.0, actuation: ActuationPort | None = None,
                 hooks: Hooks | None = None, commands: CommandQueue | None = None,
                 owner: Any = None, summary: RunSummary | None = None) -> None:
        self.source = source
        self.pipeline = pipeline
        self.recorder = recorder
        self.clock = clock
        self.duration_s = duration_s
        self.tick_s = tick_s
        self.stale_after_s = stale_after_s
        self.actuation = actuation
        self.hooks = hooks if hooks is not None else Hooks()
        self.commands = commands if commands is not None else CommandQueue()
        self.owner = owner if owner is not None else self
        self.summary = summary if summary is not None else RunSummary()
        #: Every journal line of the loop goes through here (counted into the summary).
        self.sink: EventSink = TallySink(recorder, self.summary)
        self._stop_reason = ""
        self._next_sample: int | None = None
        self._last_data_t = 0.0
        self._stage_failing = False
        #: Why the last quality window says the signal cannot be trusted ("" when it can).
        self._signal_bad = ""
        self._sfreq: float | None = None
        self._ready = False
        self._stage = ""
        #: The loop's own alarms (``loop_late``) go where the actuation side shows alarms.
        self.alarms = actuation.alarms if actuation is not None else AlarmManager(self.sink)

    @property
    def ready(self) -> bool:
        """Has the source streamed and every configured actuator answered."""
        return self._ready

    def request_stop(self, reason: str = "stop requested") -> None:
        """Ask the loop to end after the current iteration (safe from signal handlers)."""
        if not self._stop_reason:
            self._stop_reason = reason

    def fault(self, where: str, exc: BaseException) -> None:
        """Journal a fault (counted in the summary); the loop goes on."""
        self.summary.faults += 1
        self.sink.emit("fault", {"where": where, "error": f"{type(exc).__name__}: {exc}"})

    def run(self) -> RunSummary:
        """Run until the duration, the source's end or a stop request; always cleans up."""
        wall0 = time.monotonic()
        if self.actuation is not None:
            self.actuation.claim_loop_thread()
        self._last_data_t = self.clock.now()
        next_tick = self.clock.now()
        try:
            while not self._stop_reason:
                next_tick += self.tick_s
                late = self.clock.now() - next_tick
                self._sleep_until(next_tick)
                if self._stop_reason:
                    break
                self.commands.apply_pending(self.clock.now(), self.sink, self._next_sample)
                t0 = time.monotonic()
                n = self._iterate()
                processing_s = time.monotonic() - t0
                recording_s = self._catch_up_recording()
                if self._duration_reached():
                    self.request_stop("duration reached")
                elif self.source.finished:
                    self.request_stop("source finished")
                self._after_iteration(n, processing_s, max(0.0, late), recording_s)
        except BaseException as exc:
            self.request_stop(f"error: {type(exc).__name__}: {exc}")
            self._safe(self._stop_reason)
            raise
        finally:
            self.summary.stop_reason = self._stop_reason
            self.hooks.call("on_stopping", self.owner, self._stop_reason)
            self.commands.cancel_all(f"run stopped: {self._stop_reason}")
            self.summary.wall_s = time.monotonic() - wall0
            self._shutdown()
        return self.summary

    # ----------------------------------------------------------------- internals
    def _sleep_until(self, t: float) -> None:
        """Wait for clock time ``t`` in slices of at most 0.1 real seconds, so a stop request
        (SIGTERM) is honoured promptly even at a very slow replay speed."""
        slice_s = 0.1 * self.clock.speed
        while not self._stop_reason:
            remaining = t - self.clock.now()
            if remaining <= 0:
                return
            self.clock.sleep(min(remaining, slice_s))

    def _iterate(self) -> int:
        now = self.clock.now()
        chunk = self.source.read()
        n = 0
        decisions: list[Decision] = []
        if chunk is not None and chunk.n_samples:
            chunk = self._trim_to_duration(chunk)
            n = chunk.n_samples
            self._record(chunk)
            self._watch_storage(now)
            decisions = self._decide(chunk)
            self._last_data_t = now
        # Also without decisions: clock rules and running profiles advance while data is late.
        self._act(decisions, now)
        if self.actuation is not None:
            try:
                self.actuation.tick(now, self._signal_ok(now))
            except Exception as exc:  # noqa: BLE001 - a fault never stops the recording
                self.fault("actuation", exc)
        return n

    def _catch_up_recording(self) -> float:
        """The recorder's disk work of this iteration (block encoding, flush); its seconds."""
        t0 = time.monotonic()
        self.recorder.catch_up()
        return time.monotonic() - t0

    def _signal_ok(self, now: float) -> bool:
        return ((now - self._last_data_t) < self.stale_after_s and not self._stage_failing
                and not self._signal_bad and not self.recorder.degraded)

    def _watch_storage(self, now: float) -> None:
        """While the session cannot be written (disk full, read-only, I/O error) nothing the
        loop does can be audited: a high-priority ``storage_failed`` alarm, every actuator
        safe and held; recording keeps trying and the alarm clears when writes succeed."""
        why = self.recorder.degraded
        active = self.alarms.is_active("storage_failed")
        if why and not active:
            self.alarms.raise_alarm("storage_failed", "high",
                                    f"the session cannot be written ({why}); actuators held safe, "
                                    "recording retries", now)
            self.summary.recording_problems.append(why)
            self._safe(f"recording failed: {why}")
        elif not why and active:
            self.alarms.clear("storage_failed", now)

    def _watch_quality(self, decision: Decision, chunk: Chunk) -> None:
        """A quality window with non-finite samples, or with every EEG channel flat or
        clipped (electrodes off, amplifier railing), makes the signal bad: the safety layer
        then holds every actuator safe until the signal has been good for a while."""
        details = decision.details
        if details.get("non_finite"):
            self._signal_bad = "non-finite samples"
            return
        channels = details.get("channels", {})
        eeg = [channels[n] for n, t in zip(chunk.channel_names, chunk.channel_types, strict=True)
               if t == "eeg" and n in channels]
        if eeg and all(c.get("flat") or c.get("clipped") for c in eeg):
            self._signal_bad = "every EEG channel flat or clipped"
        else:
            self._signal_bad = ""

    def _after_iteration(self, n_samples: int, processing_s: float, late_s: float,
                         recording_s: float) -> None:
        now = self.clock.now()
        if not self._ready and self.summary.n_samples > 0 and self._actuation_answered():
            self._ready = True
            self.hooks.call("on_ready", self.owner)
        on_time = self._watch_pace(now, late_s, processing_s)
        healthy = self._ready and self._signal_ok(now) and on_time
        self.hooks.call("on_iteration", self.owner, IterationInfo(
            now=now, data_s=self.summary.data_s, n_samples=n_samples,
            processing_s=processing_s, healthy=healthy, late_s=late_s, recording_s=recording_s,
            extra={"stage": self._stage} if self._stage else {}))

    def _watch_pace(self, now: float, late_s: float, processing_s: float) -> bool:
        """Raise ``loop_late`` (low priority) while iterations start more than
        ``max(1 s, 4 periods)`` late — a slow stage or an overloaded CPU — and clear it once
        the loop is back on time. The loop keeps going: it reads the larger chunks the
        source has buffered meanwhile, so no sample is lost."""
        limit = max(1.0, 4 * self.tick_s)
        if late_s > limit:
            self.alarms.raise_alarm(
                "loop_late", "low",
                f"loop {late_s:.2f} s behind its {self.tick_s * 1000:g} ms period "
                f"(last iteration took {processing_s * 1000:.0f} ms of CPU time)", now)
            return False
        if late_s <= self.tick_s and self.alarms.is_active("loop_late"):
            self.alarms.clear("loop_late", now)
        return True

    def _actuation_answered(self) -> bool:
        if self.actuation is None:
            return True
        try:
            return bool(self.actuation.answered())
        except Exception as exc:  # noqa: BLE001
            self.fault("actuation", exc)
            return False

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
                self.sink.emit("gap", {"missing": chunk.first_sample - self._next_sample,
                                       "detected_by": "controller"}, self._next_sample)
        elif has_gap_event:
            self.summary.n_gaps += 1
        self._next_sample = chunk.end_sample
        self.recorder.write_chunk(chunk, deferred=True)  # disk work after the commands (catch_up)
        self.summary.n_samples += chunk.n_samples
        self.summary.n_chunks += 1
        self.summary.data_s += chunk.n_samples / chunk.sfreq

    def _decide(self, chunk: Chunk) -> list[Decision]:
        try:
            decisions = self.pipeline.update(chunk)
        except Exception as exc:  # noqa: BLE001 - a fault never stops the recording
            self.fault("pipeline", exc)
            if not self._stage_failing:
                self._safe("stage chain failed")
            self._stage_failing = True
            return []
        self._stage_failing = False
        # In sample order (stages in chain order at one sample): the journal and the programme
        # then see the same sequence whatever the chunking, at any speed.
        decisions.sort(key=lambda d: d.sample)
        for d in decisions:
            if d.kind == "quality":
                self._watch_quality(d, chunk)
            self.sink.emit("decision", d.to_json(), d.sample)
            self.summary.decisions[d.kind] += 1
            if d.kind == "stage" and not d.details.get("provisional"):
                self.summary.stages[d.label] += 1
                self._stage = d.label
        return decisions

    def _act(self, decisions: list[Decision], now: float) -> None:
        if self.actuation is None:
            return
        try:
            self.actuation.on_decisions(decisions, now)
        except Exception as exc:  # noqa: BLE001
            self.fault("actuation", exc)
            self._safe("actuation failed")

    def _safe(self, reason: str) -> None:
        if self.actuation is not None:
            self.actuation.safe_state(reason)

    def _shutdown(self) -> None:
        for step in (self._close_actuation, self.source.close):
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - keep closing the rest
                self.fault("shutdown", exc)
        self.summary.samples_not_written = self.recorder.samples_not_written
        self.recorder.close(self.summary.to_json() | {"stop_reason": self._stop_reason})
        if self.recorder.degraded:
            self.summary.recording_problems.append(f"at close: {self.recorder.degraded}")

    def _close_actuation(self) -> None:
        if self.actuation is not None:
            self.actuation.close()
