"""Changes to a running system, queued from any thread and applied on the loop thread.

A parameter edit, a manual override, a safe-state request or an alarm acknowledgement from
the control socket (or any other thread) is :meth:`CommandQueue.submit`-ted as a
:class:`RunCommand`; the loop calls :meth:`CommandQueue.apply_pending` between two
iterations, so nothing reaches into the loop from another thread (the Klipper reactor's
rule). Every applied command is journalled as a ``control`` event with its client, its
result or its error, and the submitter gets the outcome through a
:class:`concurrent.futures.Future`.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from firmware_host.events import EventSink


@dataclass(frozen=True)
class RunCommand:
    """One change to apply on the loop thread.

    Parameters
    ----------
    name
        What it is, e.g. ``"set"``, ``"undo"``, ``"safe_state"``, ``"ack_alarm"``.
    apply
        Called on the loop thread with the loop clock's time; returns a JSON-able result.
        Raising :class:`ValueError` refuses the command (the message says why).
    client
        Who asked (a control-socket peer, ``"signal"``, ``"test"``).
    params
        Journalled with the command.
    """

    name: str
    apply: Callable[[float], Any]
    client: str = "local"
    params: dict[str, Any] = field(default_factory=dict)


class CommandQueue:
    """A thread-safe queue of :class:`RunCommand` drained by the loop.

    Parameters
    ----------
    max_pending
        Commands waiting beyond this are refused at once (a flooding client cannot grow
        the process without bound).
    """

    def __init__(self, max_pending: int = 256) -> None:
        self._queue: queue.Queue[tuple[RunCommand, Future[Any]]] = queue.Queue(maxsize=max_pending)

    def submit(self, command: RunCommand) -> Future[Any]:
        """Queue ``command``; the future resolves once the loop applied or refused it.

        Raises
        ------
        queue.Full
            When ``max_pending`` commands are already waiting.
        """
        future: Future[Any] = Future()
        self._queue.put_nowait((command, future))
        return future

    @property
    def pending(self) -> int:
        """Commands waiting to be applied."""
        return self._queue.qsize()

    def apply_pending(self, now: float, sink: EventSink, sample: int | None = None) -> int:
        """Apply every waiting command in order (loop thread only); return how many.

        Each is journalled as a ``control`` event: ``{"command", "client", "params",
        "ok", "result" | "error"}``, at ``sample``: the first sample the stages see after
        the change (what-if replay applies it there). A refused command (``ValueError``) or
        a failing one never stops the loop; the error goes back to the submitter.
        """
        n = 0
        while True:
            try:
                command, future = self._queue.get_nowait()
            except queue.Empty:
                return n
            n += 1
            record: dict[str, Any] = {"command": command.name, "client": command.client,
                                      "params": command.params, "t": now}
            try:
                result = command.apply(now)
            except Exception as exc:  # noqa: BLE001 - refused or failed, the loop goes on
                record.update(ok=False, error=f"{type(exc).__name__}: {exc}"
                              if not isinstance(exc, ValueError) else str(exc))
                sink.emit("control", record, sample)
                future.set_exception(exc)
                continue
            record.update(ok=True, result=result)
            sink.emit("control", record, sample)
            future.set_result(result)

    def cancel_all(self, reason: str) -> None:
        """Refuse every waiting command (the run is over)."""
        while True:
            try:
                _command, future = self._queue.get_nowait()
            except queue.Empty:
                return
            future.set_exception(RuntimeError(reason))
