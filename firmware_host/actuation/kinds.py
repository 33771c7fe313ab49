"""The device-kind table: one entry per kind of actuator somnoloop can drive.

Adding an actuator kind is one :class:`DeviceKind` entry here (how to tell it is configured,
how to build it, what its safe state is) plus its limits in :mod:`firmware_host.safety`.
:meth:`firmware_host.actuation.facade.Actuation.from_config` and dry actuation both build
from this table, in its order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from actuators.base import Actuator
from firmware_host.actuation.config import ActuatorsConfig
from firmware_host.clock import Clock


@dataclass
class BuildContext:
    """What building a device may need and what it leaves to clean up."""

    clock: Clock
    pin_factory: Any = None
    #: Device simulators started for serial devices without a port (stopped at close).
    simulators: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class DeviceKind:
    """One kind of actuator.

    Parameters
    ----------
    name
        Actuator name used in commands, limits, journal and programme rules.
    bus
        ``"serial"`` (a port, or a simulator on a pty) or ``"gpio"`` (a pin factory).
    configured
        Whether ``[actuators]`` asks for this device.
    build
        Builds the driver; raises ``ActuatorError``/``OSError`` when the device cannot be
        opened (the device is then left out, loudly).
    safe_state
        What the device does in its safe state (documentation, shown by ``doctor``).
    """

    name: str
    bus: str
    configured: Callable[[ActuatorsConfig], bool]
    build: Callable[[ActuatorsConfig, BuildContext], Actuator]
    safe_state: str


def _serial(name: str) -> Callable[[ActuatorsConfig, BuildContext], Actuator]:
    def build(acfg: ActuatorsConfig, ctx: BuildContext) -> Actuator:
        port_cfg = getattr(acfg, name)
        port, timeout_s = port_cfg.port, port_cfg.timeout_s
        if not port:
            from actuators.simulators import spawn_simulator

            sim, port = spawn_simulator(name, clock=ctx.clock)
            ctx.simulators.append(sim)
            timeout_s = port_cfg.sim_timeout_s
        kw = {"baudrate": port_cfg.baudrate, "timeout_s": timeout_s, "retries": port_cfg.retries,
              "heartbeat_s": port_cfg.heartbeat_s, "clock": ctx.clock}
        if name == "mattress":
            from actuators.mattress import MattressDriver

            return MattressDriver(port, **kw)
        from actuators.hand import HandDriver

        return HandDriver(port, **kw)
    return build


def _servo_hand(acfg: ActuatorsConfig, ctx: BuildContext) -> Actuator:
    from actuators.gpio_devices import ServoHand

    g = acfg.gpio
    return ServoHand(g.servo_hand_pins, ctx.pin_factory, min_pulse_s=g.servo_min_pulse_s,
                     max_pulse_s=g.servo_max_pulse_s, max_rate_pct_s=g.servo_max_rate_pct_s)


def _vibration(acfg: ActuatorsConfig, ctx: BuildContext) -> Actuator:
    from actuators.gpio_devices import VibrationMotor

    return VibrationMotor(acfg.gpio.vibration_pin, ctx.pin_factory)


KINDS: tuple[DeviceKind, ...] = (
    DeviceKind("mattress", "serial", lambda a: a.mattress.enabled, _serial("mattress"),
               "motors stop and hold their current angle (no return to flat), vibration off, "
               "heating off"),
    DeviceKind("hand", "serial", lambda a: a.hand.enabled, _serial("hand"),
               "every finger stops where it is and keeps its grip force; never opens suddenly, "
               "never closes further"),
    DeviceKind("servo_hand", "gpio", lambda a: bool(a.gpio.servo_hand_pins), _servo_hand,
               "holds the current finger positions"),
    DeviceKind("vibration", "gpio", lambda a: a.gpio.vibration_pin >= 0, _vibration, "motor off"),
)

#: Actuator names, in table order (the vocabulary of ``target`` in commands and rules).
ACTUATOR_NAMES: tuple[str, ...] = tuple(k.name for k in KINDS)


def configured_kinds(acfg: ActuatorsConfig) -> list[DeviceKind]:
    """The kinds ``[actuators]`` asks for, in table order."""
    return [k for k in KINDS if k.configured(acfg)]
