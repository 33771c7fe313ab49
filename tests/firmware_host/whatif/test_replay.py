"""What-if replay of a recorded synthetic night: only what an edit touches is re-run.

The night is the default one (stager, calibrated grip decoder, the default programme), 20
minutes, dry actuation. Re-running a stage with the recorded value must reproduce the
journal exactly; an edit must change only what it can reach.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3

import pytest

from firmware_host.cli import main
from firmware_host.config import load_config
from firmware_host.control.client import ControlClient
from firmware_host.runtime.run import Run
from firmware_host.session import Session
from firmware_host.whatif.diff import diff_actions, stage_agreement
from firmware_host.whatif.recorded import final_stages, read_night
from firmware_host.whatif.redecide import redecide
from firmware_host.whatif.replay import parse_edits, replay_sessions
from firmware_host.whatif.scope import Scope
from tests.firmware_host.control.live import live_loop
from tests.paths import REPO

DWELL = "programme.rules.onset_rocking_fade.trigger.dwell"
EMPTY = {"added": [], "removed": [], "shifted": []}
GRIP_RULES = {"grip", "grip_hold", "grip_open"}


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    path = tmp_path_factory.mktemp("night") / "session"
    Run(load_config(None), duration="20m", speed="max", session_dir=path, actuation="dry").run()
    return path


def _replay(capsys, night, *args) -> dict:
    assert main(["replay", str(night), *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_no_edit_gives_a_zero_diff_and_reproduces_the_journal(night, capsys):
    r = _replay(capsys, night)
    assert r["scope"] == ["programme"] and r["epochs"] == 40 and r["stage_agreement"] == 1.0
    assert r["baseline_matches_recording"] is True
    assert r["actions_original"] == r["actions_replayed"] == r["actions_recorded"] > 0
    assert r["actions_diff"] == EMPTY
    assert r["suppressed_original"] == r["suppressed_replayed"]
    assert r["speed_x_realtime"] > 1 and r["data_s"] == pytest.approx(1200.0)


def test_an_edited_dwell_time_changes_the_fade(night, capsys):
    r = _replay(capsys, night, "--set", f"{DWELL}=1m")
    assert r["edits"] == {DWELL: "1m"} and r["scope"] == ["programme"]
    assert r["stage_agreement"] == 1.0  # stages untouched
    added = r["actions_diff"]["added"]
    assert added and {a["rule"] for a in added} == {"onset_rocking_fade"}
    times = [a["t"] for a in added]
    # a fade that starts after 1 min of N2 instead of 5 and then steps every minute ("step = 1m")
    assert all(b - a == pytest.approx(60.0) for a, b in zip(times, times[1:], strict=False))
    assert r["actions_replayed"] == r["actions_original"] + len(added) - len(r["actions_diff"]["removed"])
    assert r["suppressed_replayed"] != r["suppressed_original"]
    assert main(["replay", str(night), "--set", f"{DWELL}=1m"]) == 0
    out = capsys.readouterr().out
    assert "added" in out and "re-ran: programme" in out


def test_restaging_with_the_recorded_value_reproduces_the_night(night):
    r = replay_sessions([night], {"stager.onset_evidence": 9.0})
    assert r["scope"] == ["stager"] and r["stage_agreement"] == 1.0
    assert r["actions_diff"] == EMPTY and r["baseline_matches_recording"]


def test_a_stager_edit_restages_and_moves_only_stage_driven_actions(night):
    r = replay_sessions([night], {"stager.onset_gate": False})
    assert r["scope"] == ["stager"]
    assert r["stage_agreement"] is not None and r["stage_agreement"] < 1.0
    changed = {x["rule"] for kind in r["actions_diff"].values() for x in kind}
    assert changed and not changed & GRIP_RULES  # the grip decisions are the journal's


def test_an_emg_edit_redecodes_and_moves_only_grip_actions(night):
    same = replay_sessions([night], {"emg.vote": 3})
    assert same["scope"] == ["emg"] and same["actions_diff"] == EMPTY
    r = replay_sessions([night], {"emg.reject_below": 0.95})
    assert r["stage_agreement"] == 1.0
    changed = {x["rule"] for kind in r["actions_diff"].values() for x in kind}
    assert changed and changed <= GRIP_RULES
    assert r["actions_replayed"] < r["actions_original"]  # stricter rejection, fewer grips


def test_full_mode_reruns_the_loop_deterministically(night, capsys):
    r = _replay(capsys, night, "--mode", "full")
    assert r["scope"] == ["full"] and r["actions_diff"] == EMPTY and r["stage_agreement"] == 1.0
    # the session source has no scripted calibration: the loop replay lacks the grip decoder
    assert r["baseline_matches_recording"] is False
    q = replay_sessions([night], {"quality.window_s": 1.0})
    assert q["scope"] == ["full"]


def test_several_nights_aggregate(night):
    r = replay_sessions([night, night], {DWELL: "1m"})
    one = replay_sessions([night], {DWELL: "1m"})
    assert r["epochs"] == 2 * one["epochs"] and len(r["nights"]) == 2
    assert len(r["actions_diff"]["added"]) == 2 * len(one["actions_diff"]["added"])
    assert all(a["session"] == str(night) for a in r["actions_diff"]["added"])


def test_a_night_recorded_with_a_since_retired_key_still_replays(night, tmp_path, capsys):
    """A night from an earlier version whose config held ``[neurofeedback.outputs]``: replay
    reads its config without the retired key and says so."""
    old = tmp_path / "old"
    shutil.copytree(night, old)
    with sqlite3.connect(old / "events.sqlite") as db:
        db.execute("UPDATE events SET payload = json_set(payload, '$.neurofeedback.outputs', "
                   "json('{\"reward\": \"vibrate\"}')) WHERE kind = 'config' AND "
                   "json_extract(payload, '$.neurofeedback') IS NOT NULL")
    r = _replay(capsys, old)
    assert r["nights"][0]["recorded_config_retired_keys"] == ["neurofeedback.outputs"]
    assert r["baseline_matches_recording"] is True and r["actions_diff"] == EMPTY
    assert main(["replay", str(old)]) == 0
    assert "retired, left out: neurofeedback.outputs" in " ".join(capsys.readouterr().out.split())


def test_bad_edits_are_one_clear_error(night, capsys):
    assert main(["replay", str(night), "--set", "programme.rules.nope.priority=1"]) == 2
    assert "no item 'nope'" in capsys.readouterr().err
    assert main(["replay", str(night), "--set", "nonsense"]) == 2
    assert "expected KEY=VALUE" in capsys.readouterr().err
    assert main(["replay", str(night), "--set", "stager.eeg_channel=Fz"]) == 2
    assert "Fz" in capsys.readouterr().err


def test_actions_are_paired_by_rule_in_time_order():
    before = [("a", 10.0), ("a", 20.0), ("b", 5.0)]
    after = [("a", 10.0), ("a", 25.0), ("a", 30.0), ("c", 1.0)]
    d = diff_actions(before, after)
    assert d["shifted"] == [{"rule": "a", "t_original": 20.0, "t_replayed": 25.0, "shift_s": 5.0}]
    assert d["added"] == [{"rule": "a", "t": 30.0}, {"rule": "c", "t": 1.0}]
    assert d["removed"] == [{"rule": "b", "t": 5.0}]
    assert parse_edits(["x.y=0.5", "z=wave"]) == {"x.y": 0.5, "z": "wave"}


@pytest.fixture(scope="module")
def training(tmp_path_factory):
    path = tmp_path_factory.mktemp("training") / "session"
    Run(load_config(REPO / "configs" / "neurofeedback.toml"), duration="6m", speed="max",
        session_dir=path, actuation="dry").run()
    return path


def test_a_neurofeedback_edit_reruns_the_feedback_and_counts_rewards(training):
    same = replay_sessions([training], {})
    assert same["baseline_matches_recording"] and same["actions_diff"] == EMPTY
    assert same["rewards_original"] == same["rewards_replayed"] > 0
    r = replay_sessions([training], {"neurofeedback.threshold.target_reward_rate": 0.9})
    assert r["scope"] == ["neurofeedback"] and r["rewards_replayed"] > r["rewards_original"]
    changed = {x["rule"] for kind in r["actions_diff"].values() for x in kind}
    assert changed and changed <= {"neurofeedback_reward", "neurofeedback_no_reward"}


def test_the_iteration_grid_predicts_when_decisions_reached_the_programme(night):
    recorded = read_night(Session(night))
    grid = dataclasses.replace(recorded, arrivals={})
    known = [(d, recorded.arrival(d)) for d in recorded.decisions]
    hits = sum(grid.arrival(d) == pytest.approx(t, abs=1e-9) for d, t in known)
    assert recorded.tick_s == 0.25 and hits == len(known) > 1000


def test_a_console_change_during_the_night_is_replayed_at_its_time(tmp_path):
    with live_loop(tmp_path, speed="60", duration="10m") as live:
        live.wait_for(lambda: live.run.summary.data_s > 150, timeout_s=60, what="150 s of data")
        with ControlClient(live.socket, name="engineer") as c:
            c.take_control()
            c.set("stager.artefact_uv", 50.0)  # most epochs from now on are artefacts
        live.thread.join(timeout=120)
    session = live.run.session_dir
    night = read_night(Session(session))
    (change,) = night.live_changes
    assert change.key == "stager.artefact_uv" and change.value == 50.0
    assert change.sample is not None and abs(change.sample / night.sfreq - change.t) < 5.0
    stager = Scope(frozenset({"stager"}))
    ignoring = final_stages(redecide(night, night.config, stager))
    assert stage_agreement(night.stages(), ignoring) < 1.0  # the change mattered
    # applied where the loop applied it, the re-run makes exactly the journalled decisions
    again = redecide(night, night.config, stager, night.live_changes)
    journalled = [d for d in night.decisions if d.kind == "stage"]
    assert [(d.sample, d.label, d.probabilities) for d in again if d.kind == "stage"] == \
        [(d.sample, d.label, d.probabilities) for d in journalled]
    r = replay_sessions([session], {"stager.onset_evidence": 9.0})
    assert r["scope"] == ["stager"] and r["stage_agreement"] == 1.0
    assert r["actions_diff"] == EMPTY


def test_a_live_neurofeedback_change_is_replayed_at_the_very_sample_it_took_effect(tmp_path):
    """Rewards are decided many times a second: the re-run with the console's change applied
    where the loop applied it gives the journalled rewards exactly, and the same change 10 s
    later (two threshold adaptations later) would not have."""
    cfg = load_config(REPO / "configs" / "neurofeedback.toml")
    cfg = dataclasses.replace(cfg, neurofeedback=dataclasses.replace(
        cfg.neurofeedback, blocks=("baseline 30s", "training 10m")))
    with live_loop(tmp_path, cfg=cfg, speed="20", duration="3m") as live:
        live.wait_for(lambda: live.run.summary.data_s > 70, timeout_s=60, what="70 s of data")
        with ControlClient(live.socket, name="engineer") as c:
            c.take_control()
            c.set("neurofeedback.threshold.target_reward_rate", 0.95)
        live.thread.join(timeout=120)
    night = read_night(Session(live.run.session_dir))
    (change,) = night.live_changes
    assert change.sample is not None and change.sample >= 70 * night.sfreq
    feedback = Scope(frozenset({"neurofeedback"}))

    def rewards(decisions):
        return [(d.sample, d.label) for d in decisions if d.kind == "neurofeedback"]

    recorded = rewards(night.decisions)
    assert rewards(redecide(night, night.config, feedback, [])) != recorded  # it mattered
    assert rewards(redecide(night, night.config, feedback, night.live_changes)) == recorded
    late = dataclasses.replace(change, sample=change.sample + round(10.0 * night.sfreq))
    assert rewards(redecide(night, night.config, feedback, [late])) != recorded
