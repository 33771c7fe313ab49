"""The emergency-stop latch: once tripped, it stays tripped until an explicit reset."""

from __future__ import annotations

import threading


class EStopError(RuntimeError):
    """An E-stop reset was refused; the message says why."""


class EStopLatch:
    """Latches on :meth:`trip`; only :meth:`reset` clears it (thread-safe).

    The latch is software; the physical button (:class:`actuators.gpio_devices.EStopButton`)
    feeds it, and a reset is refused while the button is still pressed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tripped = False
        self.source = ""
        self.since: float | None = None

    def trip(self, source: str, now: float) -> bool:
        """Latch; return True if it was not latched before."""
        with self._lock:
            if self.tripped:
                return False
            self.tripped, self.source, self.since = True, source, now
            return True

    def reset(self, *, button_pressed: bool = False) -> None:
        """Clear the latch.

        Raises
        ------
        EStopError
            When the physical button is still pressed.
        """
        with self._lock:
            if button_pressed:
                raise EStopError("E-stop button is still pressed; release it before resetting")
            self.tripped, self.source, self.since = False, "", None
