"""What a recorded session holds for replay: its config, decisions, actions, holds and changes."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from firmware_host.actuation.kinds import configured_kinds
from firmware_host.config import Config, ConfigError, parse_config
from firmware_host.config.retired import without_retired
from firmware_host.decision import Decision
from firmware_host.session import Session

#: Alarms during which the safety layer refused every command (see :mod:`firmware_host.safety`).
GLOBAL_HOLDS = ("estop", "signal_stale", "held_safe")
#: Alarms during which it refused the commands of one device (``code:<device>``).
DEVICE_HOLDS = ("device_lost",)


@dataclass(frozen=True)
class LiveChange:
    """A parameter the tuning console changed during the night (a ``control`` event)."""

    t: float
    key: str
    value: Any
    #: The first sample the stages saw after it (``None`` in journals older than that field:
    #: replay then cuts at ``t``, which lags the data by the loop's start-up delay).
    sample: int | None = None


@dataclass
class RecordedNight:
    """One session as replay reads it.

    Attributes
    ----------
    decisions
        Journalled decisions in sample order (chain order within a sample). Quality
        decisions are journalled folded per epoch; they are kept apart in ``quality_epochs``.
    holds
        ``{target or "*": [(start_t, end_t), ...]}``: when the safety layer refused commands.
    arrivals
        ``{(kind, sample, label): t}``: the loop clock's time when each journalled decision
        reached the programme (the end of the iteration that made it; a stage that confirms
        late, like neurofeedback's, decides after its sample's chunk).
    tick_s
        Data seconds per loop iteration when the night ran at max speed (iterations then end
        on a fixed grid), else ``None``.
    delays
        Per decision kind, samples between a decision's sample and the sample at which its
        stage emits it (the least the journal shows; 0 for most stages).
    lateness
        Per decision kind, median seconds from sample to arrival (nights not at max speed).
    retired_keys
        Keys of the recorded config that this version retired, left out of ``config``.
    """

    session: Session
    config: Config
    sfreq: float
    data_s: float
    targets: tuple[str, ...]
    decisions: list[Decision]
    quality_epochs: list[Decision]
    actions: list[tuple[str, float]]
    suppressed: Counter[str]
    holds: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    live_changes: list[LiveChange] = field(default_factory=list)
    arrivals: dict[tuple[str, int, str], float] = field(default_factory=dict)

    tick_s: float | None = None
    delays: dict[str, int] = field(default_factory=dict)
    lateness: dict[str, float] = field(default_factory=dict)
    retired_keys: list[str] = field(default_factory=list)

    def arrival(self, d: Decision) -> float:
        """When ``d`` reached the programme in the loop.

        A journalled decision arrived when the journal says. One the replay made anew: at the
        end of the iteration that would have emitted it — on the max-speed grid, the first
        iteration end at or after its emitting sample; otherwise its sample's time plus the
        median lateness of its kind.
        """
        t = self.arrivals.get((d.kind, d.sample, d.label))
        if t is not None:
            return t
        if self.tick_s is not None:
            per_tick = self.tick_s * self.sfreq
            return math.ceil((d.sample + 1 + self.delays.get(d.kind, 0)) / per_tick - 1e-9) * self.tick_s
        return d.sample / self.sfreq + self.lateness.get(d.kind, 0.0)

    @property
    def source_kind(self) -> str:
        """The source the night was recorded from (``synthetic``, ``brainflow``, …)."""
        return self.config.source.kind

    def stages(self) -> list[tuple[int, str]]:
        """Final (not provisional) stage decisions as ``(sample, label)``."""
        return final_stages(self.decisions)


def final_stages(decisions: list[Decision]) -> list[tuple[int, str]]:
    """``(sample, label)`` of the final (not provisional) stage decisions."""
    return [(d.sample, d.label) for d in decisions
            if d.kind == "stage" and not d.details.get("provisional")]


def recorded_config(session: Session) -> tuple[Config, list[str]]:
    """The config a session was recorded with (its first ``config`` journal event), read
    without the keys this version retired; and those keys.

    Raises
    ------
    ConfigError
        The session journal holds no config this version can read.
    """
    for event in session.events("config"):
        if "source" in event.payload and "run" in event.payload:
            data, retired = without_retired(event.payload)
            try:
                return parse_config(data), retired
            except ConfigError as exc:
                raise ConfigError(f"{session.path}: its recorded config no longer loads: {exc}") from None
    raise ConfigError(f"{session.path}: no recorded config in the journal; pass --config")


def _decision(payload: dict[str, Any]) -> Decision:
    return Decision(str(payload.get("kind", "")), int(payload["sample"]), str(payload.get("label", "")),
                    dict(payload.get("probabilities") or {}), str(payload.get("model", "")),
                    dict(payload.get("details") or {}))


def _holds(alarms: list[dict[str, Any]], end_t: float) -> dict[str, list[tuple[float, float]]]:
    """Refusal windows from the alarms' active/cleared events (open ones last to ``end_t``)."""
    opened: dict[str, float] = {}
    out: dict[str, list[tuple[float, float]]] = {}
    for a in alarms:
        code, state, t = str(a.get("code", "")), a.get("state"), float(a.get("t", 0.0))
        name, _, device = code.partition(":")
        if code in GLOBAL_HOLDS:
            key = "*"
        elif name in DEVICE_HOLDS and device:
            key = device
        else:
            continue
        if state == "active":
            opened.setdefault(code, t)
        elif state == "cleared" and code in opened:
            out.setdefault(key, []).append((opened.pop(code), t))
    for code, t in opened.items():
        name, _, device = code.partition(":")
        out.setdefault("*" if code in GLOBAL_HOLDS else device, []).append((t, end_t))
    return out


