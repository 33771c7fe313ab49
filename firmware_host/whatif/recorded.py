"""What a recorded session holds for replay: its config, decisions, actions, holds and changes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from firmware_host.actuation.kinds import configured_kinds
from firmware_host.config import Config, ConfigError, parse_config
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


def recorded_config(session: Session) -> Config:
    """The config a session was recorded with (its first ``config`` journal event).

    Raises
    ------
    ConfigError
        The session journal holds no config this version can read.
    """
    for event in session.events("config"):
        if "source" in event.payload and "run" in event.payload:
            try:
                return parse_config(event.payload)
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
    cfg = config or recorded_config(session)
    decisions: list[Decision] = []
    quality: list[Decision] = []
    for e in session.events("decision"):
        if isinstance(e.payload.get("sample"), int):
            (quality if e.payload.get("kind") == "quality" else decisions).append(_decision(e.payload))
    actions = [(str(e.payload.get("rule", "?")), float(e.payload.get("t", e.t)))
               for e in session.events("action")]
    suppressed = Counter(str(e.payload.get("guard", "?")) for e in session.events("suppressed"))
    changes = [LiveChange(float(e.payload.get("t", e.t)), str(e.payload["result"]["key"]),
                          e.payload["result"].get("new"))
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
    decisions.sort(key=lambda d: d.sample)  # stable: chain order within a sample stays
    return RecordedNight(
        session=session, config=cfg, sfreq=session.sfreq, data_s=data_s,
        targets=targets if targets is not None else _configured_targets(cfg),
        decisions=decisions, quality_epochs=quality, actions=actions, suppressed=suppressed,
        holds=_holds(alarms, data_s), live_changes=changes,
    )


def _configured_targets(cfg: Config) -> tuple[str, ...]:
    """Devices a config enables (when the journal does not say which were opened)."""
    return tuple(sorted(kind.name for kind in configured_kinds(cfg.actuators)))
