"""Length-framed binary frames with CRC-16 (used by the mattress protocol).

Wire format of one frame (see ``actuators/PROTOCOLS.md``)::

    +------+-----+-----+------+-------------+-----------+
    | 0xA5 | len | seq | type | payload ... | crc16 (BE)|
    +------+-----+-----+------+-------------+-----------+
      SOF    1     1     1      len bytes      2 bytes

``len`` is the payload length (0..:data:`MAX_PAYLOAD`). The CRC is CRC-16/CCITT-FALSE
(``binascii.crc_hqx(data, 0xFFFF)``) over ``len, seq, type, payload``. There is no byte
stuffing: the parser resynchronises by length and CRC — on a bad length or a bad CRC it
drops the start byte and scans for the next ``0xA5``.

:class:`FrameParser` is incremental: ``feed(bytes)`` returns the complete frames and
:class:`ProtocolError` values found so far and keeps partial input for the next call. It
never raises on any input.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass

#: Start-of-frame byte.
SOF = 0xA5
#: Largest payload a frame may carry.
MAX_PAYLOAD = 64
#: Bytes around the payload: SOF, len, seq, type, crc(2).
OVERHEAD = 6


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) of ``data``."""
    return binascii.crc_hqx(data, 0xFFFF)


@dataclass(frozen=True)
class Frame:
    """One decoded frame.

    Parameters
    ----------
    type
        Message type byte (0..255), see the message tables in ``PROTOCOLS.md``.
    seq
        Sequence number (0..255); a reply echoes the sequence number of its request.
    payload
        Message body, at most :data:`MAX_PAYLOAD` bytes.
    """

    type: int
    seq: int
    payload: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.type <= 0xFF:
            raise ValueError(f"frame type must be 0..255, got {self.type}")
        if not 0 <= self.seq <= 0xFF:
            raise ValueError(f"frame seq must be 0..255, got {self.seq}")
        if len(self.payload) > MAX_PAYLOAD:
            raise ValueError(
                f"frame payload is {len(self.payload)} bytes, at most {MAX_PAYLOAD} allowed"
            )

    def encode(self) -> bytes:
        """The frame's bytes on the wire."""
        body = bytes((len(self.payload), self.seq, self.type)) + bytes(self.payload)
        return bytes((SOF,)) + body + crc16(body).to_bytes(2, "big")


@dataclass(frozen=True)
class ProtocolError:
    """A defined parse failure (returned by parsers, never raised).

    Parameters
    ----------
    kind
        One of ``"garbage"`` (bytes outside any frame), ``"bad_length"`` (length byte above
        the maximum), ``"bad_crc"`` (CRC mismatch), ``"truncated"`` (partial frame dropped
        after a gap), ``"bad_checksum"``, ``"bad_escape"``,
        ``"too_short"``, ``"too_long"`` (hand framing).
    detail
        Human-readable explanation.
    data
        The offending bytes (possibly truncated to 64 bytes).
    """

    kind: str
    detail: str
    data: bytes = b""


class FrameParser:
    """Incremental parser of :class:`Frame` s with length/CRC resynchronisation.

    Examples
    --------
    >>> p = FrameParser()
    >>> wire = Frame(type=1, seq=7, payload=b"hi").encode()
    >>> p.feed(wire[:3]) + p.feed(wire[3:])
    [Frame(type=1, seq=7, payload=b'hi')]
    """

    def __init__(self) -> None:
        self._buf = bytearray()

    def reset(self) -> None:
        """Forget any partial input."""
        self._buf.clear()

    @property
    def pending(self) -> int:
        """Bytes held waiting for the rest of a frame."""
        return len(self._buf)

    def flush(self) -> list[ProtocolError]:
        """Discard an incomplete frame (call after an inter-frame gap); report it if any."""
        if not self._buf:
            return []
        err = ProtocolError("truncated", f"{len(self._buf)} byte(s) of an incomplete frame "
                            "discarded after a gap", bytes(self._buf[:64]))
        self._buf.clear()
        return [err]

    def feed(self, data: bytes) -> list[Frame | ProtocolError]:
        """Add received bytes; return the frames and errors completed by them, in order."""
        self._buf += data
        out: list[Frame | ProtocolError] = []
        buf = self._buf
        while buf:
            start = buf.find(SOF)
            if start < 0:
                out.append(ProtocolError("garbage", f"{len(buf)} byte(s) without start byte",
                                         bytes(buf[:64])))
                buf.clear()
                break
            if start > 0:
                out.append(ProtocolError("garbage", f"{start} byte(s) before start byte",
                                         bytes(buf[:min(start, 64)])))
                del buf[:start]
            if len(buf) < 2:
                break
            length = buf[1]
            if length > MAX_PAYLOAD:
                out.append(ProtocolError(
                    "bad_length", f"length byte {length} exceeds maximum {MAX_PAYLOAD}",
                    bytes(buf[:2])))
                del buf[:1]
                continue
            total = length + OVERHEAD
            if len(buf) < total:
                break
            body = bytes(buf[1:4 + length])
            got = int.from_bytes(buf[4 + length:total], "big")
            want = crc16(body)
            if got != want:
                out.append(ProtocolError(
                    "bad_crc", f"crc 0x{got:04x} != computed 0x{want:04x}",
                    bytes(buf[:min(total, 64)])))
                del buf[:1]
                continue
            out.append(Frame(type=body[2], seq=body[1], payload=body[3:]))
            del buf[:total]
        return out
