"""The ordered chain of stages every chunk goes through (Timeflux style: one ``update`` per stage)."""

from __future__ import annotations

from collections.abc import Sequence
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


class Pipeline:
    """Runs chunks through stages in order, collecting every stage's decisions.

    Parameters
    ----------
    stages
        The stages, first to last.
    """

    def __init__(self, stages: Sequence[Stage] = ()) -> None:
        self.stages: list[Stage] = list(stages)

    def update(self, chunk: Chunk) -> list[Decision]:
        """Push one chunk through every stage; return all decisions in stage order."""
        decisions: list[Decision] = []
        for stage in self.stages:
            out = stage.update(chunk)
            chunk = out.chunk
            decisions.extend(out.decisions)
        return decisions

    def reset(self) -> None:
        """Reset every stage."""
        for stage in self.stages:
            stage.reset()
