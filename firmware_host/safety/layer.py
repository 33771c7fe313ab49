"""The safety layer: the only path from a decision to a driver.

Every command goes through :meth:`SafetyLayer.submit`: refused while the E-stop is latched,
the signal is stale, the system is held safe or the device is lost; otherwise checked by the
:class:`~firmware_host.safety.limits.CommandLimiter` (bounds, slew) and sent. The journal
gets a ``command`` event (asked / sent / outcome / reason) for every request, an ``ack``
event for every acknowledgement, a ``fault`` event for every driver error, ``safe_state``
events with their reason, and ``alarm`` events (see :mod:`firmware_host.safety.alarms`).

:meth:`SafetyLayer.tick` runs the watchdogs (stale signal, device heartbeat / silence /
repeated faults, reconnection of lost devices) and releases slew ramps.

Thread safety: the loop thread calls ``submit``/``tick``; the E-stop may trip from
gpiozero's callback thread. The latch is set first, without waiting, so no new command
passes it; then the actuators are sent safe under the same lock the loop uses, so a serial
link never carries two interleaved frames. Journal lines from that thread are queued and
written by the loop thread (:class:`OwnerThreadSink`).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from typing import Any

from actuators.base import Actuator, ActuatorError, Command, Heartbeating, Pollable, Reconnectable
from firmware_host.clock import Clock
from firmware_host.events import EventSink
from firmware_host.safety.alarms import AlarmManager
from firmware_host.safety.config import SafetyConfig
from firmware_host.safety.estop import EStopLatch
from firmware_host.safety.limits import CommandLimiter, Verdict
from firmware_host.safety.watchdog import DeviceWatchdog, StaleSignalWatchdog


class OwnerThreadSink:
    """An :class:`EventSink` wrapper that writes only from the thread that created it.

    Events emitted from another thread (the E-stop callback runs in gpiozero's thread on the
    Pi) are queued and written, in order, by the owner thread at its next ``emit`` or
    :meth:`flush` — the session journal is never touched from two threads. The actuators
    themselves are not delayed: only the journal lines are.
    """

    def __init__(self, sink: EventSink) -> None:
        self._sink = sink
        self._owner = threading.get_ident()
        self._queue: deque[tuple[str, dict[str, Any], int | None]] = deque()

    def emit(self, kind: str, payload: dict[str, Any], sample: int | None = None) -> None:
        """Write now from the owner thread; queue from any other thread."""
        if threading.get_ident() != self._owner:
            self._queue.append((kind, payload, sample))
            return
        self.flush()
        self._sink.emit(kind, payload, sample)

    def claim(self) -> None:
        """Make the calling thread the owner (the loop thread, when it starts)."""
        self._owner = threading.get_ident()

    def flush(self) -> None:
        """Write queued events (owner thread only; a no-op elsewhere)."""
        if threading.get_ident() != self._owner:
            return
        while self._queue:
            kind, payload, sample = self._queue.popleft()
            self._sink.emit(kind, payload, sample)

    @property
    def pending(self) -> int:
        """Events waiting for the owner thread."""
        return len(self._queue)


class SafetyLayer:
    """Bounds, slew limits, watchdogs, E-stop latch and alarms around a set of actuators.

    Parameters
    ----------
    config
        The ``[safety]`` section. It is frozen and kept privately: there is no setter, so
        nothing in the running process can loosen a limit.
    actuators
        Name -> driver. Every driver implements :class:`actuators.base.Actuator`;
        ``heartbeat()`` / ``poll_status()`` / ``reconnect()`` are used when present.
    sink
        The session journal.
    clock
        Time source (used when a caller has no ``now``, e.g. the E-stop callback).
    """

    def __init__(self, config: SafetyConfig, actuators: Mapping[str, Actuator],
                 sink: EventSink, clock: Clock) -> None:
        if not isinstance(config, SafetyConfig):
            raise TypeError(f"config must be a SafetyConfig, got {type(config).__name__}")
        self._cfg = config
        self._actuators: dict[str, Actuator] = dict(actuators)
        self._sink = OwnerThreadSink(sink)
        self._clock = clock
        now = clock.now()
        self._limiter = CommandLimiter(config, self._actuators, now)
        self.alarms = AlarmManager(self._sink)
        self._estop = EStopLatch()
        self._signal = StaleSignalWatchdog(config.stale_signal_s, config.resume_after_s)
        self._devices = {
            name: DeviceWatchdog(
                config.max_consecutive_faults, config.device_timeout_s, config.reconnect_after_s,
                expects_traffic=isinstance(act, Heartbeating), now=now,
            )
            for name, act in self._actuators.items()
        }
        self._pollable = {n for n, a in self._actuators.items() if isinstance(a, Pollable)}
        self._heartbeating = {n for n, a in self._actuators.items() if isinstance(a, Heartbeating)}
        self._hold: str | None = None
        self._hold_good_since: float | None = None
        self._last_heartbeat = dict.fromkeys(self._actuators, now)
        self._last_poll = dict.fromkeys(self._actuators, now)
        self.readback: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()
        for name in self._actuators:  # slew ramps start from where each device really is
            self._reseed(name, now)

    # ----------------------------------------------------------------- read-only views
    @property
    def config(self) -> SafetyConfig:
        """The enforced limits (a frozen dataclass; cannot be changed)."""
        return self._cfg

    @property
    def limiter(self) -> CommandLimiter:
        """The bounds / slew checker (read its state; do not bypass it)."""
        return self._limiter

    @property
    def estop_latched(self) -> bool:
        """Is the E-stop latched."""
        return self._estop.tripped

    @property
    def signal_stale(self) -> bool:
        """Is the stale-signal watchdog tripped."""
        return self._signal.stale

    @property
    def hold_reason(self) -> str | None:
        """Reason of the current software hold (from :meth:`safe_state`), if any."""
        return self._hold

    def claim_journal_thread(self) -> None:
        """The calling thread writes the journal from now on (the loop calls this as it starts,
        in case the run was built on another thread); other threads' lines are queued."""
        self._sink.claim()

    def answered(self) -> bool:
        """Has every device that is pinged answered at least once, and none is lost."""
        return all((d.answered or not d.expects_traffic) and not d.lost
                   for d in self._devices.values())

    def device_lost(self, name: str) -> bool:
        """Has device ``name`` been declared lost."""
        return self._devices[name].lost

    # ----------------------------------------------------------------- commands
    def submit(self, command: Command, now: float) -> Verdict:
        """Check ``command`` and send what is allowed; journal everything. Never raises
        for a device error (it becomes a ``fault`` event and counts toward device loss)."""
        with self._lock:
            blocked = self._blocked(getattr(command, "target", ""))
            if blocked is not None:
                verdict = Verdict(command, None, "refused", blocked)
                self._sink.emit("command", verdict.to_json() | {"t": now})
                return verdict
            verdict = self._limiter.check(command, now)
            if verdict.outcome == "queued":
                self._sink.emit("command", verdict.to_json() | {"t": now})
                return verdict
            if verdict.sent is None:
                self._sink.emit("command", verdict.to_json() | {"t": now})
                self.alarms.raise_alarm(
                    f"command_refused:{verdict.asked.target}", "low", verdict.reason, now
                )
                return verdict
            self._send(verdict, now)
            return verdict

    def _blocked(self, target: str) -> str | None:
        if self._estop.tripped:
            return f"E-stop latched ({self._estop.source}); reset_estop() required"
        if self._signal.stale:
            return "signal stale: every actuator held in its safe state"
        if self._hold is not None:
            return f"held in safe state: {self._hold}"
        dog = self._devices.get(target)
        if dog is not None and dog.lost:
            return f"{target} lost: held safe until it answers again"
        return None

    def _send(self, verdict: Verdict, now: float) -> None:
        sent = verdict.sent
        if sent is None:  # pragma: no cover - callers check
            raise ValueError("cannot send a refused verdict")
        name = sent.target
        self._sink.emit("command", verdict.to_json() | {"t": now})
        self._limiter.record(verdict, now)
        try:
            ack = self._actuators[name].apply(sent)
        except Exception as exc:  # noqa: BLE001 - any driver failure is a device fault
            self._fault(name, sent.action, exc, now)
            return
        self._devices[name].ok(now)
        self.alarms.clear(f"command_refused:{name}", now)
        payload: dict[str, Any] = {"target": name, "action": sent.action, "t": now}
        if sent.action == "stop":  # the device holds where it is: ramps restart from there
            payload["holding"] = self._reseed(name, now)
        if isinstance(ack, dict):
            payload |= {k: v for k, v in ack.items() if k not in payload}
        self._sink.emit("ack", payload)

    def _fault(self, name: str, what: str, exc: BaseException, now: float) -> None:
        kind = "device" if isinstance(exc, ActuatorError) else "driver bug"
        self._sink.emit("fault", {
            "target": name, "during": what, "kind": kind,
            "error": f"{type(exc).__name__}: {exc}", "t": now,
        })
        if self._devices[name].fault(now):
            self._lose(name, f"{self._devices[name].faults} failed exchanges in a row "
                             f"(last: {exc})", now)

    def _lose(self, name: str, why: str, now: float) -> None:
        self._safe_one(name, f"device lost: {why}", now)
        self.alarms.raise_alarm(f"device_lost:{name}", "high", f"{name}: {why}", now)

    def _safe_one(self, name: str, reason: str, now: float) -> None:
        """Send one actuator safe; never raises."""
        self._limiter.drop_ramps(name)
        act = self._actuators[name]
        ok = True
        try:
            act.safe_state()
        except Exception as exc:  # noqa: BLE001 - safe_state must never raise; record it
            ok = False
            self._sink.emit("fault", {"target": name, "during": "safe_state", "kind": "driver bug",
                                      "error": f"{type(exc).__name__}: {exc}", "t": now})
        holding = self._reseed(name, now)
        self._sink.emit("safe_state", {"target": name, "reason": reason, "ok": ok,
                                       "holding": holding, "t": now})

    def _reseed(self, name: str, now: float) -> dict[str, float]:
        """After a safe stop, restart slew ramps from where the device really is."""
        act = self._actuators[name]
        if not any(c.startswith(f"{name}.") for c in self._limiter.channels):
            return {}
        if self._devices[name].lost:
            return {}  # no fresh read-back: keep ramping from the last target sent
        try:
            status: Any = act.poll_status() if isinstance(act, Pollable) else act.status()
        except Exception:  # noqa: BLE001 - no fresh read-back; keep the last target
            return {}
        if isinstance(status, dict):
            self.readback[name] = status
            return self._limiter.seed_from_status(name, status, now)
        return {}

    # ----------------------------------------------------------------- safe states
    def safe_state(self, reason: str, now: float | None = None, *, hold: bool = True,
                   alarm: bool = True) -> None:
        """Every actuator to its safe state; never raises.

        With ``hold`` (default) commands are refused afterwards until the signal has been OK
        for ``resume_after_s`` (or :meth:`resume` is called); with ``alarm`` the hold is a
        medium-priority alarm (not for an orderly shutdown).
        """
        try:
            t = self._clock.now() if now is None else now
            with self._lock:
                if hold and self._hold is None:
                    self._hold = reason
                    self._hold_good_since = None
                    if alarm:
                        self.alarms.raise_alarm("held_safe", "medium", reason, t)
                for name in self._actuators:
                    self._safe_one(name, reason, t)
        except Exception:  # noqa: BLE001 # pragma: no cover - last line of defence
            for act in self._actuators.values():
                try:
                    act.safe_state()
                except Exception:  # noqa: BLE001
                    continue

    def resume(self, now: float) -> None:
        """End a software hold from :meth:`safe_state` now (E-stop and watchdogs unaffected)."""
        with self._lock:
            self._hold = None
            self.alarms.clear("held_safe", now)

    def trigger_estop(self, source: str = "E-stop button", now: float | None = None) -> None:
        """Latch the E-stop and send every actuator safe (callable from any thread)."""
        t = self._clock.now() if now is None else now
        if not self._estop.trip(source, t):
            return
        with self._lock:
            self.alarms.raise_alarm("estop", "high", f"E-stop pressed ({source})", t)
            for name in self._actuators:
                self._safe_one(name, f"E-stop: {source}", t)

    def reset_estop(self, now: float, *, button_pressed: bool = False) -> None:
        """Clear the E-stop latch (refused while the button is pressed).

        Raises
        ------
        firmware_host.safety.estop.EStopError
            When the button is still pressed.
        """
        with self._lock:
            self._estop.reset(button_pressed=button_pressed)
            self.alarms.clear("estop", now)

    # ----------------------------------------------------------------- supervision
    def tick(self, now: float, signal_ok: bool) -> None:
        """Watchdogs, heartbeats, status polls, reconnection and slew ramps."""
        with self._lock:
            self._sink.flush()
            self._watch_signal(now, signal_ok)
            for name in self._actuators:
                self._supervise(name, now)
            if self._estop.tripped or self._signal.stale or self._hold is not None:
                return
            for verdict in self._limiter.due(now):
                if self._blocked(verdict.asked.target) is None:
                    self._send(verdict, now)

    def _watch_signal(self, now: float, signal_ok: bool) -> None:
        change = self._signal.update(now, signal_ok)
        if change == "tripped":
            msg = f"no valid signal for {self._cfg.stale_signal_s:g} s (beyond the loop's limit)"
            self.alarms.raise_alarm("signal_stale", "medium", msg, now)
            for name in self._actuators:
                self._safe_one(name, f"stale signal: {msg}", now)
        elif change == "recovered":
            self.alarms.clear("signal_stale", now)
        if self._hold is not None:
            if not signal_ok:
                self._hold_good_since = None
            elif self._hold_good_since is None:
                self._hold_good_since = now
            if (self._hold_good_since is not None
                    and now - self._hold_good_since >= self._cfg.resume_after_s):
                self.resume(now)

    def _supervise(self, name: str, now: float) -> None:
        act, dog = self._actuators[name], self._devices[name]
        if dog.lost:
            if dog.reconnect_due(now):
                self._try_reconnect(name, now)
            return
        # The status poll goes first: its request is a frame too, so a driver that paces its
        # keep-alives (``heartbeat_s`` since the last frame sent) skips the heartbeat of the
        # same tick instead of sending two frames back to back.
        if name in self._pollable and now - self._last_poll[name] >= self._cfg.status_poll_s - 1e-9:
            self._last_poll[name] = now
            result = self._exchange(name, "poll_status", act.poll_status, now)
            if isinstance(result, dict):
                self.readback[name] = result
            elif dog.lost:
                return
        hb_due = now - self._last_heartbeat[name] >= self._cfg.heartbeat_interval_s - 1e-9
        if name in self._heartbeating and hb_due:
            self._last_heartbeat[name] = now
            if self._exchange(name, "heartbeat", act.heartbeat, now) is None and dog.lost:
                return
        if dog.silent(now):
            self._lose(name, f"no answer for {self._cfg.device_timeout_s:g} s", now)

    def _exchange(self, name: str, what: str, fn: Any, now: float) -> Any:
        try:
            result = fn()
            if result is False:  # heartbeat() reports failure by returning False
                raise ActuatorError(f"{name}: {what} not answered")
        except Exception as exc:  # noqa: BLE001 - a device fault, counted by the watchdog
            self._fault(name, what, exc, now)
            return None
        self._devices[name].ok(now)
        return result if result is not None else {}

    def _try_reconnect(self, name: str, now: float) -> None:
        act = self._actuators[name]
        try:
            if isinstance(act, Reconnectable):
                act.reconnect()
            if isinstance(act, Heartbeating):
                if act.heartbeat() is False:
                    raise ActuatorError(f"{name}: heartbeat not answered")
            else:
                act.status()
            act.safe_state()
        except Exception as exc:  # noqa: BLE001
            self._sink.emit("fault", {"target": name, "during": "reconnect", "kind": "device",
                                      "error": f"{type(exc).__name__}: {exc}", "t": now})
            return
        self._devices[name].recovered(now)
        self._limiter.drop_ramps(name)
        holding = self._reseed(name, now)  # it may have rebooted: ramps restart from read-back
        self.alarms.clear(f"device_lost:{name}", now)
        self._sink.emit("safe_state", {"target": name, "reason": "reconnected; holding safe state",
                                       "ok": True, "holding": holding, "t": now})

    # ----------------------------------------------------------------- status
    def led_mode(self) -> str:
        """Status-LED mode: the most urgent alarm, else ``safe`` while held, else ``running``."""
        top = self.alarms.highest()
        if top is not None:
            return f"alarm_{top}"
        held = (self._estop.tripped or self._signal.stale or self._hold is not None
                or any(d.lost for d in self._devices.values()))
        return "safe" if held else "running"

    def status(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot for the tuning console and tests."""
        return {
            "estop": self._estop.tripped,
            "signal_stale": self._signal.stale,
            "hold": self._hold,
            "devices": {
                n: {"lost": d.lost, "faults": d.faults, "readback": self.readback.get(n, {})}
                for n, d in self._devices.items()
            },
            "alarms": [a.__dict__.copy() for a in self.alarms.active],
            "ramps": self._limiter.pending,
            "led": self.led_mode(),
        }
