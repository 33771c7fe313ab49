"""``replay_sessions``: recorded nights through edited parameters, and what would change.

Only what an edit touches is re-run (:mod:`~firmware_host.whatif.scope`):

* a ``[programme]`` edit replays the journalled decisions through the rule engine
  (:mod:`~firmware_host.whatif.programme_replay`);
* an edit of a deciding stage (``[stager]``, ``[emg]``, ``[spindles]``,
  ``[slow_oscillations]``, ``[neurofeedback]``) re-runs that stage over the recorded samples
  (:mod:`~firmware_host.whatif.redecide`), takes every other decision from the journal, and
  replays the lot through the rule engine;
* any other edit re-runs the whole night through the loop (:mod:`~firmware_host.whatif.full_rerun`).

In the first two the *original* is the journal's decisions through the night's programme,
checked against the journalled actions (``baseline_matches_recording``); with no edit the
diff is empty by construction of the comparison, and the check says whether the replay
reproduced the night.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from firmware_host.config import Config
from firmware_host.control.params import ParamError, with_value
from firmware_host.decision import Decision
from firmware_host.session import Session
from firmware_host.whatif.diff import diff_actions, is_empty, stage_agreement
from firmware_host.whatif.full_rerun import rerun
from firmware_host.whatif.programme_replay import replay_programme
from firmware_host.whatif.recorded import RecordedNight, final_stages, read_night
from firmware_host.whatif.redecide import live_changes_for, redecide
from firmware_host.whatif.scope import STAGES, Scope, scope_of

#: Replay modes: re-run only what the edits touch, or always the whole loop.
MODES = ("auto", "full")
#: Order of decision kinds at one sample (the loop's stage chain order).
_CHAIN = {"quality": 0, **{k: 1 + i for i, (_, (_, kinds)) in enumerate(STAGES.items()) for k in kinds}}


def edited_config(cfg: Config, edits: dict[str, Any]) -> Config:
    """``cfg`` with ``edits`` applied (validated like the config file).

    Raises
    ------
    ParamError
        An edit names an unknown key or an invalid value.
    """
    for key, value in edits.items():
        cfg = with_value(cfg, key, value)
    return cfg


def _reads_quality(cfg: Config) -> bool:
    return cfg.programme.enabled and any(r.enabled and r.trigger.kind == "signal"
                                         for r in cfg.programme.rules)


def _merge(recorded: list[Decision], kinds: frozenset[str], fresh: list[Decision]) -> list[Decision]:
    """The journal's decisions with ``kinds`` replaced by ``fresh``, in sample and chain order."""
    kept = [d for d in recorded if d.kind not in kinds]
    return sorted(kept + fresh, key=lambda d: (d.sample, _CHAIN.get(d.kind, len(_CHAIN))))


def _rewards(decisions: list[Decision]) -> int:
    return sum(d.kind == "neurofeedback" and d.label == "reward" for d in decisions)


