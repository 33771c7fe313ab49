"""Bionic-hand wire protocol, modelled on the PSYONIC Ability Hand UART API.

Like the Ability Hand: 460800 baud, an address byte, a command byte, a one-byte
two's-complement checksum (the byte sum of the whole frame is 0 mod 256), PPP-style byte
stuffing (``0x7E`` delimits frames, ``0x7D`` escapes, the escaped byte is XOR ``0x20``),
a grip command with speed, per-finger position frames, and a reply with positions, motor
currents and touch for every command. Unlike it: a sequence byte for retries, a result
code (0 = ACK, else NACK code) and a force-limit byte. See ``actuators/PROTOCOLS.md``.

Frame (before stuffing)::

    0x7E | addr | cmd | seq | payload ... | checksum | 0x7E
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Any

from actuators.protocol import ProtocolError
from actuators.vocabulary import FINGERS, GRIP_PATTERNS

FLAG = 0x7E
ESC = 0x7D
ESC_XOR = 0x20
#: Default device address (the Ability Hand's default is 0x50 too).
ADDRESS = 0x50
#: Largest unstuffed body (addr..checksum).
MAX_BODY = 48

# --- commands (host -> hand) ---------------------------------------------------------
CMD_POSITION = 0x10  # 6 x u16 centi-% closed, speed u8, force u8
CMD_GRIP = 0x1D      # pattern u8, speed u8, force u8
CMD_STOP = 0x0F      # hold current positions; keep the grip
CMD_STATUS = 0x40    # keep-alive and read-back
# --- replies (hand -> host) ----------------------------------------------------------
REPLY = 0x90

COMMAND_NAMES = {CMD_POSITION: "set_fingers", CMD_GRIP: "grip", CMD_STOP: "stop",
                 CMD_STATUS: "status"}

#: Finger targets (% closed) of each grip pattern, in :data:`FINGERS` order.
GRIP_TARGETS: dict[str, tuple[float, ...]] = {
    "open": (0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    "power": (70.0, 60.0, 100.0, 100.0, 100.0, 100.0),
    "pinch": (55.0, 90.0, 55.0, 0.0, 0.0, 0.0),
    "tripod": (55.0, 90.0, 55.0, 55.0, 0.0, 0.0),
    "key": (60.0, 0.0, 100.0, 100.0, 100.0, 100.0),
    "point": (80.0, 60.0, 0.0, 100.0, 100.0, 100.0),
}
#: Grip index 0xFF in replies: per-finger position control, no named grip.
GRIP_CUSTOM = 0xFF

# --- result codes --------------------------------------------------------------------
RESULT_OK = 0x00
NACK_UNKNOWN_COMMAND = 0x01
NACK_BAD_LENGTH = 0x02
NACK_OUT_OF_RANGE = 0x03
NACK_BUSY = 0x04
NACK_FAULT = 0x05
NACK_MEANINGS = {
    NACK_UNKNOWN_COMMAND: "unknown command",
    NACK_BAD_LENGTH: "payload length wrong for command",
    NACK_OUT_OF_RANGE: "parameter out of device range",
    NACK_BUSY: "hand busy, retry",
    NACK_FAULT: "hand in fault state, command refused",
}
RETRYABLE_NACKS = frozenset({NACK_BUSY})

FLAG_REMOTE = 0x01
FLAG_MOVING = 0x02
FLAG_WATCHDOG = 0x04
FLAG_RESET = 0x08

#: echo cmd, result, flags, grip; 6 positions (centi-%); 6 currents (mA); contact bits;
#: boot count.
REPLY_STRUCT = struct.Struct(">BBBB6H6HBH")


def nack_meaning(code: int) -> str:
    """Human-readable meaning of a result code."""
    return NACK_MEANINGS.get(code, f"unknown result code 0x{code:02x}")


def checksum(body: bytes) -> int:
    """Two's-complement checksum: ``(sum(body) + checksum) % 256 == 0``."""
    return (-sum(body)) & 0xFF


def stuff(data: bytes) -> bytes:
    """PPP-style escaping of FLAG and ESC bytes."""
    return data.replace(b"\x7d", b"\x7d\x5d").replace(b"\x7e", b"\x7d\x5e")


_WELL_ESCAPED = re.compile(rb"(?:[^\x7d]|\x7d.)*", re.S)
_ESCAPE_PAIR = re.compile(rb"\x7d(.)", re.S)


