"""A growable store of a stream's recent samples, addressed by stream index.

Stages that cut windows out of a stream — the sleep stager's epochs, the EMG decoder's
sliding windows — keep the samples they still need here. Chunks are appended as they arrive
(copied in once); the consumer says up to which stream index it no longer needs samples
(:meth:`SampleStore.release`); a window is read as a view (:meth:`SampleStore.window`), so
neither a read nor an append copies the history.

Released samples stay in place until an append does not fit: then they are dropped and the
kept ones moved to the front (one move per many chunks, never one per chunk). When the kept
samples and the new block still do not fit, the store grows to at least twice its capacity.
Where the data sit never changes what a window holds, so every consumer's output is the same
whatever the capacity and the chunking.
"""

from __future__ import annotations

import numpy as np

from dsp.validation import positive_int

__all__ = ["SampleStore"]


class SampleStore:
    """Samples ``[start, end)`` of a ``(n_rows, ·)`` float64 stream that starts at index 0.

    Parameters
    ----------
    n_rows
        Rows of every appended block (channels, or channels plus derived rows).
    capacity
        Samples held before the first compaction or growth (a hint: the store grows as needed).

    Notes
    -----
    A view returned by :meth:`window` is valid until the next :meth:`append` (which may move
    or reallocate the data); copy it to keep it longer.
    """

    def __init__(self, n_rows: int, capacity: int) -> None:
        self.n_rows = positive_int(n_rows, "n_rows")
        self._buf = np.zeros((self.n_rows, positive_int(capacity, "capacity")))
        self._fill = 0  # _buf[:, :_fill] holds stream samples [_start, _start + _fill)
        self._start = 0
        self._released = 0  # samples before this stream index are no longer needed

    @property
    def capacity(self) -> int:
        """Samples the store holds before it must compact or grow."""
        return self._buf.shape[1]

    @property
    def start(self) -> int:
        """Stream index of the oldest sample still held."""
        return self._start

    @property
    def end(self) -> int:
        """Stream index one past the newest sample (= samples appended so far)."""
        return self._start + self._fill

    def __len__(self) -> int:
        """Samples currently held (released ones not yet dropped included)."""
        return self._fill

    def append(self, block: np.ndarray) -> None:
        """Copy a ``(n_rows, m)`` block in as stream samples ``[end, end + m)``.

        Raises
        ------
        ValueError
            The block is not 2-D with :attr:`n_rows` rows.
        """
        if block.ndim != 2 or block.shape[0] != self.n_rows:
            raise ValueError(f"block must have shape ({self.n_rows}, m), got {block.shape}")
        m = block.shape[1]
        if self._fill + m > self.capacity:
            self._make_room(m)
        self._buf[:, self._fill : self._fill + m] = block
        self._fill += m

    def release(self, before: int) -> None:
        """Samples before stream index ``before`` are no longer needed (they may be dropped).

        Releasing never reaches back: an index below an earlier release changes nothing. An
        index beyond :attr:`end` releases everything held now; samples appended later stay
        until they are released again.
        """
        self._released = max(self._released, int(before))

    def window(self, start: int, stop: int) -> np.ndarray:
        """View of stream samples ``[start, stop)``, shape ``(n_rows, stop - start)``.

        Raises
        ------
        IndexError
            Part of the range was dropped or has not arrived yet (the message gives the
            range held).
        """
        if not self._start <= start <= stop <= self.end:
            raise IndexError(f"samples [{start}, {stop}) requested; the store holds "
                             f"[{self._start}, {self.end})")
        return self._buf[:, start - self._start : stop - self._start]

    def _make_room(self, m: int) -> None:
        """Drop released samples; grow when the kept ones and ``m`` more still do not fit."""
        drop = min(max(self._released - self._start, 0), self._fill)
        kept = self._fill - drop
        if kept + m > self.capacity:
            buf = np.zeros((self.n_rows, max(2 * self.capacity, kept + m)))
            buf[:, :kept] = self._buf[:, drop : self._fill]
            self._buf = buf
        elif drop:
            self._buf[:, :kept] = self._buf[:, drop : self._fill].copy()
        self._fill = kept
        self._start += drop