def _focused(night: RecordedNight, edited: Config, scope: Scope,
             edited_keys: frozenset[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Original and replayed outcome, re-running only the stages in ``scope``."""
    base_decisions = night.decisions
    if scope.quality:  # a signal rule: per-second quality decisions, for both sides
        only = Scope(quality=True)
        quality = redecide(night, night.config, only, live_changes_for(night, only, frozenset()))
        base_decisions = _merge(base_decisions, frozenset({"quality"}), quality)
    stages = Scope(scope.stages)
    fresh = redecide(night, edited, stages, live_changes_for(night, stages, edited_keys)) \
        if scope.stages else []
    new_decisions = _merge(base_decisions, scope.kinds(), fresh)
    base = replay_programme(night, night.config, base_decisions)
    new = replay_programme(night, edited, new_decisions, edited_keys)
    return ({"stages": final_stages(base_decisions), "actions": base.actions,
             "suppressed": base.suppressed, "decisions": base_decisions},
            {"stages": final_stages(new_decisions), "actions": new.actions,
             "suppressed": new.suppressed, "decisions": new_decisions})


def replay_night(path: str | Path, edits: dict[str, Any], config: Config | None = None,
                 mode: str = "auto") -> dict[str, Any]:
    """One night replayed with and without ``edits``; see :func:`replay_sessions`.

    Raises
    ------
    ParamError
        An edit names an unknown key or an invalid value, or ``mode`` is unknown.
    """
    if mode not in MODES:
        raise ParamError(f"replay mode {mode!r} is not known; allowed: {', '.join(MODES)}")
    t0 = time.monotonic()
    night = read_night(Session(path), config)
    edited = edited_config(night.config, edits)
    scope = Scope(full=True) if mode == "full" else \
        scope_of(list(edits), signal_rules=_reads_quality(night.config) or _reads_quality(edited))
    if scope.full:
        base = rerun(night.config, night.session.path)
        new = rerun(edited, night.session.path)
    else:
        base, new = _focused(night, edited, scope, frozenset(edits))
    wall = time.monotonic() - t0
    recorded_stages = night.stages()
    out = {
        "session": str(night.session.path), "scope": scope.name, "epochs": len(base["stages"]),
        "stage_agreement": stage_agreement(base["stages"], new["stages"]),
        "stage_agreement_recorded": stage_agreement(recorded_stages, base["stages"]),
        "actions_recorded": len(night.actions),
        "baseline_matches_recording": is_empty(diff_actions(night.actions, base["actions"])),
        "actions_original": len(base["actions"]), "actions_replayed": len(new["actions"]),
        "actions_diff": diff_actions(base["actions"], new["actions"]),
        "suppressed_original": dict(base["suppressed"]),
        "suppressed_replayed": dict(new["suppressed"]),
        "data_s": night.data_s, "wall_s": wall,
        "recorded_config_retired_keys": night.retired_keys,
    }
    if any(d.kind == "neurofeedback" for d in base["decisions"] + new["decisions"]):
        out["rewards_original"] = _rewards(base["decisions"])
        out["rewards_replayed"] = _rewards(new["decisions"])
    return out


def replay_sessions(sessions: Iterable[str | Path], edits: dict[str, Any],
                    config: Config | None = None, mode: str = "auto") -> dict[str, Any]:
    """Replay every session with and without ``edits``; the per-night and total diff.

    Parameters
    ----------
    sessions
        Recorded session directories.
    edits
        ``{dotted key: value}`` validated like the config file.
    config
        Use this config instead of each session's recorded one.
    mode
        ``auto`` re-runs only what the edits touch; ``full`` always re-runs the whole loop.

    Returns
    -------
    dict
        JSON keys ``edits``, ``nights`` (one dict each), and over all nights ``epochs``,
        ``stage_agreement``, ``stage_agreement_recorded``, ``actions_recorded``,
        ``actions_original``, ``actions_replayed``, ``actions_diff`` (each entry with its
        ``session``), ``suppressed_original``, ``suppressed_replayed``, ``data_s``,
        ``wall_s``, ``speed_x_realtime`` (hours of data per hour of replay), and
        ``rewards_original`` / ``rewards_replayed`` when a night has neurofeedback.
    """
    nights = [replay_night(p, edits, config, mode) for p in sessions]
    return _total(nights, edits)


def _total(nights: list[dict[str, Any]], edits: dict[str, Any]) -> dict[str, Any]:
    epochs = sum(n["epochs"] for n in nights)

    def weighted(key: str) -> float | None:
        pairs = [(n[key], n["epochs"]) for n in nights if n[key] is not None]
        total = sum(w for _, w in pairs)
        return sum(v * w for v, w in pairs) / total if total else None

    def summed(key: str) -> Any:
        return sum(n[key] for n in nights)

    suppressed = {k: Counter() for k in ("suppressed_original", "suppressed_replayed")}
    for n in nights:
        for key, counter in suppressed.items():
            counter.update(n[key])
    data_s, wall_s = summed("data_s"), summed("wall_s")
    out = {
        "edits": edits, "nights": nights, "epochs": epochs,
        "scope": sorted({n["scope"] for n in nights}),
        "stage_agreement": weighted("stage_agreement"),
        "stage_agreement_recorded": weighted("stage_agreement_recorded"),
        "actions_recorded": summed("actions_recorded"),
        "baseline_matches_recording": all(n["baseline_matches_recording"] for n in nights),
        "actions_original": summed("actions_original"),
        "actions_replayed": summed("actions_replayed"),
        "actions_diff": {k: [x | {"session": n["session"]} for n in nights for x in n["actions_diff"][k]]
                         for k in ("added", "removed", "shifted")},
        **{k: dict(v) for k, v in suppressed.items()},
        "data_s": data_s, "wall_s": wall_s,
        "speed_x_realtime": data_s / wall_s if wall_s > 0 else None,
    }
    if any("rewards_original" in n for n in nights):
        for key in ("rewards_original", "rewards_replayed"):
            out[key] = sum(n.get(key, 0) for n in nights)
    return out


def parse_edits(items: Iterable[str]) -> dict[str, Any]:
    """``key=value`` strings (values as JSON when they parse) to a dict.

    Raises
    ------
    ParamError
        An item without ``=``.
    """
    import json

    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ParamError(f"--set {item!r}: expected KEY=VALUE, e.g. "
                             "programme.rules.onset_rocking_fade.trigger.dwell=2m")
        try:
            out[key.strip()] = json.loads(text)
        except json.JSONDecodeError:
            out[key.strip()] = text
    return out


__all__ = ["MODES", "edited_config", "parse_edits", "replay_night", "replay_sessions"]