def unstuff(data: bytes) -> bytes | None:
    """Undo :func:`stuff`; None when an escape byte has nothing to escape."""
    if _WELL_ESCAPED.fullmatch(data) is None:
        return None
    return _ESCAPE_PAIR.sub(lambda m: bytes((m.group(1)[0] ^ ESC_XOR,)), data)


@dataclass(frozen=True)
class HandFrame:
    """One hand frame: address, command, sequence number and payload."""

    cmd: int
    seq: int
    payload: bytes = b""
    addr: int = ADDRESS

    def __post_init__(self) -> None:
        for name in ("cmd", "seq", "addr"):
            v = getattr(self, name)
            if not 0 <= v <= 0xFF:
                raise ValueError(f"hand frame {name} must be 0..255, got {v}")
        if len(self.payload) > MAX_BODY - 4:
            raise ValueError(f"hand frame payload is {len(self.payload)} bytes, at most "
                             f"{MAX_BODY - 4} allowed")

    def encode(self) -> bytes:
        """Stuffed bytes on the wire, with leading and trailing flags."""
        body = bytes((self.addr, self.cmd, self.seq)) + bytes(self.payload)
        return bytes((FLAG,)) + stuff(body + bytes((checksum(body),))) + bytes((FLAG,))


class HandFrameParser:
    """Incremental parser: ``feed(bytes) -> list[HandFrame | ProtocolError]``, never raises.

    Bytes received before the first flag are reported as ``garbage``; a body longer than
    :data:`MAX_BODY` as ``too_long`` (the rest up to the next flag is discarded).
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._synced = False
        self._overflow = False

    def reset(self) -> None:
        """Forget partial input and wait for the next flag."""
        self._buf.clear()
        self._synced = False
        self._overflow = False

    def feed(self, data: bytes) -> list[HandFrame | ProtocolError]:
        """Add received bytes; return completed frames and errors in order."""
        out: list[HandFrame | ProtocolError] = []
        data = bytes(data)
        i = 0
        while i < len(data):
            j = data.find(FLAG, i)
            self._append(data[i:] if j < 0 else data[i:j])
            if j < 0:
                break
            i = j + 1
            if not self._synced:
                self._synced = True
                if self._buf:
                    out.append(ProtocolError("garbage", f"{len(self._buf)} byte(s) before "
                                             "the first flag", bytes(self._buf[:64])))
            elif self._overflow:
                out.append(ProtocolError("too_long", f"frame longer than {MAX_BODY} bytes",
                                         bytes(self._buf[:64])))
            elif self._buf:
                out.append(self._decode(bytes(self._buf)))
            self._buf.clear()
            self._overflow = False
        return out

    def _append(self, segment: bytes) -> None:
        room = 2 * MAX_BODY - len(self._buf)
        if len(segment) > room:
            self._overflow = True
            segment = segment[:max(room, 0)]
        self._buf += segment

    @staticmethod
    def _decode(raw: bytes) -> HandFrame | ProtocolError:
        body = unstuff(raw)
        if body is None:
            return ProtocolError("bad_escape", "escape byte with nothing to escape", raw[:64])
        if len(body) < 4:
            return ProtocolError("too_short", f"{len(body)} byte body, at least 4 needed",
                                 raw[:64])
        if len(body) > MAX_BODY:
            return ProtocolError("too_long", f"frame body {len(body)} > {MAX_BODY} bytes",
                                 raw[:64])
        if sum(body) & 0xFF:
            return ProtocolError("bad_checksum", f"byte sum 0x{sum(body) & 0xFF:02x} != 0",
                                 raw[:64])
        return HandFrame(cmd=body[1], seq=body[2], payload=bytes(body[3:-1]), addr=body[0])


class HandMessageError(ValueError):
    """Valid frame, invalid message; carries the result code the hand answers with."""

    def __init__(self, code: int, detail: str) -> None:
        super().__init__(f"{nack_meaning(code)} ({detail})")
        self.code = code


def _unit(params: dict[str, Any], key: str, action: str, default: float | None) -> float:
    value = params.get(key, default)
    if value is None:
        raise ValueError(f"{action} needs parameter {key!r} (0..1), got {sorted(params)}")
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"{action} parameter {key!r} must be a number in 0..1, got {value!r}")
    return float(value)


def encode_command(action: str, params: dict[str, Any], *,
                   default_force: float = 0.5) -> tuple[int, bytes]:
    """(command byte, payload) for a :class:`~actuators.base.Command` action.

    ``set_fingers`` takes an optional ``force`` (0..1); without it ``default_force``.

    Raises
    ------
    ValueError
        Unknown action, missing or out-of-range parameter (names what is allowed).
    """
    if action == "grip":
        pattern = params.get("pattern")
        if pattern not in GRIP_PATTERNS:
            raise ValueError(f"grip pattern must be one of {list(GRIP_PATTERNS)}, "
                             f"got {pattern!r}")
        speed = _unit(params, "speed", action, 0.5)
        force = _unit(params, "force", action, None)
        return CMD_GRIP, bytes((GRIP_PATTERNS.index(pattern), round(speed * 255),
                                round(force * 255)))
    if action == "set_fingers":
        pos = params.get("positions")
        if not isinstance(pos, list | tuple) or len(pos) != 6:
            raise ValueError(f"set_fingers positions must be 6 values ({', '.join(FINGERS)}) "
                             f"in 0..100, got {pos!r}")
        for name, p in zip(FINGERS, pos, strict=True):
            if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 100:
                raise ValueError(f"set_fingers position of {name} must be 0..100, got {p!r}")
        speed = _unit(params, "speed", action, 0.5)
        force = _unit(params, "force", action, default_force)
        return CMD_POSITION, struct.pack(">6HBB", *(round(p * 100) for p in pos),
                                         round(speed * 255), round(force * 255))
    if action == "stop":
        return CMD_STOP, b""
    if action == "status":
        return CMD_STATUS, b""
    raise ValueError(f"unknown hand action {action!r}; allowed: ['grip', 'set_fingers', 'stop']")


_LENGTHS = {CMD_GRIP: 3, CMD_POSITION: 14, CMD_STOP: 0, CMD_STATUS: 0}


def decode_command(cmd: int, payload: bytes) -> dict[str, Any]:
    """Device side: decode into ``{"action": ..., **values}`` (positions in %, 0..1 units).

    Raises
    ------
    HandMessageError
        Unknown command, wrong length or out-of-range value, with the NACK code.
    """
    if cmd not in _LENGTHS:
        raise HandMessageError(NACK_UNKNOWN_COMMAND, f"command 0x{cmd:02x}")
    if len(payload) != _LENGTHS[cmd]:
        raise HandMessageError(NACK_BAD_LENGTH, f"{COMMAND_NAMES[cmd]} needs "
                               f"{_LENGTHS[cmd]} bytes, got {len(payload)}")
    if cmd == CMD_GRIP:
        idx, speed, force = payload
        if idx >= len(GRIP_PATTERNS):
            raise HandMessageError(NACK_OUT_OF_RANGE, f"grip index {idx}")
        return {"action": "grip", "pattern": GRIP_PATTERNS[idx], "speed": speed / 255,
                "force": force / 255}
    if cmd == CMD_POSITION:
        *pos, speed, force = struct.unpack(">6HBB", payload)
        positions = [p / 100 for p in pos]
        if max(positions) > 100:
            raise HandMessageError(NACK_OUT_OF_RANGE, f"positions {positions}")
        return {"action": "set_fingers", "positions": positions, "speed": speed / 255,
                "force": force / 255}
    return {"action": COMMAND_NAMES[cmd]}


@dataclass(frozen=True)
class HandReply:
    """Decoded REPLY payload (positions in % closed, currents in mA)."""

    echo_cmd: int
    result: int
    flags: int
    grip: int
    positions: tuple[float, ...]
    current: tuple[int, ...]
    contact: int
    boot_count: int

    def encode(self) -> bytes:
        """REPLY payload bytes."""
        return REPLY_STRUCT.pack(
            self.echo_cmd, self.result, self.flags, self.grip,
            *(max(0, min(10000, round(p * 100))) for p in self.positions),
            *(max(0, min(65535, int(c))) for c in self.current),
            self.contact, self.boot_count & 0xFFFF)

    @classmethod
    def decode(cls, payload: bytes) -> HandReply:
        """Parse a REPLY payload; ValueError on a wrong length."""
        if len(payload) != REPLY_STRUCT.size:
            raise ValueError(f"hand reply must be {REPLY_STRUCT.size} bytes, got {len(payload)}")
        v = REPLY_STRUCT.unpack(payload)
        return cls(v[0], v[1], v[2], v[3], tuple(p / 100 for p in v[4:10]),
                   tuple(v[10:16]), v[16], v[17])

    @property
    def grip_name(self) -> str:
        """Name of the active grip pattern, ``"custom"`` for per-finger control."""
        return GRIP_PATTERNS[self.grip] if self.grip < len(GRIP_PATTERNS) else "custom"

    @property
    def contacts(self) -> list[bool]:
        """Per-finger contact flags."""
        return [bool(self.contact >> i & 1) for i in range(6)]
