"""Actuation: programme -> safety layer -> drivers, built from config; what the loop calls.

:meth:`Actuation.from_config` builds the serial drivers (real ports, or device simulators
on ptys when a port is ``""``), the GPIO devices (servo hand, vibration motor, status LED,
E-stop button) on the configured pin factory, the :class:`~firmware_host.safety.SafetyLayer`
around all of them and the programme :class:`~firmware_host.programme.Engine` in front.

The loop calls :meth:`Actuation.on_decisions` with each batch of decisions and
:meth:`Actuation.tick` every iteration; :meth:`Actuation.safe_state` on any trouble and
:meth:`Actuation.close` at the end. ``close`` also runs at interpreter exit (``atexit``), so
an unhandled exception or a SIGTERM that ends the process still leaves every actuator safe.

The ``[safety]`` section cannot be changed while running: it is frozen, copied into the
safety layer once, and this class offers no way to replace it; only the programme can be
swapped (:meth:`Actuation.update_programme`, for the tuning console).
"""

from __future__ import annotations

import atexit
import contextlib
from typing import Any

from actuators.base import Actuator, ActuatorError, Stepped
from firmware_host.actuation.kinds import BuildContext, configured_kinds
from firmware_host.clock import Clock
from firmware_host.config import Config
from firmware_host.decision import Decision
from firmware_host.events import EventSink
from firmware_host.programme import Engine, ProgrammeConfig, night_start_of
from firmware_host.safety import AlarmManager, SafetyConfig, SafetyLayer
from firmware_host.safety.estop import EStopError


