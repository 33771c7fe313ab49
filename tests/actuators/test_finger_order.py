"""One finger order for every hand: a ``set_fingers`` list moves the same named fingers on the
serial hand (over a pty, read back from its simulator) and on the GPIO servo hand (pin duty
cycles), and a grip pattern closes the same fingers the same way on both.

Before the vocabulary was written once, the servo hand read positions as (thumb, index, …,
thumb_rotation) and the serial hand as (thumb_flex, thumb_rot, index, …): these tests fail
on that code.
"""

from __future__ import annotations

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from actuators import hand_protocol as hp
from actuators.base import Command
from actuators.gpio_devices import SERVO_GRIP_CLOSURE, ServoHand
from actuators.vocabulary import FINGERS, GRIP_PATTERNS
from firmware_host.clock import FakeClock
from tests.actuators.helpers import run_for

PINS = (5, 6, 12, 13, 19, 26)


@pytest.fixture
def servo_hand():
    factory = MockFactory(pin_class=MockPWMPin)
    hand = ServoHand(PINS, factory, max_rate_pct_s=1000.0)
    hand.update(0.0)
    yield hand, factory
    hand.close()
    factory.reset()


def _servo_closure(factory: MockFactory, pin: int) -> float:
    """% closed of the servo on ``pin``, from its duty cycle (1 ms open … 2 ms closed at 50 Hz)."""
    return (factory.pin(pin).state - 0.05) / 0.05 * 100


@pytest.mark.parametrize("finger", FINGERS)
def test_set_fingers_moves_the_same_named_finger_on_both_hands(make_rig, servo_hand, finger):
    positions = [0.0] * len(FINGERS)
    positions[FINGERS.index(finger)] = 80.0
    command = {"positions": positions, "speed": 1.0, "force": 0.5}

    clock = FakeClock()
    sim, drv = make_rig("hand", clock)
    drv.apply(Command("hand", "set_fingers", command))
    run_for(clock, drv, 1.0, 0.05)
    serial = dict(zip(FINGERS, sim.state["positions"], strict=True))

    hand, factory = servo_hand
    hand.apply(Command("servo_hand", "set_fingers", command))
    hand.update(1.0)
    servo = {name: _servo_closure(factory, pin) for name, pin in zip(FINGERS, PINS, strict=True)}

    for name in FINGERS:
        want = 80.0 if name == finger else 0.0
        # the simulated hand holds a ball at 40 % on every finger but the thumb rotation
        stop = 40.0 if name != "thumb_rot" else None
        assert serial[name] == pytest.approx(min(want, stop) if stop is not None else want, abs=0.5)
        assert servo[name] == pytest.approx(want, abs=0.5), name


def test_grip_patterns_close_the_same_fingers_on_both_hands():
    assert tuple(SERVO_GRIP_CLOSURE) == GRIP_PATTERNS == tuple(hp.GRIP_TARGETS)
    for pattern in GRIP_PATTERNS:
        serial, servo = hp.GRIP_TARGETS[pattern], SERVO_GRIP_CLOSURE[pattern]
        for name, a, b in zip(FINGERS, serial, servo, strict=True):
            assert (a > 0) == (b > 0), f"{pattern}: {name} closes on one hand only"
