"""Bionic-hand driver: :mod:`actuators.hand_protocol` over a serial port.

No background threads. The hand's own watchdog (300 ms) drops remote control when the host
goes quiet, so the control loop calls :meth:`HandDriver.heartbeat` every tick; it sends a
STATUS request when ``heartbeat_s`` has passed since the last frame. Every reply carries
positions, motor currents and contact, so :meth:`HandDriver.status` is always fresh after
any exchange.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, Protocol

from actuators import hand_protocol as hp
from actuators.base import ActuatorError, Command
from actuators.protocol import ProtocolError
from actuators.serial_link import SerialLink

_CORRUPT_GRACE_S = 0.003


class _NowClock(Protocol):
    def now(self) -> float: ...


class _Monotonic:
    def now(self) -> float:
        return time.monotonic()


class HandDriver:
    """Bionic hand on a serial port (implements ``actuators.base.Actuator``).

    **Safe state** (:meth:`safe_state`, also sent by :meth:`close`): a STOP command — every
    finger stops where it is and *keeps its current grip and squeezing force*: the hand
    never closes further and never suddenly opens (dropping a held cup is not safe). The
    hand does the same by itself when its 300 ms watchdog expires (it also leaves remote
    control until the next command).

    Parameters
    ----------
    port
        Serial device path (or a simulator's pty path).
    baudrate
        Line speed (460800 like the Ability Hand).
    timeout_s
        Reply timeout per attempt (real seconds).
    retries
        Extra attempts after a timeout, a corrupted reply or a BUSY NACK (same sequence
        number: the hand executes a command at most once).
    name
        Actuator name (``Command.target``).
    heartbeat_s
        Minimum interval between keep-alives sent by :meth:`heartbeat` (clock seconds);
        keep it well under the hand's 300 ms watchdog.
    clock
        Object with ``now()`` for heartbeat pacing and ages (default monotonic time).
    default_force
        Force limit (0..1) used by ``set_fingers`` commands that give none.

    Raises
    ------
    ActuatorError
        The port cannot be opened (message names port and cause).
    """

    def __init__(self, port: str, *, baudrate: int = 460800, timeout_s: float = 0.02,
                 retries: int = 2, name: str = "hand", heartbeat_s: float = 0.1,
                 clock: _NowClock | None = None, default_force: float = 0.5) -> None:
        if timeout_s <= 0 or retries < 0 or heartbeat_s <= 0:
            raise ValueError(f"need timeout_s > 0, retries >= 0, heartbeat_s > 0; got "
                             f"{timeout_s}, {retries}, {heartbeat_s}")
        if not 0 <= default_force <= 1:
            raise ValueError(f"default_force must be within 0..1, got {default_force}")
        self.name = name
        self.port = port
        self.timeout_s = float(timeout_s)
        self.retries = int(retries)
        self.heartbeat_s = float(heartbeat_s)
        self.default_force = float(default_force)
        self.clock: _NowClock = clock if clock is not None else _Monotonic()
        self._parser = hp.HandFrameParser()
        self._seq = 0
        self._last_ok: float | None = None
        self._last_sent: float | None = None
        self._reply: hp.HandReply | None = None
        self._boot_count: int | None = None
        self._closed = False
        self.connected = False
        self.consecutive_failures = 0
        self.last_error: str | None = None
        self.safe_state_confirmed = False
        self.counters = {"sent": 0, "retries": 0, "timeouts": 0, "protocol_errors": 0,
                         "nacks": 0, "device_resets": 0}
        self._link = SerialLink(port, baudrate=baudrate, device=name)
        with contextlib.suppress(ActuatorError):
            self.poll_status()

    # --- transport ------------------------------------------------------------------
    def _await(self, seq: int, cmd: int, deadline: float) -> hp.HandReply | None:
        while True:
            data = self._link.read_until(deadline)
            if not data:
                return None
            for item in self._parser.feed(data):
                if isinstance(item, ProtocolError):
                    self.counters["protocol_errors"] += 1
                    if item.kind in ("bad_checksum", "bad_escape", "too_short"):
                        deadline = min(deadline, time.monotonic() + _CORRUPT_GRACE_S)
                    continue
                if item.cmd != hp.REPLY or item.seq != seq:
                    continue
                try:
                    reply = hp.HandReply.decode(item.payload)
                except ValueError:
                    self.counters["protocol_errors"] += 1
                    continue
                if reply.echo_cmd == cmd:
                    return reply

    def _transact(self, cmd: int, payload: bytes, what: str,
                  retries: int | None = None) -> tuple[hp.HandReply, int, int, float]:
        """Send and wait for the reply: (reply, seq, retries used, latency)."""
        retries = self.retries if retries is None else retries
        self._seq = (self._seq + 1) & 0xFF
        seq = self._seq
        wire = hp.HandFrame(cmd, seq, payload).encode()
        t0 = time.monotonic()
        cause = "no reply"
        answered = False
        for attempt in range(retries + 1):
            if attempt:
                self.counters["retries"] += 1
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
            self._accept(reply)
            if reply.result != hp.RESULT_OK:
                self.counters["nacks"] += 1
                answered = True
                cause = f"NACK 0x{reply.result:02x} ({hp.nack_meaning(reply.result)})"
                if reply.result in hp.RETRYABLE_NACKS:
                    continue
                raise ActuatorError(f"{self.name} on {self.port}: {what} refused: {cause}")
            return reply, seq, attempt, time.monotonic() - t0
        self.last_error = cause
        if not answered:
            self.connected = False
            self.consecutive_failures += 1
        raise ActuatorError(f"{self.name} on {self.port}: {what} failed after "
                            f"{retries + 1} attempt(s): {cause}")

    def _accept(self, reply: hp.HandReply) -> None:
        self.connected = True
        self.consecutive_failures = 0
        self._last_ok = self.clock.now()
        if self._boot_count is not None and reply.boot_count != self._boot_count:
            self.counters["device_resets"] += 1
        self._boot_count = reply.boot_count
        self._reply = reply

    # --- Actuator API ---------------------------------------------------------------
    def apply(self, command: Command) -> dict[str, Any]:
        """Send ``grip`` / ``set_fingers`` / ``stop`` and wait for the hand's reply.

        Returns
        -------
        dict
            ``seq``, ``latency_s``, ``retries``, ``action``, and the read-back
            ``positions`` / ``current`` / ``contact`` carried by the reply.

        Raises
        ------
        ActuatorError
            Invalid command (names what is allowed), NACK (code and meaning), or no reply
            after all retries.
        """
        if self._closed:
            raise ActuatorError(f"{self.name}: driver is closed")
        if command.target not in (self.name, "hand"):
            raise ActuatorError(f"{self.name}: command for target {command.target!r} "
                                "sent to the hand driver")
        if command.action == "status":
            raise ActuatorError(f"{self.name}: use poll_status() for read-back")
        try:
            cmd, payload = hp.encode_command(command.action, dict(command.params),
                                             default_force=self.default_force)
        except ValueError as exc:
            raise ActuatorError(f"{self.name}: invalid command: {exc}") from exc
        reply, seq, retries, latency = self._transact(cmd, payload, command.action)
        self.safe_state_confirmed = command.action == "stop"
        return {"seq": seq, "latency_s": latency, "retries": retries,
                "action": command.action, "positions": list(reply.positions),
                "current": list(reply.current), "contact": reply.contacts}

    def heartbeat(self, force: bool = False) -> bool:
        """Keep the hand's watchdog fed (STATUS request when due); never raises.

        Returns whether the hand is answering.
        """
        if self._closed:
            return False
        now = self.clock.now()
        if not force and self._last_sent is not None and now - self._last_sent < self.heartbeat_s:
            return self.connected
        try:
            self._transact(hp.CMD_STATUS, b"", "heartbeat", retries=0)
        except ActuatorError:
            return False
        return True

    def poll_status(self) -> dict[str, Any]:
        """STATUS request; returns :meth:`status`. Raises ActuatorError."""
        if self._closed:
            raise ActuatorError(f"{self.name}: driver is closed")
        self._transact(hp.CMD_STATUS, b"", "status request")
        return self.status()

    def status(self) -> dict[str, Any]:
        """Latest read-back from any reply (no I/O); values None before the first one."""
        r = self._reply
        out: dict[str, Any] = {
            "connected": self.connected and not self._closed,
            "heartbeat_age_s": None if self._last_ok is None else self.clock.now() - self._last_ok,
            "consecutive_failures": self.consecutive_failures,
            "last_error": self.last_error,
            "port": self.port,
            "counters": dict(self.counters),
        }
        if r is None:
            out.update(positions=None, current=None, contact=None, grip=None, remote=None,
                       moving=None, faults=[], boot_count=None)
            return out
        faults = []
        if r.flags & hp.FLAG_WATCHDOG:
            faults.append("watchdog_expired")
        if r.flags & hp.FLAG_RESET:
            faults.append("device_reset")
        out.update(
            positions=list(r.positions), current=list(r.current), contact=r.contacts,
            grip=r.grip_name, remote=bool(r.flags & hp.FLAG_REMOTE),
            moving=bool(r.flags & hp.FLAG_MOVING), faults=faults, boot_count=r.boot_count,
        )
        return out

    def safe_state(self) -> None:
        """STOP: hold every finger where it is, keep the grip. Never raises."""
        try:
            self._transact(hp.CMD_STOP, b"", "safe_state")
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
