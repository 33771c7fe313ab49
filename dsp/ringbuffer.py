"""A multichannel ring buffer addressed by absolute sample number.

Windows and epochs are asked for by absolute sample index (``read(start, stop)``), so a
consumer never has to track where the write pointer is. Gaps are visible twice:

* :attr:`RingBuffer.gaps` lists every ``(start, stop)`` range of samples that never arrived
  (``first_sample`` jumped forward), oldest first;
* the missing samples read back as **NaN** (they are filled with NaN when the jump happens),
  and :meth:`RingBuffer.valid_mask` gives the same information as booleans.
"""

from __future__ import annotations

import numpy as np

from dsp.validation import as_block, positive_int

__all__ = ["RingBuffer", "RingBufferError"]


class RingBufferError(IndexError):
    """A read asked for samples the buffer does not hold (overwritten or not yet written)."""


class RingBuffer:
    """Fixed-capacity ``(n_channels, capacity)`` float64 history indexed by absolute sample.

    Parameters
    ----------
    n_channels
        Rows of every block.
    capacity
        Number of most recent samples kept per channel.

    Notes
    -----
    The first :meth:`write` fixes where the stream starts (no gap before it). Later writes
    must continue at :attr:`end` or jump forward (a gap: recorded in :attr:`gaps`, filled
    with NaN); going backwards raises :class:`ValueError`.
    """

    def __init__(self, n_channels: int, capacity: int) -> None:
        self.n_channels = positive_int(n_channels, "n_channels")
        self.capacity = positive_int(capacity, "capacity")
        self._data = np.full((self.n_channels, self.capacity), np.nan)
        self._start: int | None = None
        self._end = 0
        self.gaps: list[tuple[int, int]] = []

    # ------------------------------------------------------------------ positions
    @property
    def end(self) -> int:
        """Absolute index one past the last written sample (0 before the first write)."""
        return self._end

    @property
    def latest(self) -> int | None:
        """Absolute index of the last written sample, ``None`` when nothing was written."""
        return None if self._start is None else self._end - 1

    @property
    def oldest(self) -> int | None:
        """Absolute index of the oldest sample still held, ``None`` when nothing was written."""
        if self._start is None:
            return None
        return max(self._start, self._end - self.capacity)

    def __len__(self) -> int:
        """Number of samples currently held (gap samples included)."""
        return 0 if self._start is None else self._end - self.oldest  # type: ignore[operator]

    def reset(self) -> None:
        """Forget everything, including the gap list."""
        self._data[...] = np.nan
        self._start = None
        self._end = 0
        self.gaps = []

    # ------------------------------------------------------------------ writing
    def _put(self, first: int, block: np.ndarray) -> None:
        n = block.shape[1]
        if n > self.capacity:
            first += n - self.capacity
            block = block[:, n - self.capacity :]
            n = self.capacity
        pos = first % self.capacity
        head = min(n, self.capacity - pos)
        self._data[:, pos : pos + head] = block[:, :head]
        if head < n:
            self._data[:, : n - head] = block[:, head:]

    def write(self, first_sample: int, block: np.ndarray) -> None:
        """Store a ``(n_channels, n)`` block whose first column is sample ``first_sample``.

        Raises
        ------
        ValueError
            Wrong shape, NaN/inf in the block, a negative ``first_sample``, or (for a
            non-empty block) ``first_sample`` before :attr:`end` (overlapping or going back
            in time). An empty block is accepted anywhere and changes nothing.
        """
        first = int(first_sample)
        x = as_block(block, "block", self.n_channels)
        n = x.shape[1]
        if first < 0:
            raise ValueError(f"first_sample must be >= 0, got {first}")
        if n == 0:  # an empty block changes nothing, wherever it claims to be
            return
        if self._start is None:
            self._start = first
            self._end = first
        if first < self._end:
            raise ValueError(
                f"write at sample {first} overlaps or precedes data already written "
                f"(next expected sample is {self._end}); samples only move forward"
            )
        if first > self._end:
            self.gaps.append((self._end, first))
            gap_len = min(first - self._end, self.capacity)
            self._put(first - gap_len, np.full((self.n_channels, gap_len), np.nan))
        self._put(first, x)
        self._end = first + n

    # ------------------------------------------------------------------ reading
    def _check_range(self, start: int, stop: int) -> None:
        if stop < start:
            raise ValueError(f"read range [{start}, {stop}) has stop < start")
        if self._start is None:
            raise RingBufferError(f"samples [{start}, {stop}) requested but nothing was written yet")
        oldest = self.oldest
        if start < oldest:  # type: ignore[operator]
            why = "overwritten" if start >= self._start else "before the stream start"
            raise RingBufferError(
                f"samples [{start}, {stop}) requested but [{start}, {oldest}) are {why}; "
                f"the buffer holds [{oldest}, {self._end})"
            )
        if stop > self._end:
            raise RingBufferError(
                f"samples [{start}, {stop}) requested but [{max(start, self._end)}, {stop}) are "
                f"not written yet; the buffer holds [{oldest}, {self._end})"
            )

    def read(self, start: int, stop: int) -> np.ndarray:
        """Copy of samples ``[start, stop)``, shape ``(n_channels, stop - start)``.

        Samples lost in a gap are NaN.

        Raises
        ------
        RingBufferError
            When part of the range is overwritten, before the stream start, or not yet written
            (the message gives the range held).
        """
        start, stop = int(start), int(stop)
        self._check_range(start, stop)
        n = stop - start
        out = np.empty((self.n_channels, n))
        if n == 0:
            return out
        pos = start % self.capacity
        head = min(n, self.capacity - pos)
        out[:, :head] = self._data[:, pos : pos + head]
        if head < n:
            out[:, head:] = self._data[:, : n - head]
        return out

    def read_latest(self, n: int) -> np.ndarray:
        """The last ``n`` samples (``read(end - n, end)``)."""
        return self.read(self._end - int(n), self._end)

    def valid_mask(self, start: int, stop: int) -> np.ndarray:
        """Boolean ``(stop - start,)``: True where the sample arrived, False inside a gap."""
        start, stop = int(start), int(stop)
        self._check_range(start, stop)
        mask = np.ones(stop - start, dtype=bool)
        for g0, g1 in self.gaps:
            lo, hi = max(g0, start), min(g1, stop)
            if lo < hi:
                mask[lo - start : hi - start] = False
        return mask

    def has_gap(self, start: int, stop: int) -> bool:
        """Whether any sample in ``[start, stop)`` was lost in a gap."""
        return any(max(g0, start) < min(g1, stop) for g0, g1 in self.gaps)
