"""What the serial actuator drivers share: one request/reply exchange with retries.

:class:`SerialDriver` owns the port (:class:`~actuators.serial_link.SerialLink`), sequence
numbers, the retry loop (a retry reuses the sequence number, so a device executes a command
at most once), NACK handling, heartbeat pacing, connection bookkeeping, the ``status()``
fields every driver reports, ``reconnect()`` and ``close()``.

A subclass supplies only its protocol: how a request frame is encoded
(:meth:`SerialDriver._encode`), which received frame answers a request
(:meth:`SerialDriver._match`), whether a reply is a NACK (:meth:`SerialDriver._nack_code`),
and its own documented safe state.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from typing import Any, ClassVar, Protocol

from actuators.base import ActuatorError, Command
from actuators.protocol import ProtocolError
from actuators.serial_link import SerialLink


class NowClock(Protocol):
    """Anything with ``now() -> float`` seconds (e.g. ``firmware_host.clock.FakeClock``)."""

    def now(self) -> float:
        """Current time in seconds."""
        ...


class _Monotonic:
    def now(self) -> float:
        return time.monotonic()


class FrameParserLike(Protocol):
    """A byte-stream parser: ``feed`` returns complete frames and :class:`ProtocolError`."""

    def feed(self, data: bytes) -> Iterable[Any]:
        """Parse bytes; return frames and protocol errors in order."""
        ...

    def reset(self) -> None:
        """Drop any partially received frame."""
        ...


class SerialDriver:
    """Base class of the serial actuator drivers (see the module docstring).

    Parameters
    ----------
    port, baudrate, timeout_s, retries, heartbeat_s, name, clock
        As documented by the concrete driver.
    parser
        The protocol's frame parser.

    Raises
    ------
    ValueError
        ``timeout_s <= 0``, ``retries < 0`` or ``heartbeat_s <= 0``.
    ActuatorError
        The port cannot be opened (message names port and cause).
    """

    #: ``Command.target`` this driver accepts besides its own name, and its device word.
    device_kind: ClassVar[str] = "device"
    #: After a corrupted reply, wait only this long for a valid one before retrying.
    corrupt_grace_s: ClassVar[float] = 0.005
    #: Parser error kinds that mean "a whole reply arrived, but corrupted".
    corrupt_kinds: ClassVar[frozenset[str]] = frozenset()
    #: NACK codes worth a retry (the device was busy).
    retryable_nacks: ClassVar[frozenset[int]] = frozenset()
    #: Request (command, payload) sent by :meth:`heartbeat`.
    heartbeat_request: ClassVar[tuple[int, bytes]] = (0, b"")

    def __init__(self, port: str, *, baudrate: int, timeout_s: float, retries: int,
                 heartbeat_s: float, name: str, clock: NowClock | None,
                 parser: FrameParserLike) -> None:
        check_timing(timeout_s, retries, heartbeat_s)
        self.name = name
        self.port = port
        self.timeout_s = float(timeout_s)
        self.retries = int(retries)
        self.heartbeat_s = float(heartbeat_s)
        self.clock: NowClock = clock if clock is not None else _Monotonic()
        self._parser = parser
        self._seq = 0
        self._last_ok: float | None = None
        self._last_sent: float | None = None
        self._boot_count: int | None = None
        self._closed = False
        self.connected = False
        self.consecutive_failures = 0
        self.last_error: str | None = None
        self.safe_state_confirmed = False
        self.counters = {"sent": 0, "retries": 0, "timeouts": 0, "protocol_errors": 0,
                         "nacks": 0, "device_resets": 0}
        self._link = SerialLink(port, baudrate=baudrate, device=name)
        # The device may come up later; status() shows connected=False until then.
        with contextlib.suppress(ActuatorError):
            self.poll_status()

    # --- protocol hooks (subclasses) ------------------------------------------------
    def _encode(self, cmd: int, seq: int, payload: bytes) -> bytes:
        """Wire bytes of one request frame."""
        raise NotImplementedError

    def _match(self, frame: Any, seq: int, cmd: int) -> Any | None:
        """The reply to request (``seq``, ``cmd``) if ``frame`` is it, else None."""
        raise NotImplementedError

    def _nack_code(self, reply: Any) -> int | None:
        """The refusal code of a NACK reply, None for a positive reply."""
        raise NotImplementedError

    def _nack_meaning(self, code: int) -> str:
        """Human-readable meaning of a NACK code."""
        raise NotImplementedError

    def _on_reply(self, reply: Any) -> None:
        """Called with every matching reply (positive or NACK); default: nothing."""

    def _read_deadline(self, deadline: float) -> float:
        """Deadline for the next read while waiting for a reply; default ``deadline``."""
        return deadline

    def _on_silence(self) -> None:
        """Called when a read returned nothing before its deadline; default: nothing."""

    def _begin_attempt(self) -> None:
        """Called before each send of a request; default: nothing."""

    # --- transport ------------------------------------------------------------------
    def _await(self, seq: int, cmd: int, deadline: float) -> Any | None:
        while True:
            data = self._link.read_until(self._read_deadline(deadline))
            if not data:
                self._on_silence()
                return None
            for item in self._parser.feed(data):
                if isinstance(item, ProtocolError):
                    self.counters["protocol_errors"] += 1
                    if item.kind in self.corrupt_kinds:
                        # A complete but corrupted reply: retry soon instead of waiting.
                        deadline = min(deadline, time.monotonic() + self.corrupt_grace_s)
                    continue
                reply = self._match(item, seq, cmd)
                if reply is not None:
                    return reply

    def _transact(self, cmd: int, payload: bytes, what: str,
                  retries: int | None = None) -> tuple[Any, int, int, float]:
        """Send and wait for the matching reply: (reply, seq, retries used, latency)."""
        retries = self.retries if retries is None else retries
        self._seq = (self._seq + 1) & 0xFF
        seq = self._seq
        wire = self._encode(cmd, seq, payload)
        t0 = time.monotonic()
        cause = "no reply"
        answered = False
        for attempt in range(retries + 1):
            if attempt:
                self.counters["retries"] += 1
            self._begin_attempt()
            try:
                self._link.discard_input()
                self._link.write(wire)
                self._last_sent = self.clock.now()
                self.counters["sent"] += 1
                reply = self._await(seq, cmd, time.monotonic() + self.timeout_s)
            except ActuatorError as exc:
                cause = str(exc)
                continue
            if reply is None:
                self.counters["timeouts"] += 1
                cause = f"no valid reply within {self.timeout_s:g} s"
                continue
            self._mark_alive()
            self._on_reply(reply)
            code = self._nack_code(reply)
            if code is not None:
                self.counters["nacks"] += 1
                answered = True
                cause = f"NACK 0x{code:02x} ({self._nack_meaning(code)})"
                if code in self.retryable_nacks:
                    continue
                raise ActuatorError(f"{self.name} on {self.port}: {what} refused: {cause}")
            return reply, seq, attempt, time.monotonic() - t0
        self.last_error = cause
        if not answered:
            self.connected = False
            self.consecutive_failures += 1
        raise ActuatorError(f"{self.name} on {self.port}: {what} failed after "
                            f"{retries + 1} attempt(s): {cause}")

    def _mark_alive(self) -> None:
        self.connected = True
        self.consecutive_failures = 0
        self._last_ok = self.clock.now()

    def _note_boot_count(self, boot_count: int) -> None:
        """Count a device reset when the device's boot counter changed."""
        if self._boot_count is not None and boot_count != self._boot_count:
            self.counters["device_resets"] += 1
        self._boot_count = boot_count

    # --- helpers for the Actuator API -----------------------------------------------
    def _require_open(self) -> None:
        if self._closed:
            raise ActuatorError(f"{self.name}: driver is closed")

    def _check_command(self, command: Command) -> None:
        """Raise ActuatorError when closed or when ``command`` is for another device."""
        self._require_open()
        if command.target not in (self.name, self.device_kind):
            raise ActuatorError(f"{self.name}: command for target {command.target!r} "
                                f"sent to the {self.device_kind} driver")

    def _enter_safe_state(self, cmd: int, payload: bytes) -> None:
        """Send the safe-state request; record the outcome. Never raises."""
        try:
            self._transact(cmd, payload, "safe_state")
            self.safe_state_confirmed = True
        except Exception as exc:  # noqa: BLE001 - safe_state must never raise
            self.safe_state_confirmed = False
            self.last_error = f"safe_state not confirmed: {exc}"

    def _link_status(self) -> dict[str, Any]:
        """The ``status()`` fields every driver reports (connection and counters)."""
        return {
            "connected": self.connected and not self._closed,
            "heartbeat_age_s": None if self._last_ok is None else self.clock.now() - self._last_ok,
            "consecutive_failures": self.consecutive_failures,
            "last_error": self.last_error,
            "port": self.port,
            "counters": dict(self.counters),
        }

    # --- shared Actuator API --------------------------------------------------------
    def poll_status(self) -> dict[str, Any]:
        """Request fresh read-back; returns ``status()``. Raises ActuatorError."""
        raise NotImplementedError

    def safe_state(self) -> None:
        """Go to the device's documented safe state. Never raises."""
        raise NotImplementedError

    def heartbeat(self, force: bool = False) -> bool:
        """Keep the device's host-silence timer from expiring; never raises.

        Sends a keep-alive only when ``heartbeat_s`` has passed since the last frame sent
        (any request counts) or when ``force``. Returns whether the device is answering.
        """
        if self._closed:
            return False
        now = self.clock.now()
        if not force and self._last_sent is not None and now - self._last_sent < self.heartbeat_s:
            return self.connected
        try:
            self._transact(*self.heartbeat_request, "heartbeat", retries=0)
        except ActuatorError:
            return False
        return True

    def reconnect(self) -> None:
        """Reopen the port (e.g. after a USB adapter came back) and re-read the status.

        Raises
        ------
        ActuatorError
            The port cannot be opened or the device does not answer.
        """
        self._require_open()
        self._link.close()
        self._link.open()
        self._parser.reset()
        self.poll_status()

    def close(self) -> None:
        """Go safe, then release the port. Idempotent, never raises."""
        if self._closed:
            return
        self.safe_state()
        self._closed = True
        self.connected = False
        self._link.close()


def check_timing(timeout_s: float, retries: int, heartbeat_s: float) -> None:
    """Raise ValueError unless ``timeout_s > 0``, ``retries >= 0`` and ``heartbeat_s > 0``."""
    if timeout_s <= 0 or retries < 0 or heartbeat_s <= 0:
        raise ValueError(f"need timeout_s > 0, retries >= 0, heartbeat_s > 0; got "
                         f"{timeout_s}, {retries}, {heartbeat_s}")
