"""Fixtures for driver tests: a simulator on a pty with a real driver opened on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from actuators.hand import HandDriver
from actuators.mattress import MattressDriver
from actuators.simulators import DeviceSimulator, GraspObject, spawn_simulator
from firmware_host.clock import FakeClock
from tests.actuators.helpers import sim_threads

#: Reply timeout of the drivers under test: generous for a loaded CI machine (the
#: simulators answer in < 1 ms).
TIMEOUT = 0.1

#: Per device kind: driver class, simulator options, driver options.
RIGS: dict[str, tuple[type, dict[str, Any], dict[str, Any]]] = {
    "mattress": (MattressDriver, {"heartbeat_timeout_s": 2.0},
                 {"timeout_s": TIMEOUT, "retries": 3, "heartbeat_s": 0.5}),
    "hand": (HandDriver, {"watchdog_s": 0.3, "obj": GraspObject.ball(40.0)},
             {"timeout_s": TIMEOUT, "retries": 2, "heartbeat_s": 0.1}),
}

Rig = tuple[DeviceSimulator, Any]


@pytest.fixture
def make_rig() -> Iterator[Callable[[str, FakeClock], Rig]]:
    """Factory ``make_rig(kind, clock) -> (simulator, driver)`` using :data:`RIGS`.

    At teardown every driver is closed (it goes safe first), every simulator stopped, and
    no simulator thread may be left running.
    """
    rigs: list[Rig] = []

    def make(kind: str, clock: FakeClock) -> Rig:
        driver_cls, sim_kw, drv_kw = RIGS[kind]
        sim, port = spawn_simulator(kind, clock=clock, **sim_kw)
        try:
            drv = driver_cls(port, clock=clock, **drv_kw)
        except BaseException:
            sim.stop()
            raise
        rigs.append((sim, drv))
        return sim, drv

    yield make
    for sim, drv in reversed(rigs):
        drv.close()
        sim.stop()
    assert not sim_threads(), "simulator thread leaked"
