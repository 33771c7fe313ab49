"""Parameters from the config schema, validation, modes, the override file, live views."""

from __future__ import annotations

import re

import numpy as np
import pytest

from firmware_host.chunk import Chunk
from firmware_host.config import ConfigError, parse_config
from firmware_host.control import protocol as P
from firmware_host.control.overrides import default_path, diff, load_overrides, save_overrides
from firmware_host.control.params import (
    ParamError,
    check_settable,
    get_value,
    mode_of,
    param_specs,
    with_value,
)
from firmware_host.control.tap import TraceTap
from firmware_host.control.views import band_powers, decimate, quantised_envelope

ONSET_P = "programme.rules.onset_rocking.trigger.min_probability"


def test_every_leaf_is_listed_with_its_schema_rules():
    specs = {s.key: s for s in param_specs(parse_config({}))}
    p = specs["stager.max_bad_fraction"]
    assert (p.type, p.min, p.max, p.mode) == ("float", 0.0, 1.0, "live")
    assert p.doc == "epoch is 'unscorable' when more of its seconds are bad"
    rule = "programme.rules.onset_rocking"
    assert specs[f"{rule}.trigger.min_probability"].mode == "live"
    assert specs[f"{rule}.trigger.dwell"].type == "str | float"
    assert specs[f"{rule}.actions.0.value"].mode == "live"
    assert specs[f"{rule}.name"].mode == "restart"  # a rule's name is its address
    assert specs["quality.line_freq_hz"].choices == (50.0, 60.0)
    assert specs["quality.channel_types"].type == "list[str]"
    assert specs["quality.window_s"].unit == "s" and specs["stager.flat_uv"].unit == "µV"
    assert all(s.mode == "read_only" for k, s in specs.items() if k.startswith("safety."))
    assert specs["run.tick_s"].mode == "restart" and specs["emg.model"].mode == "restart"
    assert all(not isinstance(v, tuple) for v in (s.to_json()["choices"] for s in specs.values()))


def test_values_are_validated_like_a_config_file():
    cfg = parse_config({})
    stages = "programme.rules.onset_rocking.trigger.stages"
    new = with_value(cfg, stages, ["W"])
    assert get_value(new, stages) == ["W"]
    assert get_value(cfg, stages) == ["W", "N1"]  # the original is untouched (frozen)
    rules = [r.name for r in new.programme.rules]
    assert rules == [r.name for r in cfg.programme.rules]  # same rules, same order
    cases = [
        (ONSET_P, 1.5, "above the maximum 1.0; allowed: 0.0 to 1.0"),
        (ONSET_P, "high", "must be a number"),
        (ONSET_P, float("nan"), "not a finite number"),
        ("quality.line_freq_hz", 55.0, "allowed: [50.0, 60.0]"),
        ("emg.onset_off", 0.5, "must be <= emg.onset_on"),
        ("programme.rules.onset_rocking.priority", 110, "both drive 'mattress.vibration' at priority 110"),
        ("programme.rules.nope.priority", 1, "no item 'nope'; allowed: ['onset_rocking'"),
        ("stager.nope", 1, "unknown parameter 'stager.nope'; allowed at that level: ['artefact_uv'"),
        ("programme.comfort", 1, "is a section, not a parameter"),
    ]
    for key, value, message in cases:
        with pytest.raises(ParamError, match=re.escape(message)):
            with_value(cfg, key, value)


def test_modes_say_what_is_live_and_why_not():
    assert mode_of("safety.hand.max_force")[0] == "read_only"
    assert "read-only at run time" in mode_of("safety")[1]
    assert mode_of("programme.comfort.head_deg")[0] == "live"
    assert mode_of("stager.flat_uv")[0] == "live" and mode_of("stager.hmm")[0] == "restart"
    with pytest.raises(ParamError, match="needs a restart"):
        check_settable("source.kind")
    assert "post-processor" in check_settable("emg.vote")


def test_override_file_round_trip_and_refusals(tmp_path):
    base = parse_config({})
    dwell = "programme.rules.onset_rocking_fade.trigger.dwell"
    cur = with_value(with_value(base, dwell, "7m"), "quality.channel_types", ["eeg"])
    cur = with_value(cur, ONSET_P, 0.8)
    overrides = diff(base, cur)
    assert overrides == {dwell: "7m", "quality.channel_types": ["eeg"], ONSET_P: 0.8}
    path = save_overrides(tmp_path / "o.toml", overrides)
    loaded, applied = load_overrides(base, path)
    assert applied == overrides and loaded == cur
    assert load_overrides(base, tmp_path / "absent.toml") == (base, {})
    (tmp_path / "bad.toml").write_text("safety.mattress.head_elevation_max_deg = 45\n")
    with pytest.raises(ConfigError, match=r"overrides cannot change \[safety\]"):
        load_overrides(base, tmp_path / "bad.toml")
    (tmp_path / "bad2.toml").write_text(f"{ONSET_P} = 7\n")
    with pytest.raises(ConfigError, match=f"bad2.toml: {ONSET_P} = 7"):
        load_overrides(base, tmp_path / "bad2.toml")


