"""Watchdogs: a stale-signal watchdog and a per-device heartbeat / fault watchdog.

Both are plain state machines fed with explicit times, so they are tested without threads
or real waiting.
"""

from __future__ import annotations


class StaleSignalWatchdog:
    """Trips when the signal has not been OK for ``stale_after_s``; recovers after
    ``resume_after_s`` of continuous OK signal.

    Parameters
    ----------
    stale_after_s
        Not-OK time before tripping (0 = on the first not-OK update).
    resume_after_s
        OK time after a trip before recovering.
    """

    def __init__(self, stale_after_s: float, resume_after_s: float) -> None:
        if stale_after_s < 0 or resume_after_s < 0:
            raise ValueError(
                f"watchdog times must be >= 0, got stale_after_s={stale_after_s}, "
                f"resume_after_s={resume_after_s}"
            )
        self.stale_after_s = stale_after_s
        self.resume_after_s = resume_after_s
        self.stale = False
        self._bad_since: float | None = None
        self._good_since: float | None = None

    def update(self, now: float, signal_ok: bool) -> str | None:
        """Feed one observation; return ``"tripped"``, ``"recovered"`` or ``None``."""
        if not signal_ok:
            self._good_since = None
            if self._bad_since is None:
                self._bad_since = now
            if not self.stale and now - self._bad_since >= self.stale_after_s:
                self.stale = True
                return "tripped"
            return None
        self._bad_since = None
        if self.stale:
            if self._good_since is None:
                self._good_since = now
            if now - self._good_since >= self.resume_after_s:
                self.stale = False
                self._good_since = None
                return "recovered"
        return None


class DeviceWatchdog:
    """Counts a device's failed exchanges and its silence; says when it is lost.

    Parameters
    ----------
    max_consecutive_faults
        Failed exchanges in a row that make the device lost.
    timeout_s
        Silence (no successful exchange) that makes the device lost; only applied when
        ``expects_traffic`` (the device is pinged regularly).
    reconnect_after_s
        Minimum time between reconnection attempts of a lost device.
    expects_traffic
        Whether the caller pings the device regularly.
    now
        Start time (counts as the last successful exchange).
    """

    def __init__(self, max_consecutive_faults: int, timeout_s: float, reconnect_after_s: float,
                 *, expects_traffic: bool, now: float) -> None:
        if max_consecutive_faults < 1:
            raise ValueError(f"max_consecutive_faults must be >= 1, got {max_consecutive_faults}")
        self.max_consecutive_faults = max_consecutive_faults
        self.timeout_s = timeout_s
        self.reconnect_after_s = reconnect_after_s
        self.expects_traffic = expects_traffic
        self.lost = False
        self.faults = 0
        self.last_ok = now
        #: Has the device answered at least once (readiness, sd_notify ``READY=1``).
        self.answered = False
        self._last_attempt = now

    def ok(self, now: float) -> None:
        """A successful exchange."""
        self.faults = 0
        self.last_ok = now
        self.answered = True

    def fault(self, now: float) -> bool:
        """A failed exchange; return True when this makes the device lost."""
        self.faults += 1
        if not self.lost and self.faults >= self.max_consecutive_faults:
            self.lost = True
            self._last_attempt = now
            return True
        return False

    def silent(self, now: float) -> bool:
        """Return True when silence makes the device lost now."""
        if self.lost or not self.expects_traffic:
            return False
        if now - self.last_ok >= self.timeout_s:
            self.lost = True
            self._last_attempt = now
            return True
        return False

    def reconnect_due(self, now: float) -> bool:
        """Is a lost device due for a reconnection attempt (marks the attempt)."""
        if self.lost and now - self._last_attempt >= self.reconnect_after_s:
            self._last_attempt = now
            return True
        return False

    def recovered(self, now: float) -> None:
        """The device answers again."""
        self.lost = False
        self.ok(now)
