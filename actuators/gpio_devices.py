"""GPIO devices through gpiozero: PWM servo hand, PWM vibration motor, status LED, E-stop button.

This is the only module of somnoloop that imports gpiozero. Every device takes a gpiozero
pin factory, so the same code drives the Raspberry Pi's pins on the device and
``gpiozero.pins.mock.MockFactory(pin_class=MockPWMPin)`` in tests, where the pin state
histories are what the tests check.

Time-dependent behaviour (servo speed, vibration patterns, LED blink codes) is computed
from an explicit ``now`` passed to :meth:`update`, never from background threads, so it is
deterministic under a fake clock.

Safe states (documented per device, reached by ``safe_state()``, idempotent, never raises):

* :class:`ServoHand` — stops moving and holds the current finger positions: it never opens
  suddenly (an object in the hand stays held) and never closes further.
* :class:`VibrationMotor` — off (duty 0).
* :class:`StatusLed` — shows the "safe" code (it is an indicator, not an actuator).
* :class:`EStopButton` — an input; it has no safe state of its own, it *causes* one.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from typing import Any

from gpiozero import LED, RGBLED, Button, PWMOutputDevice, Servo

from actuators.base import ActuatorError, Command
from actuators.params import ParamError, number
from actuators.vocabulary import FINGERS, GRIP_PATTERNS, PIN_FACTORIES

#: Grip pattern → closure of each servo finger (0 = open, 100 = fully closed) at force 1,
#: in :data:`~actuators.vocabulary.FINGERS` order (thumb flexion, thumb rotation, index,
#: middle, ring, little).
SERVO_GRIP_CLOSURE: dict[str, tuple[float, ...]] = {
    "open": (0, 0, 0, 0, 0, 0),
    "power": (100, 60, 100, 100, 100, 100),
    "pinch": (90, 100, 90, 0, 0, 0),
    "tripod": (90, 100, 90, 90, 0, 0),
    "key": (100, 0, 80, 100, 100, 100),
    "point": (100, 60, 0, 100, 100, 100),
}


def make_pin_factory(name: str) -> Any:
    """Build a gpiozero pin factory by name.

    Parameters
    ----------
    name
        ``"mock"`` (``MockFactory`` with PWM-capable mock pins, no hardware),
        ``"default"`` (gpiozero's own choice on the Pi; returns ``None``), or one of
        ``"lgpio"``, ``"rpigpio"``, ``"pigpio"``, ``"native"``.

    Raises
    ------
    ValueError
        For an unknown name, listing the allowed ones.
    ActuatorError
        When the named factory cannot be loaded on this machine.
    """
    if name not in PIN_FACTORIES:
        raise ValueError(f"unknown GPIO pin factory {name!r}; allowed: {list(PIN_FACTORIES)}")
    if name == "default":
        return None
    try:
        if name == "mock":
            from gpiozero.pins.mock import MockFactory, MockPWMPin

            return MockFactory(pin_class=MockPWMPin)
        if name == "lgpio":
            from gpiozero.pins.lgpio import LGPIOFactory

            return LGPIOFactory()
        if name == "rpigpio":
            from gpiozero.pins.rpigpio import RPiGPIOFactory

            return RPiGPIOFactory()
        if name == "pigpio":
            from gpiozero.pins.pigpio import PiGPIOFactory

            return PiGPIOFactory()
        from gpiozero.pins.native import NativeFactory

        return NativeFactory()
    except Exception as exc:  # gpiozero raises many types when a library/chip is missing
        raise ActuatorError(f"GPIO pin factory {name!r} is not usable here: {exc}") from exc


def _number(params: dict[str, Any], key: str, lo: float, hi: float, device: str) -> float:
    try:
        return number(params, key, lo=lo, hi=hi)
    except ParamError as exc:
        raise ActuatorError(f"{device}: {exc}") from None


class ServoHand:
    """A low-cost 3D-printed hand with one hobby servo per finger on PWM pins.

    Positions are 0 (open) … 100 (closed) per finger; a position maps linearly onto the
    servo's value -1 … 1 (pulse ``min_pulse_s`` … ``max_pulse_s`` at 50 Hz). Fingers move
    toward their targets at ``speed × max_rate_pct_s`` %/s, stepped in :meth:`update`.

    Safe state: stop moving and hold the current positions — never open suddenly (the
    wearer may be holding something) and never close further.

    Parameters
    ----------
    pins
        One GPIO pin per finger in the order of :data:`FINGERS` (1 to 6 pins).
    pin_factory
        gpiozero pin factory (``None`` = gpiozero's default).
    name
        Actuator name commands are addressed to.
    min_pulse_s, max_pulse_s
        Servo pulse widths for fully open and fully closed.
    max_rate_pct_s
        Finger travel rate at ``speed = 1``, in % of full travel per second.
    """

    def __init__(
        self,
        pins: Sequence[int],
        pin_factory: Any = None,
        *,
        name: str = "servo_hand",
        min_pulse_s: float = 0.001,
        max_pulse_s: float = 0.002,
        max_rate_pct_s: float = 200.0,
    ) -> None:
        if not 1 <= len(pins) <= len(FINGERS):
            raise ValueError(f"servo hand needs 1 to {len(FINGERS)} pins, got {len(pins)}")
        if not 0 < min_pulse_s < max_pulse_s < 0.02:
            raise ValueError(
                f"servo pulses must satisfy 0 < min ({min_pulse_s}) < max ({max_pulse_s}) < 0.02 s"
            )
        self.name = name
        self.max_rate_pct_s = float(max_rate_pct_s)
        self._servos = [
            Servo(
                p,
                initial_value=-1.0,
                min_pulse_width=min_pulse_s,
                max_pulse_width=max_pulse_s,
                pin_factory=pin_factory,
            )
            for p in pins
        ]
        n = len(self._servos)
        self._pos = [0.0] * n
        self._target = [0.0] * n
        self._rate = 0.0
        self._last_update: float | None = None
        self._closed = False

    @property
    def positions(self) -> list[float]:
        """Current finger positions (0 … 100)."""
        return list(self._pos)

    def apply(self, command: Command) -> dict[str, Any]:
        """Set new finger targets: ``grip`` {pattern, force, speed}, ``set_fingers``, ``stop``.

        Raises
        ------
        ActuatorError
            For an unknown action or pattern, or a parameter out of range.
        """
        if self._closed:
            raise ActuatorError(f"{self.name}: device is closed")
        n = len(self._servos)
        p = command.params
        if command.action == "grip":
            pattern = p.get("pattern")
            if pattern not in GRIP_PATTERNS:
                raise ActuatorError(
                    f"{self.name}: unknown grip pattern {pattern!r}; allowed: {list(GRIP_PATTERNS)}"
                )
            force = _number(p, "force", 0.0, 1.0, self.name)
            speed = _number(p, "speed", 0.0, 1.0, self.name)
            self._target = [SERVO_GRIP_CLOSURE[pattern][i] * force for i in range(n)]
            self._rate = speed * self.max_rate_pct_s
        elif command.action == "set_fingers":
            positions = p.get("positions")
            if not isinstance(positions, list | tuple) or len(positions) != n:
                raise ActuatorError(f"{self.name}: positions must be a list of {n} numbers")
            for i, v in enumerate(positions):
                _number({"pos": v}, "pos", 0.0, 100.0, f"{self.name} finger {i}")
            self._target = [float(v) for v in positions]
            self._rate = _number(p, "speed", 0.0, 1.0, self.name) * self.max_rate_pct_s
        elif command.action == "stop":
            self._target = list(self._pos)
        else:
            raise ActuatorError(
                f"{self.name}: unknown action {command.action!r}; allowed: grip, set_fingers, stop"
            )
        return {"device": self.name, "targets": list(self._target)}

    def update(self, now: float) -> None:
        """Move each finger toward its target by at most ``rate × elapsed`` and drive the servo."""
        if self._closed:
            return
        dt = 0.0 if self._last_update is None else max(0.0, now - self._last_update)
        self._last_update = now
        step = self._rate * dt
        for i, servo in enumerate(self._servos):
            delta = self._target[i] - self._pos[i]
            self._pos[i] += max(-step, min(step, delta))
            servo.value = self._pos[i] / 50.0 - 1.0

    def safe_state(self) -> None:
        """Hold the current positions (stop moving; no opening, no further closing)."""
        try:
            self._target = list(self._pos)
            self._rate = 0.0
        except Exception:  # pragma: no cover - never raise from a safe path
            pass

    def status(self) -> dict[str, Any]:
        """Positions, targets and pulse widths."""
        return {
            "positions": list(self._pos),
            "targets": list(self._target),
            "moving": any(abs(t - p) > 1e-9 for t, p in zip(self._target, self._pos, strict=True)),
            "closed": self._closed,
        }

    def close(self) -> None:
        """Go safe, then release the pins (the servos keep no pulse afterwards)."""
        self.safe_state()
        if self._closed:
            return
        self._closed = True
        for servo in self._servos:
            with contextlib.suppress(Exception):
                servo.close()


class VibrationMotor:
    """An eccentric-mass vibration motor on a PWM pin (through a transistor driver).

    ``set_vibration`` {"intensity": 0..100, "pattern": off|continuous|pulse|wave}; the
    duty cycle is recomputed in :meth:`update` (pulse: 0.5 s on / 0.5 s off; wave: a
    0.2 Hz swell). Safe state: off.

    Parameters
    ----------
    pin
        GPIO pin.
    pin_factory
        gpiozero pin factory (``None`` = default).
    name
        Actuator name.
    frequency
        PWM frequency in Hz.
    """

    PATTERNS = ("off", "continuous", "pulse", "wave")

    def __init__(
        self, pin: int, pin_factory: Any = None, *, name: str = "vibration", frequency: int = 200
    ) -> None:
        self.name = name
        self._dev = PWMOutputDevice(pin, frequency=frequency, pin_factory=pin_factory)
        self._intensity = 0.0
        self._pattern = "off"
        self._t0 = 0.0
        self._now = 0.0
        self._closed = False

    @staticmethod
    def duty(pattern: str, intensity: float, t: float) -> float:
        """Duty cycle (0 … 1) of ``pattern`` at ``intensity`` (0 … 100), ``t`` s into it."""
        level = intensity / 100.0
        if pattern == "continuous":
            return level
        if pattern == "pulse":
            return level if (t % 1.0) < 0.5 else 0.0
        if pattern == "wave":
            return level * 0.5 * (1.0 - math.cos(2.0 * math.pi * 0.2 * t))
        return 0.0

    def apply(self, command: Command) -> dict[str, Any]:
        """Set intensity and pattern (``set_vibration``) or turn off (``stop``).

        Raises
        ------
        ActuatorError
            For an unknown action or pattern, or an intensity outside 0 … 100.
        """
        if self._closed:
            raise ActuatorError(f"{self.name}: device is closed")
        if command.action == "stop":
            self.safe_state()
            return {"device": self.name, "duty": 0.0}
        if command.action != "set_vibration":
            raise ActuatorError(
                f"{self.name}: unknown action {command.action!r}; allowed: set_vibration, stop"
            )
        pattern = command.params.get("pattern", "continuous")
        if pattern not in self.PATTERNS:
            raise ActuatorError(
                f"{self.name}: unknown pattern {pattern!r}; allowed: {list(self.PATTERNS)}"
            )
        self._intensity = _number(command.params, "intensity", 0.0, 100.0, self.name)
        self._pattern = pattern
        self._t0 = self._now
        self._dev.value = self.duty(pattern, self._intensity, 0.0)
        return {"device": self.name, "duty": self._dev.value}

    def update(self, now: float) -> None:
        """Recompute the duty cycle of the running pattern at time ``now``."""
        self._now = now
        if self._closed:
            return
        self._dev.value = self.duty(self._pattern, self._intensity, now - self._t0)

    def safe_state(self) -> None:
        """Motor off."""
        try:
            self._pattern = "off"
            self._intensity = 0.0
            if not self._closed:
                self._dev.value = 0.0
        except Exception:  # pragma: no cover - never raise from a safe path
            pass

    def status(self) -> dict[str, Any]:
        """Pattern, intensity and current duty."""
        duty = 0.0 if self._closed else float(self._dev.value)
        return {"pattern": self._pattern, "intensity": self._intensity, "duty": duty}

    def close(self) -> None:
        """Off, then release the pin."""
        self.safe_state()
        if not self._closed:
            self._closed = True
            with contextlib.suppress(Exception):
                self._dev.close()


#: Status LED modes, most urgent first.
LED_MODES = ("alarm_high", "alarm_medium", "alarm_low", "safe", "running", "off")

_RED, _YELLOW, _CYAN, _GREEN, _BLUE, _DARK = (
    (1, 0, 0), (1, 1, 0), (0, 1, 1), (0, 1, 0), (0, 0, 1), (0, 0, 0),
)


def led_colour(mode: str, t: float) -> tuple[int, int, int]:
    """Colour of an RGB status LED in ``mode`` at time ``t`` (seconds).

    Follows the visual alarm signals of IEC 60601-1-8 (table 2): high priority red flashing
    at 2 Hz (50 % duty, inside 1.4–2.8 Hz), medium priority yellow flashing at 0.5 Hz
    (inside 0.4–0.8 Hz), low priority cyan constant. No alarm: ``safe`` is blue constant,
    ``running`` is green constant.

    Raises
    ------
    ValueError
        For an unknown mode.
    """
    if mode == "alarm_high":
        return _RED if (t % 0.5) < 0.25 else _DARK
    if mode == "alarm_medium":
        return _YELLOW if (t % 2.0) < 1.0 else _DARK
    if mode == "alarm_low":
        return _CYAN
    if mode == "safe":
        return _BLUE
    if mode == "running":
        return _GREEN
    if mode == "off":
        return _DARK
    raise ValueError(f"unknown LED mode {mode!r}; allowed: {list(LED_MODES)}")


def led_blink(mode: str, t: float) -> int:
    """On/off of a single-colour status LED in ``mode`` at time ``t`` (blink codes).

    ``alarm_high``: 2 Hz flashing; ``alarm_medium``: 0.5 Hz flashing; ``alarm_low``: two
    short blinks every 2 s; ``safe``: constant on; ``running``: a 0.1 s blip every 2 s;
    ``off``: off.

    Raises
    ------
    ValueError
        For an unknown mode.
    """
    if mode == "alarm_high":
        return int((t % 0.5) < 0.25)
    if mode == "alarm_medium":
        return int((t % 2.0) < 1.0)
    if mode == "alarm_low":
        phase = t % 2.0
        return int(phase < 0.15 or 0.3 <= phase < 0.45)
    if mode == "safe":
        return 1
    if mode == "running":
        return int((t % 2.0) < 0.1)
    if mode == "off":
        return 0
    raise ValueError(f"unknown LED mode {mode!r}; allowed: {list(LED_MODES)}")


class StatusLed:
    """The status indicator: an RGB LED (three pins) or a single LED with blink codes.

    Parameters
    ----------
    pins
        Three pins (red, green, blue) for an RGB LED, or one pin for a single LED.
    pin_factory
        gpiozero pin factory (``None`` = default).
    """

    def __init__(self, pins: Sequence[int], pin_factory: Any = None) -> None:
        if len(pins) == 3:
            self._dev: Any = RGBLED(*pins, pwm=False, pin_factory=pin_factory)
            self.rgb = True
        elif len(pins) == 1:
            self._dev = LED(pins[0], pin_factory=pin_factory)
            self.rgb = False
        else:
            raise ValueError(f"status LED needs 3 pins (RGB) or 1 pin, got {len(pins)}")
        self.mode = "off"
        self._closed = False

    def set_mode(self, mode: str, now: float) -> None:
        """Switch to ``mode`` (one of :data:`LED_MODES`) and show it at time ``now``."""
        if mode not in LED_MODES:
            raise ValueError(f"unknown LED mode {mode!r}; allowed: {list(LED_MODES)}")
        self.mode = mode
        self.update(now)

    def update(self, now: float) -> None:
        """Drive the pins for the current mode at time ``now``."""
        if self._closed:
            return
        if self.rgb:
            colour = led_colour(self.mode, now)
            if tuple(self._dev.value) != colour:
                self._dev.value = colour
        else:
            on = led_blink(self.mode, now)
            if self._dev.value != on:
                self._dev.value = on

    def close(self) -> None:
        """Release the pins."""
        if not self._closed:
            self._closed = True
            with contextlib.suppress(Exception):
                self._dev.close()


class EStopButton:
    """The emergency-stop button; a press latches until :meth:`reset`.

    A press is seen twice: by a gpiozero edge callback (immediate; on the Pi it runs in
    gpiozero's thread) and by :meth:`poll` (level check from the main loop, which also
    catches a missed edge). Either sets the latch and calls ``on_trip``.

    Parameters
    ----------
    pin
        GPIO pin.
    pin_factory
        gpiozero pin factory (``None`` = default).
    normally_closed
        ``True`` for a normally-closed contact to ground (recommended: a broken wire
        trips the stop); ``False`` for a normally-open push button to ground.
    on_trip
        Called (with no arguments) when the stop trips; must not block for long.
    """

    def __init__(
        self,
        pin: int,
        pin_factory: Any = None,
        *,
        normally_closed: bool = False,
        on_trip: Callable[[], None] | None = None,
    ) -> None:
        self.normally_closed = normally_closed
        self.on_trip = on_trip
        self._button = Button(pin, pull_up=True, bounce_time=None, pin_factory=pin_factory)
        self._latched = False
        self._closed = False
        if normally_closed:
            self._button.when_released = self._edge
        else:
            self._button.when_pressed = self._edge

    @property
    def pressed(self) -> bool:
        """Is the button physically in its stop position right now."""
        if self._closed:
            return False
        closed_contact = self._button.is_pressed  # contact to ground is closed
        return not closed_contact if self.normally_closed else closed_contact

    @property
    def pin(self) -> Any:
        """The gpiozero pin object (a ``MockPin`` under ``MockFactory``: tests drive it)."""
        return self._button.pin

    @property
    def latched(self) -> bool:
        """Has the stop tripped since the last successful reset."""
        return self._latched

    def _edge(self) -> None:
        self._trip()

    def _trip(self) -> None:
        first = not self._latched
        self._latched = True
        if first and self.on_trip is not None:
            self.on_trip()

    def poll(self) -> bool:
        """Check the level (catches missed edges); return whether the stop is latched."""
        if self.pressed:
            self._trip()
        return self._latched

    def reset(self) -> None:
        """Clear the latch.

        Raises
        ------
        ActuatorError
            When the button is still in its stop position.
        """
        if self.pressed:
            raise ActuatorError("E-stop is still pressed; release it before resetting")
        self._latched = False

    def close(self) -> None:
        """Release the pin (stops gpiozero's hold thread)."""
        if not self._closed:
            self._closed = True
            with contextlib.suppress(Exception):
                self._button.close()