def test_default_override_path():
    cfg = parse_config({})
    assert str(default_path(None, cfg, {"STATE_DIRECTORY": "/var/lib/somnoloop"})) == \
        "/var/lib/somnoloop/overrides.toml"
    assert str(default_path("/etc/somnoloop/bedside.toml", cfg, {})) == \
        "/etc/somnoloop/bedside.overrides.toml"
    assert str(default_path(None, parse_config({"recorder": {"root": "/data/nights"}}), {})) == \
        "/data/nights/overrides.toml"


def test_requests_are_decoded_or_refused_with_a_code():
    assert P.decode_request(b'{"op": "hello"}')["op"] == "hello"
    for line, code in ((b"{", "bad_json"), (b"3", "bad_json"), (b'{"op": 1}', "bad_request"),
                       (b"\xff\xfe", "bad_json")):
        with pytest.raises(P.ProtocolError) as exc:
            P.decode_request(line)
        assert exc.value.code == code
    assert P.encode({"x": float("nan")}) == b'{"x":null}\n'


def test_trace_tap_keeps_the_last_seconds_in_order():
    tap = TraceTap(keep_s=1.0)
    fs = 10.0
    for first in range(0, 35, 7):
        x = np.arange(first, first + 7, dtype=float)[None, :]
        out = tap.update(Chunk(x, first, fs, ("a",), ("eeg",), np.arange(7) / fs))
        assert out.chunk.data is x and out.decisions == []
    win = tap.window()
    assert win.end_sample == 35
    np.testing.assert_array_equal(win.data[0], np.arange(25, 35, dtype=float))


def test_views_decimate_and_band_powers():
    assert decimate(np.arange(10.0), 5) == [0.5, 2.5, 4.5, 6.5, 8.5]
    fs = 100.0
    t = np.arange(400) / fs
    bands = band_powers(10 * np.sin(2 * np.pi * 10 * t), fs)
    assert max(bands, key=bands.get) == "alpha" and bands["alpha"] > 90


def test_quantised_envelope_keeps_each_columns_extremes():
    x = np.sin(np.arange(1000) / 30.0) * 20.0
    x[517] = 400.0  # a one-sample spike
    x[:100] = np.nan  # no data in the first columns
    env = quantised_envelope(x, 50)
    assert len(env["min"]) == len(env["max"]) == 50
    assert env["min"][:5] == env["max"][:5] == [-1] * 5 and min(env["min"][5:]) == 0
    mean = np.nanmean(x)
    for c in range(5, 50):  # column c holds samples [20 c, 20 c + 20)
        seg = x[20 * c:20 * c + 20] - mean
        for q, v in ((env["min"][c], seg.min()), (env["max"][c], seg.max())):
            assert abs(env["lo_uv"] + env["step_uv"] * q - v) <= env["step_uv"] / 2 + 1e-9
    assert env["max"].index(255) == 517 // 20  # the spike is the top of its own column
    assert quantised_envelope(np.full(40, 7.0), 10) == {"lo_uv": 0.0, "step_uv": 0.0,
                                                         "min": [0] * 10, "max": [0] * 10}


def test_journal_tail_follows_new_events(tmp_path):
    from firmware_host.control.tail import JournalTail
    from firmware_host.session.journal import Journal

    journal = Journal(tmp_path / "events.sqlite")
    for i in range(30):
        journal.add(i, "decision", {"kind": "quality", "label": "ok", "details": {
            "channels": {"C4": {"flat": i == 29, "clipped": False}}}}, i)
    journal.add(30, "decision", {"kind": "stage", "label": "N2", "probabilities": {"N2": 0.9},
                                 "details": {"provisional": False}, "model": "m@1"}, 30)
    journal.add(31, "command", {"target": "mattress", "action": "set_elevation",
                                "sent": {"zone": "head", "degrees": 5.0}, "outcome": "sent"}, None)
    journal.commit()
    tail = JournalTail(tmp_path / "events.sqlite", backlog=100)
    assert tail.poll() == 32
    assert tail.stage["label"] == "N2" and tail.stage["probabilities"] == {"N2": 0.9}
    assert tail.commanded["mattress"]["sent"] == {"zone": "head", "degrees": 5.0}
    journal.add(40, "action", {"rule": "onset_rocking", "trigger": "stage", "commands": [
        {"target": "mattress", "action": "set_vibration", "params": {"intensity": 15.0}}]}, None)
    journal.add(41, "suppressed", {"rule": "grip", "guard": "max_per_night", "reason": "3 of 3"}, None)
    journal.add(42, "control", {"command": "set", "client": "c", "params": {"key": "k"},
                                "ok": True, "result": {"key": "k", "old": 1, "new": 2}}, None)
    journal.add(43, "decision", {"kind": "grip", "label": "power", "details": {"force": 0.4}}, 1)
    journal.commit()
    assert tail.poll() == 4
    assert [e["text"] for e in tail.recent][-2:] == [
        "onset_rocking (stage): mattress set_vibration intensity=15",
        "grip held by max_per_night: 3 of 3"]
    assert tail.control[-1]["result"] == {"key": "k", "old": 1, "new": 2}
    assert tail.grip["label"] == "power" and tail.stage["label"] == "N2"
    assert tail.poll() == 0
    tail.close()
    journal.close()
