"""Format 1 of ``samples.bin`` (sessions written before format 2).

Each block is::

    header  <4s q I H H>  magic b"SLB1", first_sample (int64), n_samples (uint32),
                          n_channels (uint16), reserved (uint16)
    timestamps            float64 × n_samples
    data                  float32 × n_channels × n_samples (channel-major), µV
    crc                   uint32, CRC-32 of header + timestamps + data

The blocks have no sync marker, so a corrupt block hides everything after it: the scan stops
there and reports why. New sessions are written in format 2 (:mod:`.blocks`); this module
stays so that old sessions still read (:mod:`.reader`), and its writer so that the storage
benchmark can compare both formats on the same chunks.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

MAGIC = b"SLB1"
HEADER = struct.Struct("<4sqIHH")
CRC = struct.Struct("<I")


@dataclass(frozen=True)
class Block:
    """One decoded block."""

    first_sample: int
    timestamps: np.ndarray
    data: np.ndarray  # (n_channels, n_samples) float32

    @property
    def n_samples(self) -> int:
        """Samples per channel in this block."""
        return int(self.data.shape[1])


def encode_block(first_sample: int, timestamps: np.ndarray, data: np.ndarray) -> bytes:
    """Serialise one block (``data`` is ``(n_channels, n_samples)``)."""
    n_ch, n = data.shape
    header = HEADER.pack(MAGIC, int(first_sample), n, n_ch, 0)
    payload = np.ascontiguousarray(timestamps, dtype="<f8").tobytes() + np.ascontiguousarray(
        data, dtype="<f4"
    ).tobytes()
    crc = zlib.crc32(payload, zlib.crc32(header))
    return header + payload + CRC.pack(crc)


@dataclass
class ScanResult:
    """What a scan of ``samples.bin`` found besides the blocks."""

    valid_bytes: int = 0
    torn_tail_bytes: int = 0
    problem: str = ""


def iter_blocks(fh: BinaryIO, result: ScanResult | None = None, *, headers_only: bool = False
                ) -> Iterator[Block]:
    """Yield intact blocks from the start of ``fh``; stop quietly at a torn or corrupt tail.

    Parameters
    ----------
    fh
        File opened for binary reading.
    result
        Filled with how many bytes were valid and why scanning stopped early, if it did.
    headers_only
        Still verify every CRC, but skip decoding: ``timestamps`` is empty and ``data`` is a
        zero-copy placeholder of the right shape. Used to summarise long sessions quickly.
    """
    result = result if result is not None else ScanResult()
    offset = 0
    start = fh.tell()
    end = fh.seek(0, 2)
    fh.seek(start)
    while True:
        head = fh.read(HEADER.size)
        if not head:
            break
        if len(head) < HEADER.size:
            result.problem = "torn header at end of file"
            result.torn_tail_bytes = len(head)
            break
        magic, first, n, n_ch, _ = HEADER.unpack(head)
        if magic != MAGIC:
            result.problem = f"bad block magic at byte {offset}"
            break
        size = n * 8 + n * n_ch * 4
        if size + CRC.size > end - fh.tell():  # never read (allocate) what the file cannot hold
            result.problem = "torn block at end of file"
            result.torn_tail_bytes = HEADER.size + end - fh.tell()
            break
        payload = fh.read(size)
        tail = fh.read(CRC.size)
        if CRC.unpack(tail)[0] != zlib.crc32(payload, zlib.crc32(head)):
            result.problem = f"CRC mismatch in block at byte {offset}"
            break
        offset += HEADER.size + size + CRC.size
        result.valid_bytes = offset
        if headers_only:
            empty = np.empty(0)
            yield Block(first, empty, np.broadcast_to(np.float32(0), (n_ch, n)))
        else:
            ts = np.frombuffer(payload, dtype="<f8", count=n)
            data = np.frombuffer(payload, dtype="<f4", offset=n * 8).reshape(n_ch, n)
            yield Block(first, ts, data)
