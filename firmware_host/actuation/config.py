"""``[actuators]``: which devices exist and how to reach them (serial ports, GPIO pins).

An empty serial ``port`` (the default) means "no hardware": :mod:`firmware_host.actuation.facade`
then starts the device simulator on a pseudo-terminal, so the default run still exercises
the real pyserial stack. GPIO devices use the named gpiozero pin factory (``"mock"`` by
default; ``"default"`` on the Pi).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from actuators.vocabulary import FINGERS, PIN_FACTORIES
from firmware_host.config.fields import setting

BAUDRATES = (9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)


def _sim_timeout_setting() -> Any:
    """``sim_timeout_s`` of a serial device (the same for every device; a fresh field each)."""
    return setting(
        0.25, min=0.001, max=2.0,
        doc="reply timeout with the simulator (port ''): it shares this CPU, so scheduling "
        "delays must not count as device faults",
    )


@dataclass(frozen=True)
class MattressPortConfig:
    """``[actuators.mattress]``: the smart-mattress controller on a serial port."""

    enabled: bool = setting(True, doc="drive a mattress (real or simulated)")
    port: str = setting("", doc="serial device, e.g. /dev/ttyUSB1; '' = simulator on a pty")
    baudrate: int = setting(115200, choices=BAUDRATES)
    timeout_s: float = setting(0.05, min=0.001, max=2.0, doc="reply timeout per attempt")
    retries: int = setting(3, min=0, max=10, doc="extra attempts after a timeout or bad reply")
    heartbeat_s: float = setting(0.5, min=0.05, max=10.0, doc="keep-alive interval")
    sim_timeout_s: float = _sim_timeout_setting()


@dataclass(frozen=True)
class HandPortConfig:
    """``[actuators.hand]``: the bionic hand on a serial port."""

    enabled: bool = setting(True, doc="drive a bionic hand (real or simulated)")
    port: str = setting("", doc="serial device, e.g. /dev/ttyACM0; '' = simulator on a pty")
    baudrate: int = setting(460800, choices=BAUDRATES)
    timeout_s: float = setting(0.02, min=0.001, max=2.0, doc="reply timeout per attempt")
    retries: int = setting(2, min=0, max=10, doc="extra attempts after a timeout or bad reply")
    heartbeat_s: float = setting(
        0.1, min=0.02, max=0.25, doc="keep-alive interval (the hand's watchdog is 300 ms)"
    )
    sim_timeout_s: float = _sim_timeout_setting()


@dataclass(frozen=True)
class GpioConfig:
    """``[actuators.gpio]``: devices on the Pi's GPIO header (BCM numbering; -1 / [] = none)."""

    pin_factory: str = setting("mock", choices=PIN_FACTORIES,
                               doc="gpiozero pin factory; 'mock' needs no hardware")
    status_led_pins: tuple[int, ...] = setting(
        (5, 6, 13), min=0, max=27, doc="[red, green, blue] or [single] pin of the status LED",
    )
    estop_pin: int = setting(26, min=-1, max=27, doc="E-stop button pin (-1 = none)")
    estop_normally_closed: bool = setting(
        False, doc="true for a normally-closed stop contact (a broken wire then trips it)",
    )
    vibration_pin: int = setting(-1, min=-1, max=27, doc="PWM vibration motor pin (-1 = none)")
    servo_hand_pins: tuple[int, ...] = setting(
        (), min=0, max=27, doc=f"one PWM pin per servo finger, in the order {', '.join(FINGERS)}; [] = none",
    )
    servo_min_pulse_s: float = setting(0.001, min=0.0002, max=0.003, doc="pulse for 'open'")
    servo_max_pulse_s: float = setting(0.002, min=0.0005, max=0.003, doc="pulse for 'closed'")
    servo_max_rate_pct_s: float = setting(
        200.0, min=1.0, max=1000.0, doc="finger travel at speed 1, % of full travel per second",
    )

    def __post_init__(self) -> None:
        if len(self.status_led_pins) not in (0, 1, 3):
            raise ValueError(
                f"actuators.gpio.status_led_pins needs 0, 1 or 3 pins, got {self.status_led_pins}"
            )
        if len(self.servo_hand_pins) > len(FINGERS):
            raise ValueError(
                f"actuators.gpio.servo_hand_pins allows at most {len(FINGERS)} pins "
                f"({', '.join(FINGERS)}), got {self.servo_hand_pins}"
            )
        if self.servo_min_pulse_s >= self.servo_max_pulse_s:
            raise ValueError("actuators.gpio.servo_min_pulse_s must be < servo_max_pulse_s")
        used = [*self.status_led_pins, *self.servo_hand_pins,
                *(p for p in (self.estop_pin, self.vibration_pin) if p >= 0)]
        dup = sorted({p for p in used if used.count(p) > 1})
        if dup:
            raise ValueError(f"actuators.gpio: pins used twice: {dup}")


@dataclass(frozen=True)
class ActuatorsConfig:
    """``[actuators]``: the devices somnoloop drives."""

    mattress: MattressPortConfig = setting(factory=MattressPortConfig)
    hand: HandPortConfig = setting(factory=HandPortConfig)
    gpio: GpioConfig = setting(factory=GpioConfig)
