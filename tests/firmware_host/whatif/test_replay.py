"""What-if replay of a recorded synthetic night (dry actuation, session source)."""

from __future__ import annotations

import json

import pytest

from firmware_host.cli import main
from firmware_host.runtime.run import Run
from firmware_host.whatif.replay import diff_actions, parse_edits
from tests.firmware_host.control.live import light_config

DWELL = "programme.rules.onset_rocking_fade.trigger.dwell"


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    path = tmp_path_factory.mktemp("night") / "session"
    Run(light_config(), duration="20m", speed="max", session_dir=path, actuation="dry").run()
    return path


def test_no_edit_gives_a_zero_diff(night, capsys):
    assert main(["replay", str(night), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["epochs"] == 40 and r["stage_agreement"] == 1.0
    assert r["actions_original"] == r["actions_replayed"] > 0
    assert r["actions_diff"] == {"added": [], "removed": [], "shifted": []}
    assert r["suppressed_original"] == r["suppressed_replayed"]
    assert r["speed_x_realtime"] > 1


def test_an_edited_dwell_time_changes_the_fade(night, capsys):
    assert main(["replay", str(night), "--set", f"{DWELL}=1m", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["edits"] == {DWELL: "1m"} and r["stage_agreement"] == 1.0  # stages untouched
    added = r["actions_diff"]["added"]
    assert added and {a["rule"] for a in added} == {"onset_rocking_fade"}
    times = [a["t"] for a in added]
    # a fade that starts after 1 min of N2 instead of 5 and then steps every minute ("step = 1m")
    assert all(b - a == pytest.approx(60.0) for a, b in zip(times, times[1:], strict=False))
    assert r["actions_replayed"] == r["actions_original"] + len(added) - len(r["actions_diff"]["removed"])
    assert r["suppressed_replayed"] != r["suppressed_original"]
    assert main(["replay", str(night), "--set", f"{DWELL}=1m"]) == 0
    assert "added" in capsys.readouterr().out


def test_bad_edits_are_one_clear_error(night, capsys):
    assert main(["replay", str(night), "--set", "programme.rules.nope.priority=1"]) == 2
    assert "no item 'nope'" in capsys.readouterr().err
    assert main(["replay", str(night), "--set", "nonsense"]) == 2
    assert "expected KEY=VALUE" in capsys.readouterr().err


def test_actions_are_paired_by_rule_in_time_order():
    before = [("a", 10.0), ("a", 20.0), ("b", 5.0)]
    after = [("a", 10.0), ("a", 25.0), ("a", 30.0), ("c", 1.0)]
    d = diff_actions(before, after)
    assert d["shifted"] == [{"rule": "a", "t_original": 20.0, "t_replayed": 25.0, "shift_s": 5.0}]
    assert d["added"] == [{"rule": "a", "t": 30.0}, {"rule": "c", "t": 1.0}]
    assert d["removed"] == [{"rule": "b", "t": 5.0}]
    assert parse_edits(["x.y=0.5", "z=wave"]) == {"x.y": 0.5, "z": "wave"}
