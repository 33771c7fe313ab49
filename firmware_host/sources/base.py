"""The interface every signal source implements."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from firmware_host.chunk import Chunk


class SourceError(RuntimeError):
    """A source could not be opened or read; the message says which and why."""


@runtime_checkable
class Source(Protocol):
    """A stream of :class:`~firmware_host.chunk.Chunk` s.

    ``read`` returns whatever became available since the last call (``None`` when nothing
    did). ``finished`` turns true once a finite source (a file, a scripted night) has
    delivered everything. Sources with a clock produce samples as that clock advances.
    """

    sfreq: float
    channel_names: tuple[str, ...]
    channel_types: tuple[str, ...]

    def open(self) -> None:
        """Start acquisition."""
        ...

    def read(self) -> Chunk | None:
        """New samples since the last read, or ``None``."""
        ...

    @property
    def finished(self) -> bool:
        """True when a finite source has nothing more to give."""
        ...

    def close(self) -> None:
        """Stop acquisition and release the device; idempotent."""
        ...
