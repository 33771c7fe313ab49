"""The programme engine over hand-made decision sequences, with recorded holds and live changes."""

from __future__ import annotations

from collections import Counter

from firmware_host.config import load_config
from firmware_host.control.params import with_value
from firmware_host.decision import Decision
from firmware_host.whatif.programme_replay import replay_programme
from firmware_host.whatif.recorded import LiveChange, RecordedNight, _holds
from firmware_host.whatif.scope import scope_of

SFREQ = 100.0
MIN_P = "programme.rules.grip.trigger.min_probability"


def _night(holds=None, changes=()) -> RecordedNight:
    return RecordedNight(session=None, config=load_config(None), sfreq=SFREQ, data_s=10.0,
                         targets=("hand", "mattress"), decisions=[], quality_epochs=[], actions=[],
                         suppressed=Counter(), holds=holds or {}, live_changes=list(changes))


def _grip(t: float, label: str = "power", p: float = 1.0) -> Decision:
    return Decision("grip", round(t * SFREQ), label, {label: p, "rest": 1.0 - p}, "m",
                    {"force": 0.5, "active": label != "rest", "rejected": False})


def _fired(outcome, rule: str) -> list[float]:
    return [t for r, t in outcome.actions if r == rule]


def test_a_held_device_makes_the_rule_ask_again_until_the_hold_ends():
    decisions = [_grip(t) for t in (1.0, 2.0, 3.0, 4.0)]
    night = _night()
    assert _fired(replay_programme(night, night.config, decisions), "grip") == [1.0]
    held = _night(holds={"hand": [(0.0, 2.5)]})
    # refused at 1 s and 2 s (the engine forgets and re-arms), sent at 3 s, then nothing new
    assert _fired(replay_programme(held, held.config, decisions), "grip") == [1.0, 2.0, 3.0]
    other = _night(holds={"mattress": [(0.0, 2.5)]})
    assert _fired(replay_programme(other, other.config, decisions), "grip") == [1.0]


def test_a_live_programme_change_applies_at_its_time_unless_the_replay_edits_that_key():
    strict = with_value(load_config(None), MIN_P, 0.95)
    decisions = [_grip(1.0, p=0.9), _grip(2.0, p=0.9), _grip(3.0, p=0.9)]
    night = _night(changes=[LiveChange(1.5, MIN_P, 0.7)])
    assert _fired(replay_programme(night, strict, decisions), "grip") == [2.0]
    assert _fired(replay_programme(night, strict, decisions, frozenset({MIN_P})), "grip") == []


def test_time_driven_steps_run_to_the_end_of_the_data():
    night = _night()
    night.data_s = 8 * 3600.0
    out = replay_programme(night, night.config, [])
    # the clock rules of the default programme (05:45 warm-up, 07:00 wake) fire without decisions
    assert {"warm_before_wake", "smart_wake_end"} <= {r for r, _ in out.actions}


def test_holds_come_from_alarm_windows():
    alarms = [{"code": "estop", "state": "active", "t": 5.0},
              {"code": "device_lost:hand", "state": "active", "t": 6.0},
              {"code": "estop", "state": "cleared", "t": 7.0},
              {"code": "command_refused:hand", "state": "active", "t": 8.0}]
    assert _holds(alarms, 100.0) == {"*": [(5.0, 7.0)], "hand": [(6.0, 100.0)]}


def test_scope_re_runs_only_what_an_edit_touches():
    assert scope_of([]).name == "programme"
    assert scope_of(["programme.rules.grip.priority"]).name == "programme"
    assert scope_of(["stager.hmm"]).name == "stager"
    assert scope_of(["emg.vote", "stager.hmm"]).name == "emg+stager"
    assert scope_of(["spindles.rms_z_min"]).kinds() == {"spindle", "slow_oscillation"}
    assert scope_of(["neurofeedback.smoothing"], signal_rules=True).name == "neurofeedback+quality"
    assert scope_of(["quality.window_s"]).full and scope_of(["source.kind"]).full
