"""Format 2 of ``samples.bin``: independent, self-delimiting, compressed sample blocks.

Each block is::

    frame   <8s I I>  SYNC marker, body length (uint32), CRC-32 of marker + length
    body    <q I H H d d>  first_sample (int64), n_samples (uint32), n_channels (uint16),
                           segment (uint16), origin (float64 s), sfreq (float64 Hz)
            payload        zstd frame (see :mod:`firmware_host.session.codec`)
    crc     uint32, CRC-32 of body

A block needs nothing outside itself to decode. The scanner reads a block where a valid frame
starts; anywhere else (a flipped bit, a torn write, bytes from a restart after a power cut) it
searches forward for the next sync marker whose frame CRC checks, so a damaged range costs
only the blocks it touches, and every skipped byte range is reported with its cause. The
frame CRC means a wrong length is never trusted; a false sync inside compressed data passes
it with probability 2⁻³².
"""

from __future__ import annotations

import mmap
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from firmware_host.session.codec import CodecError, SampleEncoder, decode, payload_fits

SYNC = b"\x8aSLB2\r\n\x1a"
FRAME = struct.Struct("<8sII")
BODY = struct.Struct("<qIHHdd")
CRC = struct.Struct("<I")
#: Longest body a frame may announce (a 10-s block of 64 float channels at 2 kHz is ~5 MB).
MAX_BODY = 64 << 20


@dataclass(frozen=True)
class BlockInfo:
    """Where one intact block lies and what it holds (no samples decoded)."""

    offset: int
    size: int
    first_sample: int
    n_samples: int
    n_channels: int
    segment: int
    origin: float
    sfreq: float

    @property
    def end_sample(self) -> int:
        """One past the last sample index of the block."""
        return self.first_sample + self.n_samples


@dataclass(frozen=True)
class Damage:
    """A byte range of ``samples.bin`` that held no intact block.

    ``cause`` is one of ``"corrupt"`` (a frame or body CRC failed, or undecodable bytes) or
    ``"torn"`` (the file ends inside a block: a write cut short by a kill or a power cut).
    """

    offset: int
    size: int
    cause: str
    detail: str


@dataclass
class Scan:
    """Every intact block and every damaged range of one ``samples.bin``."""

    blocks: list[BlockInfo] = field(default_factory=list)
    damage: list[Damage] = field(default_factory=list)
    size: int = 0


def encode_block(encoder: SampleEncoder, first_sample: int, data: np.ndarray, timestamps: np.ndarray,
                 *, sfreq: float, origin: float, segment: int = 0) -> bytes:
    """One framed block of ``data`` ``(n_channels, n)`` starting at absolute ``first_sample``."""
    n_ch, n = data.shape
    body = BODY.pack(int(first_sample), n, n_ch, segment, float(origin), float(sfreq))
    body += encoder.encode(data, first_sample, sfreq, origin, timestamps)
    head = SYNC + struct.pack("<I", len(body))
    return head + CRC.pack(zlib.crc32(head)) + body + CRC.pack(zlib.crc32(body))


def _frame_at(buf: mmap.mmap | bytes, pos: int, size: int) -> tuple[int | None, str]:
    """Body length of a valid frame at ``pos``, or ``None`` and why not."""
    if pos + FRAME.size > size:
        return None, "torn"
    sync, length, crc = FRAME.unpack_from(buf, pos)
    if sync != SYNC:
        return None, "corrupt"
    if zlib.crc32(buf[pos:pos + 12]) != crc or not BODY.size <= length <= MAX_BODY:
        return None, "corrupt"
    if pos + FRAME.size + length + CRC.size > size:
        return None, "torn"
    return length, ""


def scan_bytes(buf: mmap.mmap | bytes) -> Scan:
    """Find every intact block of a format-2 byte buffer and every damaged range between them."""
    size = len(buf)
    out = Scan(size=size)
    pos = 0
    while pos < size:
        length, why = _frame_at(buf, pos, size)
        if length is not None:
            body_at = pos + FRAME.size
            (crc,) = CRC.unpack_from(buf, body_at + length)
            if zlib.crc32(buf[body_at:body_at + length]) == crc:
                first, n, n_ch, seg, origin, sfreq = BODY.unpack_from(buf, body_at)
                total = FRAME.size + length + CRC.size
                head = bytes(buf[body_at + BODY.size:body_at + min(length, BODY.size + 18)])
                if payload_fits(head, n_ch, n):
                    out.blocks.append(BlockInfo(pos, total, first, n, n_ch, seg, origin, sfreq))
                else:  # its CRC checks, but no recorder wrote it (false sync, foreign bytes)
                    _add_damage(out, pos, total, "corrupt",
                                "a block whose payload does not fit its header")
                pos += total
                continue
            why = "corrupt"
        nxt = buf.find(SYNC, pos + 1)
        stop = size if nxt < 0 else nxt
        detail = ("a block cut short (write interrupted by a kill or a power cut)" if why == "torn"
                  else "CRC mismatch or bytes that are not a block")
        _add_damage(out, pos, stop - pos, why, detail)
        pos = stop
    return out


def peek_body(path: Path, offset: int) -> tuple[int, int] | None:
    """``(first_sample, n_samples)`` of a damaged block at ``offset`` if its frame checks.

    The body header is not covered by a verified CRC here (the block is damaged), so callers
    must check the values for plausibility; ``None`` if the frame itself is not intact.
    """
    with open(path, "rb") as fh:
        fh.seek(offset)
        head = fh.read(FRAME.size + BODY.size)
    if len(head) < FRAME.size + BODY.size:
        return None
    sync, length, crc = FRAME.unpack_from(head, 0)
    if sync != SYNC or zlib.crc32(head[:12]) != crc or length < BODY.size:
        return None
    first, n, *_ = BODY.unpack_from(head, FRAME.size)
    return first, n


def _add_damage(scan: Scan, offset: int, size: int, cause: str, detail: str) -> None:
    """Record a damaged range, merging it with an adjacent one of the same cause."""
    if scan.damage and scan.damage[-1].offset + scan.damage[-1].size == offset \
            and scan.damage[-1].cause == cause:
        last = scan.damage.pop()
        offset, size = last.offset, last.size + size
    scan.damage.append(Damage(offset, size, cause, detail))


def scan_file(path: Path) -> Scan:
    """:func:`scan_bytes` of a file (memory-mapped; an empty file has no blocks)."""
    with open(path, "rb") as fh:
        size = fh.seek(0, 2)
        if size == 0:
            return Scan()
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            return scan_bytes(buf)


def read_block(buf: mmap.mmap | bytes, info: BlockInfo) -> tuple[np.ndarray, np.ndarray]:
    """Decode one block found by a scan: ``(data (n_channels, n) float64, timestamps (n,))``.

    Raises
    ------
    CodecError
        If the payload does not decode (format error behind a valid CRC).
    """
    start = info.offset + FRAME.size + BODY.size
    stop = info.offset + info.size - CRC.size
    return decode(bytes(buf[start:stop]), info.n_channels, info.n_samples, info.first_sample,
                  info.sfreq, info.origin)


def iter_decoded(path: Path, blocks: list[BlockInfo]) -> Iterator[tuple[BlockInfo, np.ndarray, np.ndarray]]:
    """Decode ``blocks`` of the file at ``path`` in order; undecodable ones are skipped."""
    if not blocks:
        return
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        for info in blocks:
            try:
                data, ts = read_block(buf, info)
            except CodecError:
                continue
            yield info, data, ts
