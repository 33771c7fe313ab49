"""Mattress controller messages on top of :mod:`actuators.protocol` frames.

Shared by the driver (:mod:`actuators.mattress`) and the simulator
(:mod:`actuators.simulators.mattress`). All multi-byte integers are big-endian. See
``actuators/PROTOCOLS.md`` for the full description.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from actuators.params import choice, number
from actuators.protocol import Frame
from actuators.vocabulary import ELEVATION_ZONES, FIRMNESS_ZONES, VIBRATION_PATTERNS

# --- message types -------------------------------------------------------------------
MSG_COMMAND = 0x01
MSG_ACK = 0x02
MSG_NACK = 0x03
MSG_STATUS_REQ = 0x04
MSG_STATUS = 0x05
MSG_HEARTBEAT = 0x06

MESSAGE_NAMES = {
    MSG_COMMAND: "command", MSG_ACK: "ack", MSG_NACK: "nack",
    MSG_STATUS_REQ: "status_request", MSG_STATUS: "status", MSG_HEARTBEAT: "heartbeat",
}

# --- command opcodes (first payload byte of a COMMAND) -------------------------------
OP_SET_ELEVATION = 0x01   # zone u8, centi-degrees i16
OP_SET_FIRMNESS = 0x02    # zone u8, level u8 (0..100)
OP_SET_TEMPERATURE = 0x03  # centi-degC i16
OP_SET_VIBRATION = 0x04   # intensity u8 (0..100), pattern u8
OP_STOP = 0x05            # stop elevation motors, hold position
OP_HEATER_OFF = 0x06      # heating off (surface drifts to ambient)
OP_SAFE_STATE = 0x0F      # stop + hold, vibration off, heating off

OPCODE_NAMES = {
    OP_SET_ELEVATION: "set_elevation", OP_SET_FIRMNESS: "set_firmness",
    OP_SET_TEMPERATURE: "set_temperature", OP_SET_VIBRATION: "set_vibration",
    OP_STOP: "stop", OP_HEATER_OFF: "heater_off", OP_SAFE_STATE: "safe_state",
}

# --- zones / patterns ----------------------------------------------------------------

#: Device limits (the device NACKs with OUT_OF_RANGE outside them; the host safety layer
#: keeps commands far tighter).
ELEVATION_MAX_DEG = {"head": 60.0, "feet": 45.0}
TEMPERATURE_RANGE_C = (15.0, 40.0)

# --- NACK codes ----------------------------------------------------------------------
NACK_UNKNOWN_OPCODE = 0x01
NACK_BAD_LENGTH = 0x02
NACK_OUT_OF_RANGE = 0x03
NACK_BUSY = 0x04
NACK_FAULT = 0x05
NACK_INTERNAL = 0x06
NACK_UNKNOWN_TYPE = 0x07

NACK_MEANINGS = {
    NACK_UNKNOWN_OPCODE: "unknown opcode",
    NACK_BAD_LENGTH: "payload length wrong for opcode",
    NACK_OUT_OF_RANGE: "parameter out of device range",
    NACK_BUSY: "device busy, retry",
    NACK_FAULT: "device in fault state, command refused",
    NACK_INTERNAL: "internal device error",
    NACK_UNKNOWN_TYPE: "unknown message type",
}
#: NACK codes worth retrying with the same sequence number.
RETRYABLE_NACKS = frozenset({NACK_BUSY})

# --- status --------------------------------------------------------------------------
#: head, feet, head target, feet target (centi-deg i16); flags u8; firmness x3 u8;
#: temperature, target temperature (centi-degC i16, TEMP_OFF = heater off);
#: vibration intensity u8, pattern u8; fault bits u16; boot count u16.
STATUS_STRUCT = struct.Struct(">hhhhBBBBhhBBHH")
TEMP_OFF = -32768

FLAG_MOVING_HEAD = 0x01
FLAG_MOVING_FEET = 0x02
FLAG_DEVICE_SAFE = 0x04
FLAG_HEATER_ON = 0x08

#: Fault bit -> name.
FAULT_BITS = {
    0x0001: "heartbeat_lost",
    0x0002: "device_reset",
    0x0004: "motor_stall",
    0x0008: "overtemperature",
}
FAULT_BIT_BY_NAME = {name: bit for bit, name in FAULT_BITS.items()}


class MessageError(ValueError):
    """A frame decoded fine but its content is not a valid message (carries a NACK code)."""

    def __init__(self, code: int, detail: str) -> None:
        super().__init__(f"{NACK_MEANINGS.get(code, 'error')} ({detail})")
        self.code = code


def nack_meaning(code: int) -> str:
    """Human-readable meaning of a NACK code."""
    return NACK_MEANINGS.get(code, f"unknown NACK code 0x{code:02x}")


def _index(params: dict[str, Any], key: str, allowed: tuple[str, ...], **kw: Any) -> int:
    return allowed.index(choice(params, key, allowed, **kw))


def encode_command(action: str, params: dict[str, Any]) -> bytes:
    """Payload of a COMMAND frame for a :class:`~actuators.base.Command` action.

    Raises
    ------
    ValueError
        Unknown action or parameter missing / of the wrong type / outside the encodable
        range; the message names the action, the parameter and what is allowed.
    """
    if action == "set_elevation":
        zone = _index(params, "zone", ELEVATION_ZONES)
        deg = number(params, "degrees", what=f"{action} degrees")
        hi = ELEVATION_MAX_DEG[ELEVATION_ZONES[zone]]
        if not 0.0 <= deg <= hi:
            raise ValueError(f"set_elevation degrees must be 0..{hi} for "
                             f"{ELEVATION_ZONES[zone]}, got {deg}")
        return struct.pack(">BBh", OP_SET_ELEVATION, zone, round(deg * 100))
    if action == "set_firmness":
        zone = _index(params, "zone", FIRMNESS_ZONES)
        level = number(params, "level", what=f"{action} level")
        if not 0 <= level <= 100:
            raise ValueError(f"set_firmness level must be 0..100, got {level}")
        return struct.pack(">BBB", OP_SET_FIRMNESS, zone, round(level))
    if action == "set_temperature":
        c = number(params, "celsius", what=f"{action} celsius")
        lo, hi = TEMPERATURE_RANGE_C
        if not lo <= c <= hi:
            raise ValueError(f"set_temperature celsius must be {lo}..{hi}, got {c}")
        return struct.pack(">Bh", OP_SET_TEMPERATURE, round(c * 100))
    if action == "set_vibration":
        intensity = number(params, "intensity", what=f"{action} intensity")
        if not 0 <= intensity <= 100:
            raise ValueError(f"set_vibration intensity must be 0..100, got {intensity}")
        pattern = _index(params, "pattern", VIBRATION_PATTERNS, default="continuous")
        return struct.pack(">BBB", OP_SET_VIBRATION, round(intensity), pattern)
    if action == "stop":
        return bytes((OP_STOP,))
    if action == "heater_off":
        return bytes((OP_HEATER_OFF,))
    if action == "safe_state":
        return bytes((OP_SAFE_STATE,))
    allowed = ["set_elevation", "set_firmness", "set_temperature", "set_vibration", "stop"]
    raise ValueError(f"unknown mattress action {action!r}; allowed: {allowed}")


_LENGTHS = {OP_SET_ELEVATION: 4, OP_SET_FIRMNESS: 3, OP_SET_TEMPERATURE: 3,
            OP_SET_VIBRATION: 3, OP_STOP: 1, OP_HEATER_OFF: 1, OP_SAFE_STATE: 1}


def decode_command(payload: bytes) -> dict[str, Any]:
    """Decode a COMMAND payload into ``{"action": ..., **params}`` without range checks.

    The simulator logs these values even for commands it then refuses, so tests can check
    that nothing out of bounds ever reached the device.

    Raises
    ------
    MessageError
        With the NACK code the device answers (unknown opcode, bad length, bad zone or
        pattern index).
    """
    if not payload:
        raise MessageError(NACK_BAD_LENGTH, "empty command payload")
    op = payload[0]
    if op not in _LENGTHS:
        raise MessageError(NACK_UNKNOWN_OPCODE, f"opcode 0x{op:02x}")
    if len(payload) != _LENGTHS[op]:
        raise MessageError(NACK_BAD_LENGTH,
                           f"{OPCODE_NAMES[op]} needs {_LENGTHS[op]} bytes, got {len(payload)}")
    if op == OP_SET_ELEVATION:
        _, zone, cdeg = struct.unpack(">BBh", payload)
        if zone >= len(ELEVATION_ZONES):
            raise MessageError(NACK_OUT_OF_RANGE, f"elevation zone index {zone}")
        return {"action": "set_elevation", "zone": ELEVATION_ZONES[zone], "degrees": cdeg / 100}
    if op == OP_SET_FIRMNESS:
        _, zone, level = payload
        if zone >= len(FIRMNESS_ZONES):
            raise MessageError(NACK_OUT_OF_RANGE, f"firmness zone index {zone}")
        return {"action": "set_firmness", "zone": FIRMNESS_ZONES[zone], "level": level}
    if op == OP_SET_TEMPERATURE:
        return {"action": "set_temperature", "celsius": struct.unpack(">h", payload[1:])[0] / 100}
    if op == OP_SET_VIBRATION:
        _, intensity, pattern = payload
        if pattern >= len(VIBRATION_PATTERNS):
            raise MessageError(NACK_OUT_OF_RANGE, f"vibration pattern index {pattern}")
        return {"action": "set_vibration", "intensity": intensity,
                "pattern": VIBRATION_PATTERNS[pattern]}
    return {"action": OPCODE_NAMES[op]}


def validate_command(values: dict[str, Any]) -> None:
    """Device-side range check of a decoded command; raises MessageError(OUT_OF_RANGE)."""
    action = values["action"]
    if action == "set_elevation":
        hi = ELEVATION_MAX_DEG[values["zone"]]
        if not 0 <= values["degrees"] <= hi:
            raise MessageError(NACK_OUT_OF_RANGE,
                               f"{values['zone']} elevation {values['degrees']} deg not in 0..{hi}")
    elif action == "set_firmness" and values["level"] > 100:
        raise MessageError(NACK_OUT_OF_RANGE, f"firmness level {values['level']} > 100")
    elif action == "set_temperature":
        lo, hi = TEMPERATURE_RANGE_C
        if not lo <= values["celsius"] <= hi:
            raise MessageError(NACK_OUT_OF_RANGE,
                               f"temperature {values['celsius']} degC not in {lo}..{hi}")
    elif action == "set_vibration" and values["intensity"] > 100:
        raise MessageError(NACK_OUT_OF_RANGE, f"vibration intensity {values['intensity']} > 100")


@dataclass(frozen=True)
class MattressStatus:
    """Decoded STATUS reply (units: degrees, 0..100 levels, degC)."""

    head_deg: float
    feet_deg: float
    head_target_deg: float
    feet_target_deg: float
    flags: int
    firmness: tuple[int, int, int]
    temperature_c: float
    target_temperature_c: float | None
    vibration_intensity: int
    vibration_pattern: str
    fault_bits: int
    boot_count: int

    def encode(self) -> bytes:
        """STATUS payload bytes."""
        tt = TEMP_OFF if self.target_temperature_c is None else round(
            self.target_temperature_c * 100)
        return STATUS_STRUCT.pack(
            round(self.head_deg * 100), round(self.feet_deg * 100),
            round(self.head_target_deg * 100), round(self.feet_target_deg * 100),
            self.flags, *self.firmness, round(self.temperature_c * 100), tt,
            self.vibration_intensity, VIBRATION_PATTERNS.index(self.vibration_pattern),
            self.fault_bits, self.boot_count & 0xFFFF)

    @classmethod
    def decode(cls, payload: bytes) -> MattressStatus:
        """Parse a STATUS payload; raises ValueError on a wrong length or pattern."""
        if len(payload) != STATUS_STRUCT.size:
            raise ValueError(f"status payload must be {STATUS_STRUCT.size} bytes, "
                             f"got {len(payload)}")
        (h, f, ht, ft, flags, f0, f1, f2, t, tt, vi, vp, faults,
         boot) = STATUS_STRUCT.unpack(payload)
        if vp >= len(VIBRATION_PATTERNS):
            raise ValueError(f"vibration pattern index {vp} unknown")
        return cls(h / 100, f / 100, ht / 100, ft / 100, flags, (f0, f1, f2), t / 100,
                   None if tt == TEMP_OFF else tt / 100, vi, VIBRATION_PATTERNS[vp],
                   faults, boot)

    @property
    def fault_names(self) -> list[str]:
        """Names of the set fault bits."""
        return [name for bit, name in FAULT_BITS.items() if self.fault_bits & bit]


def ack(seq: int, opcode: int) -> Frame:
    """ACK frame echoing ``seq`` and the acknowledged opcode (0 for heartbeats)."""
    return Frame(MSG_ACK, seq, bytes((opcode,)))


def nack(seq: int, opcode: int, code: int) -> Frame:
    """NACK frame: opcode that failed and the error code."""
    return Frame(MSG_NACK, seq, bytes((opcode, code)))
