"""Device simulators that speak the real wire protocols on the device end of a pty.

Use :func:`spawn_simulator` to get a running simulator and the pty path a driver opens
with real pyserial::

    sim, port = spawn_simulator("mattress")
    drv = MattressDriver(port)
    ...
    drv.close(); sim.stop()
"""

from __future__ import annotations

from typing import Any

from actuators.pty_link import open_pty_pair
from actuators.simulators.base import DeviceSimulator, FrameRecord, NowClock
from actuators.simulators.faults import FaultPlan
from actuators.simulators.hand import GraspObject, HandSimulator
from actuators.simulators.mattress import MattressSimulator

__all__ = ["DeviceSimulator", "FaultPlan", "FrameRecord", "GraspObject", "HandSimulator",
           "MattressSimulator", "SIMULATOR_KINDS", "spawn_simulator"]

#: Kinds accepted by :func:`spawn_simulator`.
SIMULATOR_KINDS = ("mattress", "hand")


def _simulator_class(kind: str) -> type[DeviceSimulator]:
    if kind == "mattress":
        return MattressSimulator
    if kind == "hand":
        return HandSimulator
    raise ValueError(f"unknown simulator kind {kind!r}; allowed: {list(SIMULATOR_KINDS)}")


def spawn_simulator(kind: str, clock: NowClock | None = None,
                    **kw: Any) -> tuple[DeviceSimulator, str]:
    """Create a raw pty pair, start a simulator on its master end, return it and the path.

    Parameters
    ----------
    kind
        ``"mattress"`` or ``"hand"``.
    clock
        Object with ``now()`` driving physics and device timeouts (default monotonic time).
    **kw
        Passed to the simulator class (``heartbeat_timeout_s``, ``watchdog_s``, ``faults``…).

    Returns
    -------
    (simulator, port_path)
        The running simulator (call ``stop()`` to join its thread and close the pty) and
        the slave path to open with ``serial.Serial`` or a driver.
    """
    cls = _simulator_class(kind)
    pair = open_pty_pair()
    try:
        sim = cls(pair, clock=clock, **kw)
    except Exception:
        pair.close()
        raise
    sim.start()
    return sim, pair.path
