"""What-if replay speed on a recorded night, for each kind of edit (issue: ≥ 1000× real time).

A night of the default config is recorded once (dry actuation, max speed), then replayed
with one edit of each kind, each re-running only what it touches:

``replay_programme_x_realtime``
    ``programme.rules.onset_rocking_fade.trigger.dwell = 1m``: the journalled decisions
    through the rule engine.
``replay_stager_x_realtime``
    ``stager.hmm = true``: the stager over the recorded EEG, then the rule engine.
``replay_emg_x_realtime``
    ``emg.reject_below = 0.95``: the grip decoder over the eight forearm channels (its
    calibration on the synthetic wearer included), then the rule engine.

Each figure is hours of data per hour of replay, the median of ``repeats`` runs, with the
replay's own check that the original reproduces the journal (``replay_reproduces_journal``).
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from typing import Any

from firmware_host.config import load_config
from firmware_host.runtime.run import Run
from firmware_host.whatif.replay import replay_sessions

#: Figure -> the edit it replays.
EDITS: dict[str, dict[str, Any]] = {
    "replay_programme_x_realtime": {"programme.rules.onset_rocking_fade.trigger.dwell": "1m"},
    "replay_stager_x_realtime": {"stager.hmm": True},
    "replay_emg_x_realtime": {"emg.reject_below": 0.95},
}


def replay_figures(session: Path, repeats: int = 3) -> dict[str, Any]:
    """Replay speed per edit kind on ``session`` (median of ``repeats``; the EMG edit once)."""
    out: dict[str, Any] = {}
    reproduces = True
    for figure, edit in EDITS.items():
        runs = [replay_sessions([session], edit) for _ in range(1 if "emg" in figure else repeats)]
        out[figure] = round(statistics.median(r["speed_x_realtime"] for r in runs), 1)
        reproduces = reproduces and all(r["baseline_matches_recording"] for r in runs)
    out["replay_reproduces_journal"] = reproduces
    return out


def run_replay_bench(night_hours: float = 8.0, repeats: int = 3) -> dict[str, Any]:
    """Record a night of ``night_hours`` and time its replays."""
    with tempfile.TemporaryDirectory() as tmp:
        session = Path(tmp) / "night"
        Run(load_config(None), duration=f"{night_hours:g}h", speed="max", session_dir=session,
            actuation="dry").run()
        result = replay_figures(session, repeats)
    result["replay_night_hours"] = night_hours
    result["targets"] = {"replay_programme_x_realtime": ">= 1000", "replay_stager_x_realtime": ">= 1000"}
    return result
