"""Smart-mattress driver: :mod:`actuators.mattress_protocol` over a serial port.

No background threads: the control loop calls :meth:`MattressDriver.heartbeat` every tick
(it only sends when ``heartbeat_s`` has passed since the last exchange) and
:meth:`MattressDriver.poll_status` when it wants fresh read-back.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, Protocol

from actuators import mattress_protocol as mp
from actuators.base import ActuatorError, Command
from actuators.protocol import Frame, FrameParser, ProtocolError
from actuators.serial_link import SerialLink

#: After a corrupted reply, wait only this long for a valid one before retrying.
_CORRUPT_GRACE_S = 0.005
#: Silence inside a frame after which its bytes are treated as lost (allows for USB-serial
#: adapter latency timers, typically 1..16 ms).
_FRAME_GAP_S = 0.02


class _NowClock(Protocol):
    def now(self) -> float: ...


class _Monotonic:
    def now(self) -> float:
        return time.monotonic()


class MattressDriver:
    """Smart mattress controller on a serial port (implements ``actuators.base.Actuator``).

    **Safe state** (:meth:`safe_state`, also sent by :meth:`close`): the elevation motors
    stop and *hold their current position* (never a sudden move, never a return to flat),
    vibration off, heating off (the surface drifts to ambient). It is one SAFE_STATE
    command, idempotent on the device; the controller enters the same state by itself when
    the host is silent longer than its heartbeat timeout.

    Parameters
    ----------
    port
        Serial device path (or a simulator's pty path).
    baudrate
        Line speed.
    timeout_s
        Reply timeout per attempt (real seconds).
    retries
        Extra attempts after a timeout, a corrupted reply or a BUSY NACK. Retries reuse the
        sequence number, so the device executes a command at most once.
    heartbeat_s
        Minimum interval between keep-alives sent by :meth:`heartbeat` (clock seconds).
    name
        Actuator name (``Command.target``).
    clock
        Object with ``now()`` used for heartbeat pacing and ``heartbeat_age_s`` (default
        monotonic time; pass the run's clock so pacing follows simulated time).

    Raises
    ------
    ActuatorError
        The port cannot be opened (message names port and cause).
    """

    def __init__(self, port: str, *, baudrate: int = 115200, timeout_s: float = 0.05,
                 retries: int = 3, heartbeat_s: float = 0.5, name: str = "mattress",
                 clock: _NowClock | None = None) -> None:
        if timeout_s <= 0 or retries < 0 or heartbeat_s <= 0:
            raise ValueError(f"need timeout_s > 0, retries >= 0, heartbeat_s > 0; got "
                             f"{timeout_s}, {retries}, {heartbeat_s}")
        self.name = name
        self.port = port
        self.timeout_s = float(timeout_s)
        self.retries = int(retries)
        self.heartbeat_s = float(heartbeat_s)
        self.clock: _NowClock = clock if clock is not None else _Monotonic()
        self._parser = FrameParser()
        self._seq = 0
        self._last_ok: float | None = None
        self._last_sent: float | None = None
        self._status: mp.MattressStatus | None = None
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

    # --- transport ------------------------------------------------------------------
    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFF
        return self._seq

    def _await(self, seq: int, deadline: float) -> Frame | None:
        while True:
            wait = deadline
            if self._parser.pending:  # inside a frame: a silent gap means bytes were lost
                wait = min(deadline, time.monotonic() + _FRAME_GAP_S)
            data = self._link.read_until(wait)
            if not data:
                self.counters["protocol_errors"] += len(self._parser.flush())
                return None
            for item in self._parser.feed(data):
                if isinstance(item, ProtocolError):
                    self.counters["protocol_errors"] += 1
                    if item.kind == "bad_crc":
                        # A complete but corrupted reply: retry soon instead of waiting.
                        deadline = min(deadline, time.monotonic() + _CORRUPT_GRACE_S)
                elif item.seq == seq and item.type in (mp.MSG_ACK, mp.MSG_NACK, mp.MSG_STATUS):
                    return item

    def _transact(self, msg_type: int, payload: bytes, what: str,
                  retries: int | None = None) -> tuple[Frame, int, float]:
        """Send and wait for the matching reply; returns (reply, retries used, latency)."""
        retries = self.retries if retries is None else retries
        seq = self._next_seq()
        wire = Frame(msg_type, seq, payload).encode()
        t0 = time.monotonic()
        cause = "no reply"
        answered = False
        for attempt in range(retries + 1):
            if attempt:
                self.counters["retries"] += 1
            self._parser.reset()
            try:
                self._link.discard_input()
                self._link.write(wire)
                self._last_sent = self.clock.now()
                self.counters["sent"] += 1
                reply = self._await(seq, time.monotonic() + self.timeout_s)
            except ActuatorError as exc:
                cause = str(exc)
                continue
            if reply is None:
                self.counters["timeouts"] += 1
                cause = f"no valid reply within {self.timeout_s:g} s"
                continue
            if reply.type == mp.MSG_NACK:
                self.counters["nacks"] += 1
                self._mark_alive()
                answered = True
                code = reply.payload[1] if len(reply.payload) > 1 else 0
                cause = f"NACK 0x{code:02x} ({mp.nack_meaning(code)})"
                if code in mp.RETRYABLE_NACKS:
                    continue
                raise ActuatorError(f"{self.name} on {self.port}: {what} refused: {cause}")
            self._mark_alive()
            return reply, attempt, time.monotonic() - t0
        if answered:
            self.last_error = cause
        else:
            self._mark_failed(cause)
        raise ActuatorError(f"{self.name} on {self.port}: {what} failed after "
                            f"{retries + 1} attempt(s): {cause}")

    def _mark_alive(self) -> None:
        self.connected = True
        self.consecutive_failures = 0
        self._last_ok = self.clock.now()

    def _mark_failed(self, cause: str) -> None:
        self.connected = False
        self.consecutive_failures += 1
        self.last_error = cause

    # --- Actuator API ---------------------------------------------------------------
    def apply(self, command: Command) -> dict[str, Any]:
        """Send one command and wait for its ACK.

        Returns
        -------
        dict
            ``seq``, ``latency_s`` (real seconds from first send to ACK), ``retries``,
            ``action``.

        Raises
        ------
        ActuatorError
            Invalid command (names what is allowed), a NACK (code and meaning), or no ACK
            after all retries.
        """
        if self._closed:
            raise ActuatorError(f"{self.name}: driver is closed")
        if command.target not in (self.name, "mattress"):
            raise ActuatorError(f"{self.name}: command for target {command.target!r} "
                                f"sent to the mattress driver")
        try:
            payload = mp.encode_command(command.action, dict(command.params))
        except ValueError as exc:
            raise ActuatorError(f"{self.name}: invalid command: {exc}") from exc
        reply, retries, latency = self._transact(mp.MSG_COMMAND, payload, command.action)
        self.safe_state_confirmed = command.action == "safe_state"
        return {"seq": reply.seq, "latency_s": latency, "retries": retries,
                "action": command.action}

    def heartbeat(self, force: bool = False) -> bool:
        """Keep the device's host-silence timer from expiring; never raises.

        Sends a HEARTBEAT only when ``heartbeat_s`` has passed since the last frame sent
        (any command counts). Returns whether the device is answering.
        """
        if self._closed:
            return False
        now = self.clock.now()
        if not force and self._last_sent is not None and now - self._last_sent < self.heartbeat_s:
            return self.connected
        try:
            self._transact(mp.MSG_HEARTBEAT, b"", "heartbeat", retries=0)
        except ActuatorError:
            return False
        return True

    def poll_status(self) -> dict[str, Any]:
        """Request a STATUS reply, cache it and return :meth:`status`. Raises ActuatorError."""
        if self._closed:
            raise ActuatorError(f"{self.name}: driver is closed")
        reply, _, _ = self._transact(mp.MSG_STATUS_REQ, b"", "status request")
        if reply.type != mp.MSG_STATUS:
            raise ActuatorError(f"{self.name} on {self.port}: status request answered with "
                                f"{mp.MESSAGE_NAMES.get(reply.type, reply.type)}")
        try:
            status = mp.MattressStatus.decode(reply.payload)
        except ValueError as exc:
            raise ActuatorError(f"{self.name} on {self.port}: bad status reply: {exc}") from exc
        if self._boot_count is not None and status.boot_count != self._boot_count:
            self.counters["device_resets"] += 1
        self._boot_count = status.boot_count
        self._status = status
        return self.status()

    def status(self) -> dict[str, Any]:
        """Latest read-back (no I/O). Values are None until the first successful poll."""
        s = self._status
        age = None if self._last_ok is None else self.clock.now() - self._last_ok
        out: dict[str, Any] = {
            "connected": self.connected and not self._closed,
            "heartbeat_age_s": age,
            "consecutive_failures": self.consecutive_failures,
            "last_error": self.last_error,
            "port": self.port,
            "counters": dict(self.counters),
        }
        if s is None:
            out.update(elevation={"head": None, "feet": None}, elevation_target=None,
                       moving=None, firmness=None, temperature=None, target_temperature=None,
                       vibration=None, faults=[], device_safe=None, boot_count=None)
            return out
        out.update(
            elevation={"head": s.head_deg, "feet": s.feet_deg},
            elevation_target={"head": s.head_target_deg, "feet": s.feet_target_deg},
            moving=bool(s.flags & (mp.FLAG_MOVING_HEAD | mp.FLAG_MOVING_FEET)),
            firmness=dict(zip(mp.FIRMNESS_ZONES, s.firmness, strict=True)),
            temperature=s.temperature_c,
            target_temperature=s.target_temperature_c,
            vibration={"intensity": s.vibration_intensity, "pattern": s.vibration_pattern},
            faults=s.fault_names,
            device_safe=bool(s.flags & mp.FLAG_DEVICE_SAFE),
            boot_count=s.boot_count,
        )
        return out

    def safe_state(self) -> None:
        """Send SAFE_STATE (stop and hold, vibration off, heating off). Never raises.

        Failure is recorded in ``last_error`` / ``safe_state_confirmed``; the device also
        goes safe by itself once the host has been silent for its heartbeat timeout.
        """
        try:
            self._transact(mp.MSG_COMMAND, bytes((mp.OP_SAFE_STATE,)), "safe_state")
            self.safe_state_confirmed = True
        except Exception as exc:  # noqa: BLE001 - safe_state must never raise
            self.safe_state_confirmed = False
            self.last_error = f"safe_state not confirmed: {exc}"

    def reconnect(self) -> None:
        """Reopen the port (e.g. after a USB adapter came back) and re-read the status.

        Raises
        ------
        ActuatorError
            The port cannot be opened or the device does not answer.
        """
        if self._closed:
            raise ActuatorError(f"{self.name}: driver is closed")
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
