"""Lossless sample and timestamp coding of one block (format 2), compressed with zstd.

Samples
    Each channel is stored in one of two modes, chosen per block:

    * ``int`` — the values lie on a grid ``value = count × scale`` (a board's ADC counts behind
      its µV floats). The counts are delta-coded, zigzag-mapped to unsigned integers of the
      narrowest width that holds every channel's deltas (1, 2, 4 or 8 bytes), byte-shuffled
      and compressed. Decoding gives back exactly the float64 values the source delivered.
      The scale comes from the source (:class:`SampleEncoder` ``scales``) or is detected, and a
      block only uses it after checking that ``count × scale`` rebuilds every value exactly.
    * ``f32`` — no grid: float32 (24-bit mantissa, finer than any EEG ADC), byte-shuffled.
      A source that delivers float32 values gets them back exactly.

Timestamps
    ``t[i] = origin + (first_sample + i) / sfreq``. A sample whose real timestamp differs from
    that by more than :data:`TIMESTAMP_TOLERANCE_S` is an *irregularity* and is stored
    explicitly (index and float64 value). Paced sources (synthetic, replay, sessions) are
    rebuilt bit-exact; a BrainFlow board's host-clock jitter within the tolerance is not kept.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import zstandard

#: Largest deviation (s) of a timestamp from the block's regular grid that is not stored.
TIMESTAMP_TOLERANCE_S = 0.001
#: zstd level: 3 is zstd's default; higher levels cost 4–10× the time for ≤ 2 % smaller blocks.
ZSTD_LEVEL = 3
#: Blocks between two attempts to find a grid on a channel that had none.
GRID_RETRY_BLOCKS = 64
#: Largest number of grid steps the smallest difference between two values may span.
MAX_STEPS_PER_DIFF = 64
#: Largest ADC count magnitude accepted on a grid (beyond it the grid is float granularity).
MAX_COUNT = 2**31 - 1
#: Largest decompressed payload of one block (a 10-s block of 64 channels at 2 kHz is ~10 MB).
MAX_DECODED_BYTES = 64 << 20

MODE_F32 = 0
MODE_INT = 1
_PARAMS = struct.Struct("<BBI")  # width, reserved, n_irregular
_CHANNEL_DTYPE = np.dtype([("mode", "u1"), ("scale", "<f8")])  # per channel, packed (9 bytes)
_WIDTHS = {1: "<u1", 2: "<u2", 4: "<u4", 8: "<u8"}

_COMPRESSOR = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
_DECOMPRESSOR = zstandard.ZstdDecompressor()


class CodecError(ValueError):
    """A block's payload does not decode (it passed its CRC, so this is a format error)."""


def _shuffle(a: np.ndarray) -> bytes:
    """Bytes of ``a`` grouped by byte position (all first bytes, then all second bytes…)."""
    flat = np.ascontiguousarray(a).reshape(-1)
    return np.ascontiguousarray(flat.view(np.uint8).reshape(flat.size, flat.itemsize).T).tobytes()


def _unshuffle(raw: bytes, dtype: str, n: int) -> np.ndarray:
    size = np.dtype(dtype).itemsize
    planes = np.frombuffer(raw, dtype=np.uint8, count=n * size).reshape(size, n)
    return np.ascontiguousarray(planes.T).view(dtype).reshape(n)


def on_grid(x: np.ndarray, scale: float) -> np.ndarray | None:
    """Integer counts ``k`` with ``k × scale`` bitwise equal to ``x``, or ``None`` (off that grid)."""
    if not scale > 0 or not np.isfinite(scale):
        return None
    with np.errstate(all="ignore"):
        k = np.rint(x / scale)
        if not np.all(np.abs(k) <= MAX_COUNT) or not np.array_equal(
                (k * scale).view(np.int64), np.ascontiguousarray(x, dtype=np.float64).view(np.int64)):
            return None
    return k.astype(np.int64)


