"""GPIO devices against gpiozero's MockFactory: assertions on pin state histories."""

from __future__ import annotations

import threading

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from actuators.base import ActuatorError, Command
from actuators.gpio_devices import (
    EStopButton,
    ServoHand,
    StatusLed,
    VibrationMotor,
    led_blink,
    led_colour,
    make_pin_factory,
)


@pytest.fixture
def factory():
    f = MockFactory(pin_class=MockPWMPin)
    yield f
    f.reset()


def _states(factory, pin):
    return [s.state for s in factory.pin(pin).states]


def test_make_pin_factory_mock_and_errors():
    f = make_pin_factory("mock")
    assert isinstance(f, MockFactory)
    assert make_pin_factory("default") is None
    with pytest.raises(ValueError, match="allowed"):
        make_pin_factory("bogus")


def test_servo_hand_moves_at_speed_and_sets_pulse_widths(factory):
    hand = ServoHand((12, 13), factory, max_rate_pct_s=100.0)
    hand.update(0.0)
    # fully open: value -1 -> 1 ms pulse at 50 Hz = duty 0.05
    assert factory.pin(12).frequency == 50
    assert factory.pin(12).state == pytest.approx(0.05)
    hand.apply(Command("servo_hand", "grip", {"pattern": "power", "force": 1.0, "speed": 0.5}))
    hand.update(1.0)  # 50 %/s for 1 s -> half closed: 1.5 ms -> duty 0.075
    assert hand.positions == pytest.approx([50.0, 50.0])
    assert factory.pin(12).state == pytest.approx(0.075)
    hand.update(3.0)  # pins are thumb flexion and thumb rotation: power closes them 100 and 60 %
    assert hand.positions == pytest.approx([100.0, 60.0])
    assert factory.pin(12).state == pytest.approx(0.10)
    assert factory.pin(13).state == pytest.approx(0.08)
    # history is monotonic while closing
    duties = [s for s in _states(factory, 12) if isinstance(s, float) and s > 0]
    assert duties == sorted(duties)
    hand.close()


def test_servo_hand_safe_state_holds_position(factory):
    hand = ServoHand((12,), factory, max_rate_pct_s=100.0)
    hand.update(0.0)
    hand.apply(Command("servo_hand", "grip", {"pattern": "power", "force": 0.8, "speed": 1.0}))
    hand.update(0.3)
    held = hand.positions[0]
    assert held == pytest.approx(30.0)
    hand.safe_state()
    hand.safe_state()  # idempotent
    hand.update(5.0)
    assert hand.positions[0] == pytest.approx(held)  # neither opened nor closed further
    assert factory.pin(12).state == pytest.approx(0.05 + 0.05 * held / 100)
    assert hand.status()["moving"] is False
    hand.close()
    hand.safe_state()  # still never raises after close
    with pytest.raises(ActuatorError, match="closed"):
        hand.apply(Command("servo_hand", "stop"))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"pattern": "fist", "force": 1, "speed": 1}, "allowed"),
        ({"pattern": "power", "force": 1.5, "speed": 1}, "force"),
        ({"pattern": "power", "force": float("nan"), "speed": 1}, "finite"),
    ],
)
def test_servo_hand_rejects_bad_commands(factory, params, match):
    hand = ServoHand((12,), factory)
    with pytest.raises(ActuatorError, match=match):
        hand.apply(Command("servo_hand", "grip", params))
    with pytest.raises(ActuatorError, match="allowed"):
        hand.apply(Command("servo_hand", "wave"))
    hand.close()