class Actuation:
    """The actuation side of the loop.

    Parameters
    ----------
    actuators
        Name -> driver (``"mattress"``, ``"hand"``, ``"servo_hand"``, ``"vibration"``).
    safety
        ``[safety]`` section.
    programme
        ``[programme]`` section (the rules the programme engine runs).
    clock
        The run's clock.
    sink
        The session journal.
    led
        Optional :class:`actuators.gpio_devices.StatusLed`.
    estop_button
        Optional :class:`actuators.gpio_devices.EStopButton` (its trip callback is wired
        here).
    simulators
        Device simulators started for this run (stopped by :meth:`close`).
    """

    def __init__(self, actuators: dict[str, Actuator], safety: SafetyConfig,
                 programme: ProgrammeConfig, clock: Clock, sink: EventSink, *, led: Any = None,
                 estop_button: Any = None, simulators: list[Any] | None = None) -> None:
        self.clock = clock
        self.sink = sink
        self.actuators = dict(actuators)
        self._stepped = [a for a in self.actuators.values() if isinstance(a, Stepped)]
        self.safety = SafetyLayer(safety, self.actuators, sink, clock)
        self.programme = Engine(programme, tuple(self.actuators), sink,
                                night_start_s=night_start_of(programme, clock))
        self.led = led
        self.estop_button = estop_button
        self.simulators = list(simulators or [])
        self._closed = False
        #: Configured actuators that could not be opened: name -> why (loud at start).
        self.unavailable: dict[str, str] = {}
        #: gpiozero pin factory of the GPIO devices (a ``MockFactory`` without hardware).
        self.pin_factory: Any = None
        if estop_button is not None:
            estop_button.on_trip = self._on_estop
        atexit.register(self._at_exit)
        self.programme.start(clock.now())
        self._show(clock.now())

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_config(cls, cfg: Config, clock: Clock, sink: EventSink) -> Actuation:
        """Build drivers, simulators, GPIO devices, safety layer and programme from ``cfg``.

        A serial device whose port cannot be opened is left out (``fault`` event and a
        high-priority ``device_unavailable`` alarm) so the night's recording still runs.

        Raises
        ------
        ActuatorError
            When the GPIO pin factory cannot be used on this machine.
        """
        from actuators import gpio_devices as gd

        acfg = cfg.actuators
        actuators: dict[str, Actuator] = {}
        unavailable: list[tuple[str, str]] = []
        led = button = None
        ctx = BuildContext(clock)
        try:
            g = acfg.gpio
            ctx.pin_factory = factory = gd.make_pin_factory(g.pin_factory)
            for kind in configured_kinds(acfg):
                try:
                    actuators[kind.name] = kind.build(acfg, ctx)
                except (ActuatorError, OSError) as exc:
                    if kind.bus != "serial":
                        raise
                    unavailable.append((kind.name, f"{type(exc).__name__}: {exc}"))
            if g.status_led_pins:
                led = gd.StatusLed(g.status_led_pins, factory)
            if g.estop_pin >= 0:
                button = gd.EStopButton(g.estop_pin, factory,
                                        normally_closed=g.estop_normally_closed)
            act = cls(actuators, cfg.safety, cfg.programme, clock, sink, led=led,
                       estop_button=button, simulators=ctx.simulators)
        except BaseException:
            for obj in [*actuators.values(), led, button]:
                if obj is not None:
                    with contextlib.suppress(Exception):
                        obj.close()
            for sim in ctx.simulators:
                with contextlib.suppress(Exception):
                    sim.stop()
            raise
        act.pin_factory = factory
        now = clock.now()
        act.unavailable = dict(unavailable)
        for name, why in unavailable:
            sink.emit("fault", {"target": name, "during": "open", "kind": "device",
                                "error": why, "t": now})
            act.safety.alarms.raise_alarm(f"device_unavailable:{name}", "high",
                                           f"{name} could not be opened: {why}", now)
        sink.emit("config", {"actuation": {
            "actuators": sorted(actuators),
            "simulated": [type(s).__name__ for s in ctx.simulators],
            "pin_factory": acfg.gpio.pin_factory,
            "estop": button is not None,
        }})
        act._show(now)
        return act

    # ----------------------------------------------------------------- loop interface
    def on_decisions(self, decisions: list[Decision], now: float) -> None:
        """Turn decisions into commands (programme) and pass them through the safety layer."""
        if self._closed:
            return
        for command in self.programme.decide(list(decisions), now):
            verdict = self.safety.submit(command, now)
            if verdict.outcome == "refused":
                self.programme.forget(command.target)  # ask again once allowed

    def tick(self, now: float, signal_ok: bool) -> None:
        """E-stop check, watchdogs, heartbeats, status polls, slew ramps, GPIO timing, LED."""
        if self._closed:
            return
        if self.estop_button is not None and self.estop_button.poll():
            self.safety.trigger_estop("E-stop button", now)
        self.safety.tick(now, signal_ok)
        for act in self._stepped:
            act.update(now)
        self._show(now)

    @property
    def alarms(self) -> AlarmManager:
        """The run's alarms (shown on the status LED); the loop raises its own here too."""
        return self.safety.alarms

    def claim_loop_thread(self) -> None:
        """The calling thread is the loop's: it writes the safety layer's journal lines."""
        self.safety.claim_journal_thread()

    def answered(self) -> bool:
        """Every configured actuator was opened and has answered (readiness)."""
        return not self.unavailable and self.safety.answered()

    def safe_state(self, reason: str, *, alarm: bool = True) -> None:
        """Every actuator to its safe state and hold; never raises.

        ``alarm=False`` for an orderly shutdown (no medium-priority alarm).
        """
        try:
            self.safety.safe_state(reason, alarm=alarm)
            self._show(self.clock.now())
        except Exception:  # noqa: BLE001 - the safe path never raises
            for act in self.actuators.values():
                with contextlib.suppress(Exception):
                    act.safe_state()

    def reset_estop(self, now: float | None = None) -> None:
        """Clear a latched E-stop after the button is released (an explicit human act).

        Raises
        ------
        EStopError
            While the button is still pressed.
        """
        t = self.clock.now() if now is None else now
        pressed = self.estop_button is not None and self.estop_button.pressed
        if pressed:
            raise EStopError("E-stop button is still pressed; release it before resetting")
        if self.estop_button is not None:
            self.estop_button.reset()
        self.safety.reset_estop(t)
        self.sink.emit("annotation", {"text": "E-stop reset", "t": t})
        self._show(t)

    def update_programme(self, programme: ProgrammeConfig) -> None:
        """Replace the programme rules (the tuning console may; safety limits stay).

        Raises
        ------
        TypeError
            For anything but a :class:`ProgrammeConfig` (e.g. an attempt to pass safety limits).
        """
        if not isinstance(programme, ProgrammeConfig):
            raise TypeError(f"update_programme takes a ProgrammeConfig, got {type(programme).__name__}")
        self.programme.reconfigure(programme)

    def status(self) -> dict[str, Any]:
        """Snapshot for the tuning console: safety state, read-back, LED mode."""
        out = self.safety.status()
        out["actuators"] = {}
        for name, act in self.actuators.items():
            try:
                out["actuators"][name] = act.status()
            except Exception as exc:  # noqa: BLE001
                out["actuators"][name] = {"error": str(exc)}
        return out

    def close(self) -> None:
        """Safe state, close drivers and GPIO devices, stop simulators. Idempotent."""
        if self._closed:
            return
        self.safe_state("shutdown", alarm=False)
        self._closed = True
        with contextlib.suppress(Exception):
            atexit.unregister(self._at_exit)
        for obj in [*self.actuators.values(), self.estop_button, self.led]:
            if obj is not None:
                with contextlib.suppress(Exception):
                    obj.close()
        for sim in self.simulators:
            with contextlib.suppress(Exception):
                sim.stop()

    def __enter__(self) -> Actuation:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc is not None:
            self.safe_state(f"exception: {type(exc).__name__}: {exc}")
        self.close()

    # ----------------------------------------------------------------- internals
    def _on_estop(self) -> None:
        self.safety.trigger_estop("E-stop button")
        with contextlib.suppress(Exception):
            self._show(self.clock.now())

    def _at_exit(self) -> None:
        with contextlib.suppress(Exception):
            self.safe_state("process exit")
            self.close()

    def _show(self, now: float) -> None:
        if self.led is not None and not self._closed:
            with contextlib.suppress(Exception):
                self.led.set_mode(self.safety.led_mode(), now)

