"""What the journal keeps, kind by kind, so a night's journal stays a few megabytes.

Every event is kept as it comes (stage decisions, actions, suppressed, commands, acks, alarms,
faults, safe states, gaps, markers, annotations, segments…) except two high-rate decision
kinds:

``quality`` (one decision per second of data)
    Folded into one decision per 30-s epoch (the resolution the report shows), counted per
    channel: windows judged, bad windows, how often each flag was raised and the worst value
    of each measure. The epoch's label is ``bad`` if any of its windows was.
``grip`` (the EMG decoder's periodic decisions)
    A decision that repeats the previous one exactly (label, probabilities, force and every
    other detail; only its sample differs) is dropped, except once per ``heartbeat_s`` of
    data (so a report sees the decoder alive). Everything a programme rule can read of a
    grip decision therefore stays in the journal, and what-if replay of a programme edit
    (:mod:`firmware_host.whatif`) sees what the engine saw: an intent trigger does the same
    with a repeated decision as with none, unless the safety layer refused a command in
    between (a hold), when the loop asks again at the next decision.

The policy sees events in order and returns those to write; :meth:`Retention.drain` returns
what it still holds (the last, partial quality epoch) when the session closes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Row = tuple[str, dict[str, Any], "int | None"]

#: Seconds of data per quality epoch (the report's epoch).
QUALITY_EPOCH_S = 30.0
#: Longest stretch of data without a kept grip decision.
GRIP_HEARTBEAT_S = 30.0


@dataclass
class _QualityEpoch:
    epoch: int
    first: dict[str, Any]
    sample: int | None = None
    n_windows: int = 0
    n_bad: int = 0
    non_finite: int = 0
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, payload: dict[str, Any], sample: int | None) -> None:
        details = payload.get("details") or {}
        self.sample = sample
        self.n_windows += 1
        self.n_bad += payload.get("label") == "bad"
        self.non_finite += bool(details.get("non_finite"))
        bad = set(details.get("bad_channels") or ())
        for name in bad:
            self.channels.setdefault(name, {"n_bad": 0})
        for name, measures in (details.get("channels") or {}).items():
            ch = self.channels.setdefault(name, {"n_bad": 0})
            for key, value in measures.items():
                if isinstance(value, bool):
                    ch[key] = ch.get(key, 0) + value
                elif isinstance(value, int | float):
                    ch[f"{key}_max"] = max(ch.get(f"{key}_max", value), value)
        for name in bad:
            self.channels[name]["n_bad"] += 1

    def row(self, epoch_len: int) -> Row:
        payload = {
            "kind": "quality",
            "sample": self.sample,
            "label": "bad" if self.n_bad else "ok",
            "probabilities": {},
            "model": self.first.get("model", ""),
            "details": {
                "aggregated": "epoch",
                "epoch_start": self.epoch * epoch_len,
                "epoch_samples": epoch_len,
                "n_windows": self.n_windows,
                "n_bad": self.n_bad,
                "non_finite_windows": self.non_finite,
                "channels": self.channels,
            },
        }
        return "decision", payload, self.sample


class Retention:
    """Per-kind retention of journal events (see the module docstring).

    Parameters
    ----------
    sfreq
        Sampling rate of the session, to turn sample indices into epochs and durations.
    quality_epoch_s, heartbeat_s
        The resolutions above.
    """

    def __init__(self, sfreq: float, *, quality_epoch_s: float = QUALITY_EPOCH_S,
                 heartbeat_s: float = GRIP_HEARTBEAT_S) -> None:
        if sfreq <= 0 or quality_epoch_s <= 0 or heartbeat_s <= 0:
            raise ValueError("Retention needs sfreq, quality_epoch_s and heartbeat_s > 0")
        self.epoch_len = max(1, round(quality_epoch_s * sfreq))
        self.heartbeat = max(1, round(heartbeat_s * sfreq))
        self._quality: _QualityEpoch | None = None
        self._grip: dict[str, Any] | None = None  # the last grip decision, without its sample
        self._grip_sample: int | None = None  # the last one kept

    def admit(self, kind: str, payload: dict[str, Any], sample: int | None) -> list[Row]:
        """The events to write now, given one new event."""
        if kind != "decision" or sample is None:
            return [(kind, payload, sample)]
        if payload.get("kind") == "quality":
            return self._admit_quality(payload, sample)
        if payload.get("kind") == "grip":
            return self._admit_grip(payload, sample)
        return [(kind, payload, sample)]

    def drain(self) -> list[Row]:
        """Whatever is held back (the open quality epoch); call before closing."""
        out = [] if self._quality is None else [self._quality.row(self.epoch_len)]
        self._quality = None
        return out

    def _admit_quality(self, payload: dict[str, Any], sample: int) -> list[Row]:
        epoch = sample // self.epoch_len
        out: list[Row] = []
        if self._quality is not None and self._quality.epoch != epoch:
            out = self.drain()
        if self._quality is None:
            self._quality = _QualityEpoch(epoch, payload)
        self._quality.add(payload, sample)
        return out

    def _admit_grip(self, payload: dict[str, Any], sample: int) -> list[Row]:
        content = {k: v for k, v in payload.items() if k != "sample"}
        keep = (
            content != self._grip
            or self._grip_sample is None
            or not 0 <= sample - self._grip_sample < self.heartbeat
        )
        self._grip = content
        if not keep:
            return []
        self._grip_sample = sample
        return [("decision", payload, sample)]
