"""What every stage is: one ``update(chunk)`` returning the chunk and its decisions (Timeflux style).

A stage is tested without threads or loops; :class:`firmware_host.runtime.pipeline.Pipeline`
runs them in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from firmware_host.chunk import Chunk
from firmware_host.decision import Decision


@dataclass
class StageOutput:
    """What one stage returns: the chunk for the next stage and any decisions it made."""

    chunk: Chunk
    decisions: list[Decision] = field(default_factory=list)


@runtime_checkable
class Stage(Protocol):
    """One step of the chain. Transforming stages return a new chunk; deciding stages
    return the chunk unchanged with decisions. A stage is testable without threads or loops.
    """

    name: str

    def update(self, chunk: Chunk) -> StageOutput:
        """Process one chunk."""
        ...

    def reset(self) -> None:
        """Forget all state (e.g. after a gap)."""
        ...