def detect_scale(x: np.ndarray) -> float | None:
    """A grid step on which every value of ``x`` lies exactly, or ``None``.

    The smallest difference ``d`` between distinct values is ``m`` grid steps for some small
    integer ``m`` (a few hundred samples of a real signal always hold values one or a few ADC
    counts apart); the smallest ``m ≤`` :data:`MAX_STEPS_PER_DIFF` that makes every other
    difference a whole number of steps gives the step, which is then refined to the value
    ``x[i] / k[i]`` that rebuilds ``x`` exactly (float rounding puts raw differences a few
    ulps off the true scale). Sparse values (a few samples spread over the whole ADC range)
    may go undetected; a source can then give its scale (:class:`SampleEncoder` ``scales``).
    """
    if not np.all(np.isfinite(x)):
        return None
    u = np.unique(x)
    if u.size == 1:
        return float(abs(u[0])) or 1.0
    top = float(np.max(np.abs(u)))
    diffs = np.unique(np.diff(u))[:32]
    ratio = diffs / diffs[0]
    m = np.arange(1, MAX_STEPS_PER_DIFF + 1)[:, None]
    q = ratio[None, :] * m
    whole = np.all(np.abs(q - np.rint(q)) <= 1e-6 * np.maximum(q, 1.0), axis=1)
    if not whole.any():
        return None
    step = float(diffs[0]) / int(m[np.argmax(whole), 0])
    if not step > top / MAX_COUNT:
        return None
    k = np.rint(u / step)
    ratios, counts = np.unique(u[k != 0] / k[k != 0], return_counts=True)
    for cand in (step, *ratios[np.argsort(-counts)][:8].tolist()):
        if on_grid(x, float(cand)) is not None:
            return float(cand)
    return None


