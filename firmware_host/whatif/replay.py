"""``replay_sessions``: re-run recorded sessions with and without edits and diff the outcome.

Each session is replayed twice through the real loop — the session source, dry actuation
(commands pass the programme and the safety layer and are recorded; no device), a fake
clock as fast as possible — once with the config the session recorded (the *baseline*)
and once with the edits applied. The diff between the two isolates the edits' effect from
anything the replay path itself changes (e.g. a model chosen for the synthetic source);
how far the baseline agrees with the recording is reported too. With no edits the two
replays are the same computation, so the diff is empty (determinism).

Not done yet (see the issue): re-running only what an edit touches (recorded decisions
through the rule engine for a programme edit) — every replay here is a full re-run.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from firmware_host.config import Config, ConfigError, parse_config
from firmware_host.control.params import ParamError, with_value
from firmware_host.runtime.run import Run
from firmware_host.session import Session

#: Two actions of one rule this close (seconds) are the same firing.
SAME_T_S = 1e-6


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


def replay_config(cfg: Config, session_dir: Path, edits: dict[str, Any]) -> Config:
    """``cfg`` reading ``session_dir`` through the session source, with ``edits`` applied.

    Raises
    ------
    ParamError
        An edit names an unknown key or an invalid value.
    """
    cfg = with_value(cfg, "source.kind", "session")
    cfg = with_value(cfg, "source.session.path", str(session_dir))
    for key, value in edits.items():
        cfg = with_value(cfg, key, value)
    return cfg


def _outcome(cfg: Config, work: Path) -> tuple[dict[str, Any], float]:
    run = Run(cfg, duration="until-stopped", speed="max", session_dir=work, actuation="dry")
    summary = run.run()
    out = Session(work)
    outcome = {
        "stages": [(e.sample, e.payload["label"]) for e in out.decisions("stage")
                   if not e.payload.get("details", {}).get("provisional")],
        "actions": [(e.payload.get("rule", "?"), float(e.payload.get("t", e.t)))
                    for e in out.events("action")],
        "suppressed": Counter(str(e.payload.get("guard", "?")) for e in out.events("suppressed")),
    }
    return outcome, summary.data_s


def diff_actions(before: list[tuple[str, float]], after: list[tuple[str, float]]) -> dict[str, Any]:
    """Actions added, removed and shifted, per rule, pairing firings in time order."""
    by_rule: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for rule, t in before:
        by_rule[rule][0].append(t)
    for rule, t in after:
        by_rule[rule][1].append(t)
    added, removed, shifted = [], [], []
    for rule, (old, new) in sorted(by_rule.items()):
        for t_old, t_new in zip(old, new, strict=False):
            if abs(t_old - t_new) > SAME_T_S:
                shifted.append({"rule": rule, "t_original": t_old, "t_replayed": t_new,
                                "shift_s": round(t_new - t_old, 3)})
        removed += [{"rule": rule, "t": t} for t in old[len(new):]]
        added += [{"rule": rule, "t": t} for t in new[len(old):]]
    return {"added": added, "removed": removed, "shifted": shifted}


def _agreement(a: list[tuple[int, str]], b: list[tuple[int, str]]) -> float | None:
    left = dict(a)
    common = [s for s, _ in b if s in left]
    if not common:
        return None
    right = dict(b)
    return sum(left[s] == right[s] for s in common) / len(common)


def replay_sessions(sessions: Iterable[str | Path], edits: dict[str, Any],
                    config: Config | None = None) -> dict[str, Any]:
    """Replay every session with and without ``edits``; the per-night and total diff.

    Parameters
    ----------
    sessions
        Recorded session directories.
    edits
        ``{dotted key: value}`` validated like the config file.
    config
        Use this config instead of each session's recorded one.

    Returns
    -------
    dict
        JSON keys ``epochs``, ``stage_agreement``, ``stage_agreement_recorded``,
        ``actions_original``, ``actions_replayed``, ``actions_diff``,
        ``suppressed_original``, ``suppressed_replayed``, ``speed_x_realtime``, ``nights``.
    """
    nights = []
    data_s = wall_s = 0.0
    for path in sessions:
        session = Session(path)
        base_cfg = config or recorded_config(session)
        recorded = [(e.sample, e.payload["label"]) for e in session.decisions("stage")
                    if not e.payload.get("details", {}).get("provisional")]
        work = Path(tempfile.mkdtemp(prefix="somnoloop-replay-"))
        try:
            t0 = time.monotonic()
            base, seconds = _outcome(replay_config(base_cfg, session.path, {}), work / "baseline")
            edited, _ = _outcome(replay_config(base_cfg, session.path, edits), work / "edited")
            wall_s += time.monotonic() - t0
            data_s += 2 * seconds
        finally:
            shutil.rmtree(work, ignore_errors=True)
        nights.append({
            "session": str(session.path), "epochs": len(base["stages"]),
            "stage_agreement": _agreement(base["stages"], edited["stages"]),
            "stage_agreement_recorded": _agreement(recorded, base["stages"]),
            "actions_original": len(base["actions"]), "actions_replayed": len(edited["actions"]),
            "actions_diff": diff_actions(base["actions"], edited["actions"]),
            "suppressed_original": dict(base["suppressed"]),
            "suppressed_replayed": dict(edited["suppressed"]),
        })
    return _total(nights, data_s, wall_s, edits)


def _total(nights: list[dict[str, Any]], data_s: float, wall_s: float,
           edits: dict[str, Any]) -> dict[str, Any]:
    epochs = sum(n["epochs"] for n in nights)

    def weighted(key: str) -> float | None:
        pairs = [(n[key], n["epochs"]) for n in nights if n[key] is not None]
        total = sum(w for _, w in pairs)
        return sum(v * w for v, w in pairs) / total if total else None

    suppressed: dict[str, Counter[str]] = {"suppressed_original": Counter(),
                                           "suppressed_replayed": Counter()}
    for n in nights:
        for key, counter in suppressed.items():
            counter.update(n[key])
    return {
        "edits": edits, "nights": nights, "epochs": epochs,
        "stage_agreement": weighted("stage_agreement"),
        "stage_agreement_recorded": weighted("stage_agreement_recorded"),
        "actions_original": sum(n["actions_original"] for n in nights),
        "actions_replayed": sum(n["actions_replayed"] for n in nights),
        "actions_diff": {k: [x | {"session": n["session"]} for n in nights for x in n["actions_diff"][k]]
                         for k in ("added", "removed", "shifted")},
        **{k: dict(v) for k, v in suppressed.items()},
        "speed_x_realtime": data_s / wall_s if wall_s > 0 else None,
    }


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


__all__ = ["diff_actions", "parse_edits", "recorded_config", "replay_sessions"]
