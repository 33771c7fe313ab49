"""Injected clocks: real time on the device, scaled for N× replay, instant for tests and max speed.

All somnoloop code asks a :class:`Clock` for the time and to wait; nothing calls
:func:`time.time` or :func:`time.sleep` directly, so a whole night replays deterministically.
"""

from __future__ import annotations

import math
import time
from typing import Protocol


class Clock(Protocol):
    """Monotonic seconds and a way to wait for them."""

    def now(self) -> float:
        """Seconds since an arbitrary origin (monotonic)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""
        ...

    @property
    def speed(self) -> float:
        """Clock seconds per real second (``math.inf`` for a clock that never waits)."""
        ...


class RealClock:
    """Wall-clock time, optionally sped up ``speed`` times (``speed=1`` on the device).

    Parameters
    ----------
    speed
        How many clock seconds pass per real second.
    """

    def __init__(self, speed: float = 1.0) -> None:
        if not 0 < speed < math.inf:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.speed = float(speed)
        self._t0 = time.monotonic()
        #: Unix time of the clock's origin, journaled so recorded samples can be dated.
        self.origin_unix = time.time()

    def now(self) -> float:
        """Scaled seconds since construction."""
        return (time.monotonic() - self._t0) * self.speed

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds / speed`` real seconds."""
        if seconds > 0:
            time.sleep(seconds / self.speed)


class FakeClock:
    """A clock that only moves when told to: ``sleep`` advances it instantly.

    Used for "as fast as possible" replay and in tests (deterministic, no real waiting).

    Parameters
    ----------
    start
        Initial time in seconds.
    """

    #: Clock seconds per real second: a fake clock never waits.
    speed = math.inf

    def __init__(self, start: float = 0.0) -> None:
        self._t = float(start)

    def now(self) -> float:
        """Current simulated time."""
        return self._t

    def sleep(self, seconds: float) -> None:
        """Advance time by ``seconds`` without waiting."""
        if seconds > 0:
            self._t += seconds

    def advance(self, seconds: float) -> None:
        """Alias of :meth:`sleep`, reads better in tests."""
        self.sleep(seconds)
