"""Decisions: what a stager, decoder or policy concluded, when, how sure, by which model."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields, is_dataclass
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
        """The dict ``dataclasses.asdict`` gives, built without its deep copies.

        ``asdict`` deep-copies every leaf through :func:`copy.deepcopy`; a quality decision
        (per-channel measures) took ~0.5 ms that way, every second of data. Here immutable
        leaves are shared and containers are rebuilt exactly as ``asdict`` rebuilds them.
        """
        return {"kind": self.kind, "sample": self.sample, "label": self.label,
                "probabilities": _plain(self.probabilities), "model": self.model,
                "details": _plain(self.details)}


_ATOMIC = (str, int, float, bool, type(None))
_ATOMIC_TYPES = frozenset(_ATOMIC)


def _plain(obj: Any) -> Any:
    """``dataclasses.asdict``'s conversion of a field value, minus copies of immutables."""
    atomic = _ATOMIC_TYPES
    if type(obj) is dict:  # the common case, with atomic leaves handled inline
        return {k if type(k) in atomic else _plain(k): v if type(v) in atomic else _plain(v)
                for k, v in obj.items()}
    if isinstance(obj, _ATOMIC):
        return obj
    if isinstance(obj, dict):
        return type(obj)((_plain(k), _plain(v)) for k, v in obj.items())
    if isinstance(obj, list):
        return [v if type(v) in atomic else _plain(v) for v in obj]
    if is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _plain(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, tuple):
        if hasattr(obj, "_fields"):  # namedtuple
            return type(obj)(*[_plain(v) for v in obj])
        return type(obj)(_plain(v) for v in obj)
    return copy.deepcopy(obj)