def _is_change(payload: dict[str, Any]) -> bool:
    """A console ``set`` or ``undo`` that was applied (its result names the key)."""
    result = payload.get("result")
    return bool(payload.get("ok")) and payload.get("command") in ("set", "undo") \
        and isinstance(result, dict) and "key" in result


def read_night(session: Session, config: Config | None = None) -> RecordedNight:
    """Read what replay needs from ``session`` (with ``config`` instead of the recorded one).

    Raises
    ------
    ConfigError
        No config given and none recorded that still loads.
    firmware_host.session.SessionError
        The journal cannot be read.
    """
    cfg, retired = (config, []) if config is not None else recorded_config(session)
    decisions: list[Decision] = []
    quality: list[Decision] = []
    arrivals: dict[tuple[str, int, str], float] = {}
    for e in session.events("decision"):
        if isinstance(e.payload.get("sample"), int):
            d = _decision(e.payload)
            (quality if d.kind == "quality" else decisions).append(d)
            arrivals.setdefault((d.kind, d.sample, d.label), float(e.t))
    actions = [(str(e.payload.get("rule", "?")), float(e.payload.get("t", e.t)))
               for e in session.events("action")]
    suppressed = Counter(str(e.payload.get("guard", "?")) for e in session.events("suppressed"))
    changes = [LiveChange(float(e.payload.get("t", e.t)), str(e.payload["result"]["key"]),
                          e.payload["result"].get("new"), e.sample)
               for e in session.events("control") if _is_change(e.payload)]
    targets: tuple[str, ...] | None = None
    for e in session.events("config"):
        if isinstance(e.payload.get("actuation"), dict):
            targets = tuple(e.payload["actuation"].get("actuators") or ())
    data_s = session.n_samples / session.sfreq
    for e in session.events("stop"):
        if isinstance(e.payload.get("data_s"), int | float):
            data_s = max(data_s, float(e.payload["data_s"]))
    alarms = [e.payload for e in session.events("alarm")]
    max_speed = any(e.payload.get("speed") == "max" for e in session.events("start"))
    decisions.sort(key=lambda d: d.sample)  # stable: chain order within a sample stays
    return RecordedNight(
        session=session, config=cfg, sfreq=session.sfreq, data_s=data_s,
        targets=targets if targets is not None else _configured_targets(cfg),
        decisions=decisions, quality_epochs=quality, actions=actions, suppressed=suppressed,
        holds=_holds(alarms, data_s), live_changes=changes, arrivals=arrivals,
        tick_s=cfg.run.tick_s if max_speed else None, **_timing(arrivals, session.sfreq),
        retired_keys=retired,
    )


def _timing(arrivals: dict[tuple[str, int, str], float], sfreq: float) -> dict[str, Any]:
    """``delays`` (least samples from sample to emission) and ``lateness`` (median seconds
    from sample to arrival) per decision kind, from the journalled arrivals."""
    late: dict[str, list[float]] = {}
    for (kind, sample, _), t in arrivals.items():
        late.setdefault(kind, []).append(t - sample / sfreq)
    return {"delays": {k: max(0, round(min(v) * sfreq) - 1) for k, v in late.items()},
            "lateness": {k: float(statistics.median(v)) for k, v in late.items()}}


def _configured_targets(cfg: Config) -> tuple[str, ...]:
    """Devices a config enables (when the journal does not say which were opened)."""
    return tuple(sorted(kind.name for kind in configured_kinds(cfg.actuators)))
