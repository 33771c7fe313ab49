"""Bionic-hand driver: :mod:`actuators.hand_protocol` over a serial port.

No background threads. The hand's own watchdog (300 ms) drops remote control when the host
goes quiet, so the control loop calls :meth:`HandDriver.heartbeat` every tick; it sends a
STATUS request when ``heartbeat_s`` has passed since the last frame. Every reply carries
positions, motor currents and contact, so :meth:`HandDriver.status` is always fresh after
any exchange.
"""

from __future__ import annotations

from typing import Any

from actuators import hand_protocol as hp
from actuators.base import ActuatorError, Command
from actuators.driver_base import NowClock, SerialDriver, check_timing


class HandDriver(SerialDriver):
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

    device_kind = "hand"
    corrupt_grace_s = 0.003
    corrupt_kinds = frozenset({"bad_checksum", "bad_escape", "too_short"})
    retryable_nacks = hp.RETRYABLE_NACKS
    heartbeat_request = (hp.CMD_STATUS, b"")

    def __init__(self, port: str, *, baudrate: int = 460800, timeout_s: float = 0.02,
                 retries: int = 2, name: str = "hand", heartbeat_s: float = 0.1,
                 clock: NowClock | None = None, default_force: float = 0.5) -> None:
        check_timing(timeout_s, retries, heartbeat_s)
        if not 0 <= default_force <= 1:
            raise ValueError(f"default_force must be within 0..1, got {default_force}")
        self.default_force = float(default_force)
        self._reply: hp.HandReply | None = None
        super().__init__(port, baudrate=baudrate, timeout_s=timeout_s, retries=retries,
                         heartbeat_s=heartbeat_s, name=name, clock=clock,
                         parser=hp.HandFrameParser())

    # --- protocol -------------------------------------------------------------------
    def _encode(self, cmd: int, seq: int, payload: bytes) -> bytes:
        return hp.HandFrame(cmd, seq, payload).encode()

    def _match(self, frame: hp.HandFrame, seq: int, cmd: int) -> hp.HandReply | None:
        if frame.cmd != hp.REPLY or frame.seq != seq:
            return None
        try:
            reply = hp.HandReply.decode(frame.payload)
        except ValueError:
            self.counters["protocol_errors"] += 1
            return None
        return reply if reply.echo_cmd == cmd else None

    def _nack_code(self, reply: hp.HandReply) -> int | None:
        return None if reply.result == hp.RESULT_OK else reply.result

    def _nack_meaning(self, code: int) -> str:
        return hp.nack_meaning(code)

    def _on_reply(self, reply: hp.HandReply) -> None:
        self._note_boot_count(reply.boot_count)
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
        self._check_command(command)
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

    def poll_status(self) -> dict[str, Any]:
        """STATUS request; returns :meth:`status`. Raises ActuatorError."""
        self._require_open()
        self._transact(hp.CMD_STATUS, b"", "status request")
        return self.status()

    def status(self) -> dict[str, Any]:
        """Latest read-back from any reply (no I/O); values None before the first one."""
        r = self._reply
        out = self._link_status()
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
        self._enter_safe_state(hp.CMD_STOP, b"")