def test_vibration_motor_patterns_and_safe(factory):
    motor = VibrationMotor(18, factory)
    motor.update(10.0)
    motor.apply(Command("vibration", "set_vibration", {"intensity": 40, "pattern": "pulse"}))
    assert factory.pin(18).state == pytest.approx(0.4)
    motor.update(10.6)
    assert factory.pin(18).state == 0.0
    motor.update(11.1)
    assert factory.pin(18).state == pytest.approx(0.4)
    motor.apply(Command("vibration", "set_vibration", {"intensity": 50, "pattern": "wave"}))
    motor.update(11.1 + 2.5)  # half a 0.2 Hz period: the swell peaks
    assert factory.pin(18).state == pytest.approx(0.5)
    motor.safe_state()
    assert factory.pin(18).state == 0.0
    motor.update(20.0)
    assert factory.pin(18).state == 0.0
    with pytest.raises(ActuatorError, match="allowed"):
        motor.apply(Command("vibration", "set_vibration", {"intensity": 5, "pattern": "buzz"}))
    motor.close()
    motor.safe_state()


def test_led_codes_follow_iec_60601_1_8_rates():
    # high: red at 2 Hz; medium: yellow at 0.5 Hz; low: constant cyan
    high = [led_colour("alarm_high", t / 100) for t in range(100)]
    transitions = sum(1 for a, b in zip(high[:-1], high[1:], strict=True) if a != b)
    assert transitions == 3  # 2 flashes in 1 s -> on/off/on/off
    assert {c for c in high} == {(1, 0, 0), (0, 0, 0)}
    medium = [led_colour("alarm_medium", t / 10) for t in range(40)]
    assert {c for c in medium} == {(1, 1, 0), (0, 0, 0)}
    assert sum(1 for a, b in zip(medium[:-1], medium[1:], strict=True) if a != b) == 3
    assert {led_colour("alarm_low", t / 10) for t in range(40)} == {(0, 1, 1)}
    assert led_blink("safe", 3.3) == 1
    with pytest.raises(ValueError, match="allowed"):
        led_colour("disco", 0.0)


def test_status_led_rgb_pin_history(factory):
    led = StatusLed((5, 6, 13), factory)
    led.set_mode("running", 0.0)
    assert (factory.pin(5).state, factory.pin(6).state, factory.pin(13).state) == (0, 1, 0)
    led.set_mode("alarm_high", 1.0)
    for k in range(1, 9):
        led.update(1.0 + k * 0.125)
    red = [bool(s) for s in _states(factory, 5)]
    # red went on and off repeatedly (flashing), green off
    assert red.count(True) >= 3 and factory.pin(6).state == 0
    led.set_mode("safe", 3.0)
    assert (factory.pin(5).state, factory.pin(6).state, factory.pin(13).state) == (0, 0, 1)
    led.close()


def test_status_led_single_pin_blink_code(factory):
    led = StatusLed((21,), factory)
    led.set_mode("alarm_medium", 0.0)
    values = []
    for k in range(40):
        led.update(k * 0.1)
        values.append(factory.pin(21).state)
    assert values[:10] == [1] * 10 and values[10:20] == [0] * 10
    led.close()


def test_estop_normally_open_latches_until_reset(factory):
    trips = []
    stop = EStopButton(26, factory, on_trip=lambda: trips.append(1))
    assert not stop.poll()
    factory.pin(26).drive_low()  # pressed
    assert stop.latched and trips == [1]
    with pytest.raises(ActuatorError, match="still pressed"):
        stop.reset()
    factory.pin(26).drive_high()  # released: still latched
    assert stop.poll() and stop.latched
    stop.reset()
    assert not stop.latched and not stop.poll()
    stop.close()


def test_estop_normally_closed_trips_on_open_contact_and_poll_catches_missed_edge(factory):
    stop = EStopButton(19, factory, normally_closed=True)
    factory.pin(19).drive_low()  # closed contact at rest
    assert not stop.poll()
    factory.pin(19).drive_high()  # contact opened (pressed or wire broken)
    assert stop.latched
    stop.close()
    # a missed edge: the level changes without the edge callback firing
    stop2 = EStopButton(20, factory)
    factory.pin(20)._state = False  # bypasses MockPin's edge detection
    assert not stop2.latched
    assert stop2.poll() and stop2.latched
    stop2.close()


def test_devices_leave_no_threads(factory):
    before = set(threading.enumerate())
    stop = EStopButton(26, factory)
    led = StatusLed((5, 6, 13), factory)
    stop.close()
    led.close()
    assert set(threading.enumerate()) <= before
