"""Channel layout of a synthetic night: names and types in row order, rows by type."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Layout:
    """Rows of the generated array: EEG, then EOG, chin EMG and forearm EMG channels."""

    names: tuple[str, ...]
    types: tuple[str, ...]

    @classmethod
    def from_groups(cls, groups: dict[str, tuple[str, ...]]) -> Layout:
        """Build from ``{channel_type: names}`` in the given order; names must be unique."""
        names = tuple(n for ns in groups.values() for n in ns)
        types = tuple(t for t, ns in groups.items() for _ in ns)
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"channel names must be unique across all groups, repeated: {dupes}")
        if not names:
            raise ValueError("a synthetic night needs at least one channel")
        return cls(names, types)

    @property
    def n(self) -> int:
        """Number of channels."""
        return len(self.names)

    def rows(self, channel_type: str) -> np.ndarray:
        """Row indices of one channel type."""
        return np.array([i for i, t in enumerate(self.types) if t == channel_type], dtype=np.intp)
