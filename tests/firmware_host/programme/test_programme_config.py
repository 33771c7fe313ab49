"""``[programme]`` validation: one clear line per bad rule, exit 2 through the CLI."""

from __future__ import annotations

import tomllib
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from firmware_host.cli import main
from firmware_host.config import ConfigError, load_config, parse_config
from firmware_host.programme import ProgrammeConfig
from firmware_host.programme.defaults import default_rules
from firmware_host.programme.rules import ActionConfig, GuardsConfig, TriggerConfig

CONFIGS = Path(__file__).resolve().parents[3] / "configs"

RULE = """
[[programme.rules]]
name = "bad_rule"
priority = 5
trigger = {{ kind = "{kind}", stages = ["N2"]{trigger} }}
[[programme.rules.actions]]
kind = "set"
target = "{target}"
value = 5.0
"""

BAD = {
    "unknown trigger": (
        RULE.format(kind="moonrise", trigger="", target="mattress.head"),
        "programme.rules[bad_rule].trigger.kind = 'moonrise' is not allowed; allowed: "
        "['stage', 'transition', 'sleep_onset', 'arousal', 'signal', 'clock', 'intent', "
        "'feature', 'event']"),
    "unknown actuator": (
        RULE.format(kind="stage", trigger="", target="toaster"),
        "programme.rules[bad_rule].actions[0].target = 'toaster' is not allowed; allowed: "
        "['mattress.head', 'mattress.feet', 'mattress.temperature', 'mattress.vibration', "
        "'vibration', 'hand', 'servo_hand', 'mattress']"),
    "negative dwell": (
        RULE.format(kind="stage", trigger=", dwell = -1", target="mattress.head"),
        "[programme.rules[bad_rule].trigger]: dwell = -1.0 is not a duration; allowed: a "
        "duration >= 0 such as 0, 90, '30s', '5m', '1h30m'"),
    "two owners at one priority": (
        RULE.format(kind="stage", trigger="", target="mattress.head")
        + RULE.format(kind="stage", trigger="", target="mattress.head").replace(
            "bad_rule", "other_rule"),
        "[programme]: rules 'bad_rule' and 'other_rule' both drive 'mattress.head' at priority "
        "5; allowed: one owner per actuator output and priority (give one of them another "
        "priority)"),
    "window end before start": (
        RULE.format(kind="stage", trigger=', window = ["07:00", "06:30"]',
                    target="mattress.head"),
        "[programme.rules[bad_rule].trigger]: window = ['07:00', '06:30']: the end is not after "
        "the start; allowed: an end later on the same night (times run from 12:00 to 11:59 "
        "the next morning)"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_rules_stop_start_up_with_one_clear_line(tmp_path, capsys, case):
    text, message = BAD[case]
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    for argv in (["check-config", str(path)], ["run", "--config", str(path), "--duration", "1s"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err
        assert message in " ".join(err.split()), err


@pytest.mark.parametrize(("rule", "message"), [
    ({"trigger": {"kind": "stage", "stages": ["N2"], "labels": ["power"]}},
     "labels = ['power'] does not apply to a 'stage' trigger; allowed keys: ['kind', 'stages', "
     "'min_probability', 'dwell', 'window']"),
    ({"trigger": {"kind": "stage"}}, "stages is missing; a 'stage' trigger needs it"),
    ({"trigger": {"kind": "clock"}}, "a 'clock' trigger needs exactly one of at"),
    ({"trigger": {"kind": "clock", "at": "25:00"}},
     "at = '25:00' is not a clock time; allowed: 'HH:MM' (00:00 to 23:59)"),
    ({"actions": [{"kind": "set", "target": "hand", "value": 1.0}]},
     "target = 'hand' takes no 'set'; allowed: ['mattress.head'"),
    ({"actions": [{"kind": "grip", "target": "mattress"}]}, "target = 'mattress' cannot grip"),
    ({"actions": [{"kind": "ramp", "target": "mattress.head"}]}, "to is missing"),
    ({"actions": [{"kind": "profile", "target": "mattress.head",
                   "points": [["10m", 1.0], ["5m", 2.0]]}]}, "offsets must increase"),
    ({"actions": [{"kind": "restore", "target": "hand"}]}, "has no comfort value to restore"),
    ({"actions": []}, "actions is missing"),
    ({"actions": [{"kind": "set", "target": "mattress.vibration", "value": 150.0}]},
     "value = 150.0 is outside what mattress.vibration takes; allowed: 0 to 100"),
    ({"actions": [{"kind": "profile", "target": "mattress.temperature",
                   "points": [["0", 28.0], ["1h", 5.0]]}]},
     "points[1][1] = 5.0 is outside what mattress.temperature takes; allowed: 15 to 40"),
    ({"trigger": {}}, "rule 'r': trigger is missing; a rule needs trigger = { kind = ... }"),
    ({"name": "two words"}, "name = 'two words' is not allowed"),
    ({"guards": {"exit_probability": 0.8}},
     "guards.exit_probability = 0.8 is above trigger.min_probability = 0.5"),
    ({"guards": {"quiet_hours": ["01:00", "00:30"]}}, "quiet_hours = ['01:00', '00:30']"),
    ({"guards": {"min_interval": "soon"}}, "min_interval = 'soon' is not a duration"),
])
def test_rule_errors_name_the_rule_key_value_and_what_is_allowed(rule, message):
    base = {"name": "r", "trigger": {"kind": "stage", "stages": ["N2"], "min_probability": 0.5},
            "actions": [{"kind": "set", "target": "mattress.head", "value": 5.0}]}
    with pytest.raises(ConfigError) as err:
        parse_config({"programme": {"rules": [base | rule]}})
    text = str(err.value)
    assert message in text
    assert text.count("\n") == 0
    if "name" not in rule:
        assert "programme.rules[r]" in text


def test_array_items_are_named_by_their_name_else_by_index():
    with pytest.raises(ConfigError, match=r"programme\.rules\[0\]\.trigger\.kind = 'x'"):
        parse_config({"programme": {"rules": [{"trigger": {"kind": "x"}}]}})
    with pytest.raises(ConfigError, match=r"programme\.rules\[b\]\.actions\[1\]\.kind = 'x'"):
        parse_config({"programme": {"rules": [
            {"name": "b", "actions": [{"target": "hand", "kind": "stop"}, {"kind": "x"}]}]}})
    with pytest.raises(ConfigError, match=r"\[programme\.rules\[1\]\] must be a table, got int 3"):
        parse_config({"programme": {"rules": [{"name": "a", "trigger": {"kind": "sleep_onset"},
                                               "actions": [{"kind": "stop", "target": "hand"}]},
                                              3]}})


def test_duplicate_names_and_disabled_rules():
    rule = {"name": "r", "trigger": {"kind": "sleep_onset"},
            "actions": [{"kind": "hold", "target": "mattress"}]}
    with pytest.raises(ConfigError, match="rule name 'r' is used twice"):
        parse_config({"programme": {"rules": [rule, rule]}})
    other = rule | {"name": "s", "enabled": False}
    assert len(parse_config({"programme": {"rules": [rule, other]}}).programme.rules) == 2


def test_the_default_programme_is_built_in_and_shipped_in_every_config():
    assert ProgrammeConfig().rules == default_rules()
    for path in sorted(CONFIGS.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        assert "policy" not in data, f"{path.name} still has the old [policy] section"
    assert load_config(CONFIGS / "default.toml").programme == ProgrammeConfig()
    names = [r.name for r in ProgrammeConfig().rules]
    assert names == ["onset_rocking", "onset_rocking_fade", "deep_sleep_hold",
                     "cool_after_onset", "warm_before_wake", "arousal_restore",
                     "smart_wake_light", "smart_wake_after_rem", "smart_wake_end", "grip",
                     "grip_hold", "grip_open"]


def test_night_start_must_be_a_clock_time_or_auto():
    with pytest.raises(ConfigError, match="night_start = '11pm' is not a clock time"):
        parse_config({"programme": {"night_start": "11pm"}})
    assert parse_config({"programme": {"night_start": "22:15"}}).programme.night_start == "22:15"


def _keys(cls: type) -> list[str]:
    import dataclasses

    return [f.name for f in dataclasses.fields(cls)]


_JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=8),
    st.sampled_from(["N2", "W", "mattress", "hand", "06:30", "24:00", "5m", "-1", "0", "stage",
                     "ramp", "grip", "intent", "clock", "rest", "wave"]),
    st.lists(st.sampled_from(["N2", "06:30", "07:00", "power", 1.0, "x", ["0", 1.0]]),
             max_size=3),
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(_keys(TriggerConfig)), _JUNK, max_size=4),
       st.dictionaries(st.sampled_from(_keys(ActionConfig)), _JUNK, max_size=4),
       st.dictionaries(st.sampled_from(_keys(GuardsConfig)), _JUNK, max_size=3),
       st.sampled_from(["stage", "clock", "intent", "feature", "transition", "signal"]),
       st.sampled_from(["set", "ramp", "profile", "grip", "restore", "hold"]))
def test_junk_in_any_rule_key_gives_a_config_error_or_a_valid_rule(trigger, action, guards,
                                                                      tkind, akind):
    rule = {"name": "fuzz", "trigger": {"kind": tkind, **trigger},
            "actions": [{"kind": akind, "target": "mattress.head", **action}],
            "guards": guards}
    try:
        cfg = parse_config({"programme": {"rules": [rule]}})
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(exc)
        return
    (parsed,) = cfg.programme.rules
    assert parsed.trigger.dwell_s >= 0 and parsed.guards.min_interval_s >= 0
