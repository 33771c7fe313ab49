"""A thread that does the recorder's slow disk work (journal commit, ``fsync``) when asked.

The loop asks for a sync every ``flush_interval_s`` and goes on at once: an SD card that
takes seconds over an ``fsync`` delays the durability of the last half second, never the
loop's next iteration. A request made while a sync runs is served by one more round after it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class BackgroundSync:
    """Runs ``work`` on a daemon thread of its own, one round per :meth:`request`.

    Parameters
    ----------
    work
        The round: must record its own failures (it is never expected to raise; if it does,
        the exception is kept in :attr:`error` and the thread goes on).
    name
        Thread name.
    """

    def __init__(self, work: Callable[[], None], name: str = "somnoloop-sync") -> None:
        self._work = work
        self._cond = threading.Condition()
        self._wanted = False
        self._stopping = False
        self._busy_since: float | None = None
        #: The exception the last round raised (``None`` when it succeeded).
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def request(self) -> None:
        """Ask for a round; never waits."""
        with self._cond:
            self._wanted = True
            self._cond.notify_all()

    def busy_s(self) -> float:
        """Wall seconds the running round has taken so far (0 when idle)."""
        since = self._busy_since
        return 0.0 if since is None else time.monotonic() - since

    def wait_idle(self) -> None:
        """Wait until no round runs and none is wanted."""
        with self._cond:
            while self._wanted or self._busy_since is not None:
                self._cond.wait()

    def close(self) -> None:
        """Finish the wanted rounds, then end the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join()

    def _serve(self) -> None:
        while True:
            with self._cond:
                while not self._wanted and not self._stopping:
                    self._cond.wait()
                if not self._wanted:
                    return
                self._wanted = False
                self._busy_since = time.monotonic()
            try:
                self._work()
                self.error = None
            except Exception as exc:  # noqa: BLE001 - kept for the owner; the thread goes on
                self.error = exc
            finally:
                with self._cond:
                    self._busy_since = None
                    self._cond.notify_all()
