"""The default programme inside the real loop on a synthetic night, checked against the
generator's truth: rocking stops after sleep onset, nothing moves in N3, the smart wake fires
in light sleep inside its window, guards suppress, and every command follows an action.

The whole default 8-h synthetic night, starting at 23:00 like every simulated night, so the
06:30-07:00 wake window is its last half hour.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from firmware_host.cli import main
from firmware_host.config import parse_config
from firmware_host.runtime.run import Run
from firmware_host.session import Session
from firmware_host.synthetic.night import SyntheticNight
from tests.jit import needs_jit

DURATION_S = 8 * 3600.0
NIGHT_START = "23:00"
WINDOW = (450 * 60.0, 480 * 60.0)  # 06:30 and 07:00 after a 23:00 start
#: Length of the nights compared for determinism (two of them).
DETERMINISM_S = 2 * 3600.0

pytestmark = needs_jit("hours of data through pure-Python kernels takes many minutes; the engine's rules are "
    "tested one by one in tests/firmware_host/programme")


def _run(path: Path, duration_s: float = DURATION_S, tick_s: float = 0.25) -> Session:
    """A night through the real loop (what ``somnoloop run`` runs), at max speed."""
    cfg = parse_config({"name": "programme-night", "recorder": {"fsync": False},
                        "run": {"tick_s": tick_s},
                        "programme": {"simulated_night_start": NIGHT_START}})
    Run(cfg, duration=f"{duration_s:g}s", speed="max", session_dir=path).run()
    return Session(path)


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    path = tmp_path_factory.mktemp("programme") / "night"
    session = _run(path)
    cfg = parse_config({}).source.synthetic
    return path, session, SyntheticNight(cfg, DURATION_S).hypnogram


def _truth_at(truth: tuple[str, ...], t: float) -> str:
    return truth[min(int(t // 30), len(truth) - 1)]


def test_every_command_follows_an_action_that_lists_it(night):
    _, session, _ = night
    asked: Counter[str] = Counter()
    n = 0
    for e in session.events():
        if e.kind == "action":
            for c in e.payload["commands"]:
                asked[json.dumps(c, sort_keys=True)] += 1
        elif e.kind == "command":
            p = e.payload
            key = json.dumps({"target": p["target"], "action": p["action"],
                              "params": p["asked"]}, sort_keys=True)
            assert asked[key] > 0, f"command without a preceding action: {e.payload}"
            n += 1
    assert n > 10


def _vibration(actions: list[dict]) -> list[tuple[float, str, float]]:
    return [(a["t"], a["rule"], c["params"]["intensity"]) for a in actions
            for c in a["commands"] if c["action"] == "set_vibration"]


def test_rocking_stops_after_sleep_onset(night):
    _, session, truth = night
    onset_s = 30.0 * next(i for i in range(len(truth)) if "W" not in truth[i:i + 20])
    actions = [e.payload for e in session.events("action")]
    vib = _vibration(actions)
    assert vib[0][1] == "onset_rocking" and vib[0][0] < onset_s and vib[0][2] > 0
    off = next(t for t, _, v in vib if v == 0.0)
    assert onset_s < off <= onset_s + 30 * 60, "rocking not faded out within 30 min of onset"
    assert [r for t, r, _ in vib if t <= off] == ["onset_rocking"] + ["onset_rocking_fade"] * (
        len([t for t, _, _ in vib if t <= off]) - 1)
    # afterwards vibration only ever rises for the smart wake
    last = 0.0
    for _, rule, v in [x for x in vib if x[0] > off]:
        assert v <= last or rule.startswith("smart_wake"), (rule, v)
        last = v
    assert sum(a["rule"] == "onset_rocking" for a in actions) == 1


def test_nothing_moves_in_deep_sleep(night):
    """No elevation change and no vibration rising while the truth is N3 (a fade-out only
    takes motion away); the margin of two epochs allows for the stager's lag at a boundary."""
    _, session, truth = night
    last_vib = 0.0
    for a in (e.payload for e in session.events("action")):
        epoch = int(a["t"] // 30)
        deep = set(truth[max(epoch - 2, 0):epoch + 3]) == {"N3"}
        for c in a["commands"]:
            if c["action"] == "set_vibration":
                rising = c["params"]["intensity"] > last_vib
                last_vib = c["params"]["intensity"]
                assert not (deep and rising), f"{a['rule']} raised the vibration in N3: {a}"
            elif c["action"] == "set_elevation":
                assert not deep, f"{a['rule']} moved the bed in deep sleep: {a}"


def test_smart_wake_in_light_sleep_inside_the_window(night):
    _, session, truth = night
    wakes = [e.payload for e in session.events("action")
             if e.payload["rule"].startswith("smart_wake") and e.payload["trigger"] != "profile"]
    assert len(wakes) == 1
    (wake,) = wakes
    assert WINDOW[0] <= wake["t"] <= WINDOW[1]
    if wake["rule"] != "smart_wake_end":
        assert _truth_at(truth, wake["t"] - 1) in ("N1", "N2", "REM", "W"), wake
        assert wake["evidence"]["decisions"][-1]["label"] in ("N1", "N2", "W")


def test_guards_suppress_and_info_counts_actions_and_suppressions(night, capsys):
    path, session, _ = night
    assert main(["info", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["actions"]["onset_rocking"] == 1 and info["actions"]["grip"] > 0
    assert info["suppressed"].get("max_per_night", 0) >= 1  # rocking is not started again
    by_guard = Counter(e.payload["guard"] for e in session.events("suppressed"))
    assert dict(by_guard) == info["suppressed"]
    assert info["events"]["action"] == sum(info["actions"].values())


def test_grip_intents_drive_the_hand_with_the_decoded_force(night):
    _, session, _ = night
    grips = [e.payload for e in session.events("action") if e.payload["rule"] == "grip"]
    assert grips
    for a in grips:
        (cmd,) = a["commands"] or [None]
        if cmd is not None:
            d = a["evidence"]["decisions"][-1]
            assert cmd["params"]["pattern"] == d["label"]
            assert cmd["params"]["force"] == pytest.approx(min(a["evidence"]["force"], 1.0))
    sent = [e.payload for e in session.events("command")
            if e.payload["target"] == "hand" and e.payload["outcome"] == "sent"]
    assert sent


def _stream(session: Session, kind: str) -> list[str]:
    rows = []
    for e in session.events(kind):
        rows.append(json.dumps([e.sample, e.payload], sort_keys=True))
    return rows


def test_journal_is_identical_at_any_loop_period(tmp_path):
    """Decisions are journalled in sample order and rules are timed by their samples: another
    loop period (other chunks, other clock times) over a 2-h night gives byte-identical
    decision, action and suppressed streams."""
    runs = [_run(tmp_path / f"tick{tick_s}", duration_s=DETERMINISM_S, tick_s=tick_s)
            for tick_s in (0.25, 0.1)]
    for kind in ("decision", "action", "suppressed"):
        streams = [_stream(s, kind) for s in runs]
        assert len(streams[0]) > 10 or kind == "suppressed"
        assert streams[0] == streams[1], kind


def test_journal_is_identical_at_any_speed(tmp_path):
    """The same 5 minutes at 60× real time (real clock, jittery chunks) and at max speed."""
    runs = []
    for speed in ("max", "60"):
        cfg = parse_config({"name": "programme-night", "recorder": {"fsync": False},
                            "programme": {"simulated_night_start": NIGHT_START}})
        path = tmp_path / f"speed{speed}"
        Run(cfg, duration="5m", speed=speed, session_dir=path).run()
        runs.append(Session(path))
    for kind in ("decision", "action", "suppressed"):
        assert _stream(runs[0], kind) == _stream(runs[1], kind), kind
