"""Small helpers shared by the actuator driver and simulator tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from actuators.simulators import DeviceSimulator
from firmware_host.clock import FakeClock


def sim_threads() -> list[threading.Thread]:
    """Simulator I/O threads still alive (all must be gone after a test)."""
    return [t for t in threading.enumerate() if t.name.startswith("sim-")]


def wait_for(pred: Callable[[], bool], timeout: float = 2.0) -> bool:
    """Poll ``pred`` every 5 ms (real time) until it holds or ``timeout`` s have passed."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.005)
    return pred()


def run_for(clock: FakeClock, drv: Any, seconds: float, step: float) -> None:
    """Advance simulated time like the control loop does: ticks of ``step`` s, each with a
    heartbeat that must be answered."""
    for _ in range(round(seconds / step)):
        clock.advance(step)
        assert drv.heartbeat() is True


def accepted(sim: DeviceSimulator, action: str) -> int:
    """How many ``action`` frames the device received and executed."""
    return sum(1 for f in sim.frames if f.action == action and f.accepted)
