"""The session plan: which phase (baseline, training, rest, transfer) holds a given sample."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from firmware_host.neurofeedback.config import Block

#: Phase after the last block: the plan is over, no feedback.
DONE = "done"


@dataclass(frozen=True)
class Position:
    """Where a sample falls in the plan.

    Attributes
    ----------
    block
        Index into the block list (``len(blocks)`` once the plan is over).
    phase
        The block's phase, or :data:`DONE`.
    training_block
        1-based number of the training or transfer block among blocks of that phase
        (``None`` for other phases).
    elapsed_s, duration_s
        Seconds into the block and its length (0 when done).
    """

    block: int
    phase: str
    training_block: int | None
    elapsed_s: float
    duration_s: float


class SessionPlan:
    """Blocks laid end to end from the first sample the stage saw.

    Parameters
    ----------
    blocks
        The parsed ``[neurofeedback] blocks``.
    sfreq
        Sampling rate (Hz).
    """

    def __init__(self, blocks: tuple[Block, ...], sfreq: float) -> None:
        self.blocks = blocks
        self.sfreq = float(sfreq)
        lengths = [round(b.duration_s * sfreq) for b in blocks]
        self.ends = np.cumsum(lengths)
        self.starts = self.ends - np.asarray(lengths)
        numbers: list[int | None] = []
        counts: dict[str, int] = {}
        for b in blocks:
            if b.phase in ("training", "transfer"):
                counts[b.phase] = counts.get(b.phase, 0) + 1
                numbers.append(counts[b.phase])
            else:
                numbers.append(None)
        self.numbers = tuple(numbers)

    @property
    def total_s(self) -> float:
        """Length of the whole plan in seconds."""
        return float(self.ends[-1]) / self.sfreq

    def at(self, offset: int) -> Position:
        """The position of the sample ``offset`` samples after the plan's start."""
        i = int(np.searchsorted(self.ends, offset, side="right"))
        if i >= len(self.blocks):
            return Position(len(self.blocks), DONE, None, 0.0, 0.0)
        b = self.blocks[i]
        return Position(i, b.phase, self.numbers[i], (offset - int(self.starts[i])) / self.sfreq,
                        b.duration_s)
