"""The ordered chain of stages every chunk goes through."""

from __future__ import annotations

from collections.abc import Sequence

from firmware_host.chunk import Chunk
from firmware_host.decision import Decision
from firmware_host.stages.base import Stage


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
