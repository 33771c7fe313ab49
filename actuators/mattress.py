"""Smart-mattress driver: :mod:`actuators.mattress_protocol` over a serial port.

No background threads: the control loop calls :meth:`MattressDriver.heartbeat` every tick
(it only sends when ``heartbeat_s`` has passed since the last exchange) and
:meth:`MattressDriver.poll_status` when it wants fresh read-back.
"""

from __future__ import annotations

import time
from typing import Any

from actuators import mattress_protocol as mp
from actuators.base import ActuatorError, Command
from actuators.driver_base import NowClock, SerialDriver
from actuators.protocol import Frame, FrameParser

#: Silence inside a frame after which its bytes are treated as lost (allows for USB-serial
#: adapter latency timers, typically 1..16 ms).
_FRAME_GAP_S = 0.02


class MattressDriver(SerialDriver):
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

    device_kind = "mattress"
    corrupt_grace_s = 0.005
    corrupt_kinds = frozenset({"bad_crc"})
    retryable_nacks = mp.RETRYABLE_NACKS
    heartbeat_request = (mp.MSG_HEARTBEAT, b"")
    _parser: FrameParser

    def __init__(self, port: str, *, baudrate: int = 115200, timeout_s: float = 0.05,
                 retries: int = 3, heartbeat_s: float = 0.5, name: str = "mattress",
                 clock: NowClock | None = None) -> None:
        self._status: mp.MattressStatus | None = None
        super().__init__(port, baudrate=baudrate, timeout_s=timeout_s, retries=retries,
                         heartbeat_s=heartbeat_s, name=name, clock=clock, parser=FrameParser())

    # --- protocol -------------------------------------------------------------------
    def _encode(self, cmd: int, seq: int, payload: bytes) -> bytes:
        return Frame(cmd, seq, payload).encode()

    def _match(self, frame: Frame, seq: int, cmd: int) -> Frame | None:
        if frame.seq == seq and frame.type in (mp.MSG_ACK, mp.MSG_NACK, mp.MSG_STATUS):
            return frame
        return None

    def _nack_code(self, reply: Frame) -> int | None:
        if reply.type != mp.MSG_NACK:
            return None
        return reply.payload[1] if len(reply.payload) > 1 else 0

    def _nack_meaning(self, code: int) -> str:
        return mp.nack_meaning(code)

    def _begin_attempt(self) -> None:
        self._parser.reset()

    def _read_deadline(self, deadline: float) -> float:
        if self._parser.pending:  # inside a frame: a silent gap means bytes were lost
            return min(deadline, time.monotonic() + _FRAME_GAP_S)
        return deadline

    def _on_silence(self) -> None:
        self.counters["protocol_errors"] += len(self._parser.flush())

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
        self._check_command(command)
        try:
            payload = mp.encode_command(command.action, dict(command.params))
        except ValueError as exc:
            raise ActuatorError(f"{self.name}: invalid command: {exc}") from exc
        _, seq, retries, latency = self._transact(mp.MSG_COMMAND, payload, command.action)
        self.safe_state_confirmed = command.action == "safe_state"
        return {"seq": seq, "latency_s": latency, "retries": retries,
                "action": command.action}

    def poll_status(self) -> dict[str, Any]:
        """Request a STATUS reply, cache it and return :meth:`status`. Raises ActuatorError."""
        self._require_open()
        reply, _, _, _ = self._transact(mp.MSG_STATUS_REQ, b"", "status request")
        if reply.type != mp.MSG_STATUS:
            raise ActuatorError(f"{self.name} on {self.port}: status request answered with "
                                f"{mp.MESSAGE_NAMES.get(reply.type, reply.type)}")
        try:
            status = mp.MattressStatus.decode(reply.payload)
        except ValueError as exc:
            raise ActuatorError(f"{self.name} on {self.port}: bad status reply: {exc}") from exc
        self._note_boot_count(status.boot_count)
        self._status = status
        return self.status()

    def status(self) -> dict[str, Any]:
        """Latest read-back (no I/O). Values are None until the first successful poll."""
        s = self._status
        out = self._link_status()
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
        self._enter_safe_state(mp.MSG_COMMAND, bytes((mp.OP_SAFE_STATE,)))