@dataclass
class SampleEncoder:
    """Encodes blocks of one session; remembers each channel's grid between blocks.

    Parameters
    ----------
    n_channels
        Rows of every block.
    scales
        Optional µV per ADC count for each channel, from the source (``0`` or ``None`` = detect).
    """

    n_channels: int
    scales: tuple[float | None, ...] | None = None

    def __post_init__(self) -> None:
        hints = self.scales or (None,) * self.n_channels
        if len(hints) != self.n_channels:
            raise ValueError(f"scales has {len(hints)} entries for {self.n_channels} channels")
        self._scale: list[float | None] = [s if s else None for s in hints]
        self._retry = [0] * self.n_channels

    def channel_modes(self) -> list[str]:
        """``"int"`` or ``"f32"`` per channel, as the last block was stored."""
        return ["int" if s else "f32" for s in self._scale]

    def _counts(self, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(k, ok)``: rounded counts of every row and which rows lie exactly on their grid.

        Every row is checked against its known scale in one vectorised pass; only rows that
        fail are (re)detected, and a row without a grid is retried every
        :data:`GRID_RETRY_BLOCKS` blocks, so the steady state costs one pass.
        """
        scales = np.array([s if s else np.nan for s in self._scale])[:, None]
        with np.errstate(all="ignore"):
            k = np.rint(data / scales)
            same = (k * scales).view(np.int64) == data.view(np.int64)  # bitwise: -0.0 is not 0.0
            ok = np.all(same & (np.abs(k) <= MAX_COUNT), axis=1)
        for c in np.flatnonzero(~ok).tolist():
            self._scale[c] = None
            if self._retry[c] > 0:
                self._retry[c] -= 1
                continue
            scale = detect_scale(data[c])
            counts = on_grid(data[c], scale) if scale is not None else None
            if counts is None:
                self._retry[c] = GRID_RETRY_BLOCKS
            else:
                self._scale[c] = scale
                k[c] = counts
                ok[c] = True
        return k, ok

    def encode(self, data: np.ndarray, first_sample: int, sfreq: float, origin: float,
               timestamps: np.ndarray) -> bytes:
        """The compressed payload of one block (``data`` is ``(n_channels, n)`` float64)."""
        data = np.asarray(data, dtype=np.float64)
        n_ch, n = data.shape
        k, ok = self._counts(data)
        table = np.zeros(n_ch, _CHANNEL_DTYPE)
        table["mode"] = np.where(ok, MODE_INT, MODE_F32)
        table["scale"] = [s if s and ok[c] else 0.0 for c, s in enumerate(self._scale)]
        width = 1
        parts = [table.tobytes()]
        if ok.any():
            counts = k[ok].astype(np.int64)
            d = np.empty_like(counts)
            d[:, 0] = counts[:, 0]
            np.subtract(counts[:, 1:], counts[:, :-1], out=d[:, 1:])
            z = ((d << 1) ^ (d >> 63)).view(np.uint64)
            top = int(z.max()) if z.size else 0
            width = next(w for w in (1, 2, 4, 8) if top < 1 << (8 * w))
            parts.append(_shuffle(z.astype(_WIDTHS[width])))
        if not ok.all():
            parts.append(_shuffle(data[~ok].astype("<f4")))
        grid = origin + np.arange(first_sample, first_sample + n) / sfreq
        with np.errstate(invalid="ignore"):
            irregular = np.flatnonzero(~(np.abs(timestamps - grid) <= TIMESTAMP_TOLERANCE_S))
        if irregular.size:
            parts.append(irregular.astype("<u4").tobytes())
            parts.append(timestamps[irregular].astype("<f8").tobytes())
        head = _PARAMS.pack(width, 0, int(irregular.size))
        return _COMPRESSOR.compress(head + b"".join(parts))


def decode(payload: bytes, n_channels: int, n: int, first_sample: int, sfreq: float,
           origin: float) -> tuple[np.ndarray, np.ndarray]:
    """``(data (n_channels, n) float64, timestamps (n,))`` from an encoded payload.

    Every size is checked against the block's header before anything is allocated, so a
    payload that lies (behind a valid CRC) costs no more memory than its own bytes.

    Raises
    ------
    CodecError
        If the payload is not what :meth:`SampleEncoder.encode` writes for these sizes.
    """
    try:
        raw = _decompress(payload, n_channels, n)
        width, _, n_irr = _PARAMS.unpack_from(raw, 0)
        pos = _PARAMS.size
        table = np.frombuffer(raw, _CHANNEL_DTYPE, n_channels, pos)
        pos += n_channels * _CHANNEL_DTYPE.itemsize
        if int(table["mode"].max(initial=0)) > MODE_INT or width not in _WIDTHS or n_irr > n:
            raise CodecError(f"block has channel modes {sorted(set(table['mode'].tolist()))}, "
                             f"width {width} and {n_irr} irregular timestamps for {n} samples")
        int_rows = np.flatnonzero(table["mode"] == MODE_INT)
        f32_rows = np.flatnonzero(table["mode"] == MODE_F32)
        expected = pos + (len(int_rows) * width + len(f32_rows) * 4) * n + 12 * n_irr
        if expected != len(raw):
            raise CodecError(f"block payload has {len(raw)} bytes; its header says {expected}")
        data = np.empty((n_channels, n))
        if int_rows.size:
            size = len(int_rows) * n * width
            z = _unshuffle(raw[pos:pos + size], _WIDTHS[width], len(int_rows) * n)
            pos += size
            z = z.astype(np.int64).reshape(len(int_rows), n)
            d = (z >> 1) ^ -(z & 1)
            k = np.cumsum(d, axis=1).astype(np.float64)
            data[int_rows] = k * table["scale"][int_rows, None]
        if f32_rows.size:
            size = len(f32_rows) * n * 4
            f = _unshuffle(raw[pos:pos + size], "<f4", len(f32_rows) * n)
            pos += size
            data[f32_rows] = f.reshape(len(f32_rows), n)
        with np.errstate(all="ignore"):  # a lying header's rate gives non-finite times, not errors
            ts = origin + np.arange(first_sample, first_sample + n, dtype=np.float64) / sfreq
        if n_irr:
            idx = np.frombuffer(raw, "<u4", n_irr, pos)
            if int(idx.max()) >= n:
                raise CodecError(f"irregular timestamp index {int(idx.max())} outside the block's "
                                 f"{n} samples")
            ts[idx] = np.frombuffer(raw, "<f8", n_irr, pos + 4 * n_irr)
    except CodecError:
        raise
    except (zstandard.ZstdError, struct.error, ValueError) as exc:
        raise CodecError(f"undecodable block payload: {exc}") from None
    return data, ts


def payload_fits(payload: bytes, n_channels: int, n: int) -> bool:
    """Whether a payload's zstd frame announces a size that a block of these sizes can have.

    Only the frame header is read (no decompression): every channel costs a 9-byte table
    entry and at least one byte per sample, at most eight plus twelve per irregular time,
    and no block decompresses to more than :data:`MAX_DECODED_BYTES`.
    """
    try:
        size = zstandard.frame_content_size(payload[:18])  # 18: the longest zstd frame header
    except zstandard.ZstdError:
        return False
    least = _PARAMS.size + n_channels * (_CHANNEL_DTYPE.itemsize + n)
    most = _PARAMS.size + n_channels * (_CHANNEL_DTYPE.itemsize + 8 * n) + 12 * n
    return least <= size <= min(most, MAX_DECODED_BYTES)


def _decompress(payload: bytes, n_channels: int, n: int) -> bytes:
    """The decompressed payload; refused when its frame announces a size the block cannot have."""
    if not payload_fits(payload, n_channels, n):
        raise CodecError(f"block payload does not announce a size that {n_channels} channels of "
                         f"{n} samples can have")
    return _DECOMPRESSOR.decompress(payload)
