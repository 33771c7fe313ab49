"""Decisions: what a stager, decoder or policy concluded, when, how sure, by which model."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Decision:
    """One decision of a stage.

    Parameters
    ----------
    kind
        What was decided, e.g. ``"stage"`` (sleep stage) or ``"grip"`` (grip intent).
    sample
        Absolute sample index of the last sample the decision used (it is causal).
    label
        The decided class, e.g. ``"N2"``, ``"power"``, ``"unscorable"``.
    probabilities
        Class name to probability; sums to 1 when given.
    model
        Model name and version, stamped into every decision.
    details
        Anything else worth journaling (JSON-serialisable), e.g. ``{"force": 0.4}``.
    """

    kind: str
    sample: int
    label: str
    probabilities: dict[str, float] = field(default_factory=dict)
    model: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict of this decision."""
        return asdict(self)
