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
from firmware_host.control.views import band_powers, decimate


def test_every_leaf_is_listed_with_its_schema_rules():
    specs = {s.key: s for s in param_specs()}
    p = specs["policy.stage.min_probability"]
    assert (p.type, p.min, p.max, p.mode) == ("float", 0.0, 1.0, "live")
    assert p.doc == "act only on this confidence"
    assert specs["quality.line_freq_hz"].choices == (50.0, 60.0)
    assert specs["policy.stage.head_deg"].type == "list[float]"
    assert specs["quality.window_s"].unit == "s" and specs["stager.flat_uv"].unit == "µV"
    assert all(s.mode == "read_only" for k, s in specs.items() if k.startswith("safety."))
    assert specs["run.tick_s"].mode == "restart" and specs["emg.model"].mode == "restart"
    assert all(not isinstance(v, tuple) for v in (s.to_json()["choices"] for s in specs.values()))


def test_values_are_validated_like_a_config_file():
    cfg = parse_config({})
    new = with_value(cfg, "policy.stage.head_deg", [20, 10, 5, 0, 5])
    assert get_value(new, "policy.stage.head_deg") == [20.0, 10.0, 5.0, 0.0, 5.0]
    assert get_value(cfg, "policy.stage.head_deg") == [10.0, 10.0, 5.0, 0.0, 5.0]  # frozen original
    cases = [
        ("policy.stage.min_probability", 1.5, "above the maximum 1.0; allowed: 0.0 to 1.0"),
        ("policy.stage.min_probability", "high", "must be a number"),
        ("policy.stage.min_probability", float("nan"), "not a finite number"),
        ("policy.stage.wake_vibration_pattern", "buzz", "allowed: ['continuous', 'pulse', 'wave']"),
        ("policy.stage.head_deg", [1, 2], "needs 5 values"),
        ("emg.onset_off", 0.5, "must be <= emg.onset_on"),
        ("policy.nope", 1, "unknown parameter 'policy.nope'; allowed at that level: ['grip', 'stage']"),
        ("policy.stage", 1, "is a section, not a parameter"),
    ]
    for key, value, message in cases:
        with pytest.raises(ParamError, match=re.escape(message)):
            with_value(cfg, key, value)


def test_modes_say_what_is_live_and_why_not():
    assert mode_of("safety.hand.max_force")[0] == "read_only"
    assert "read-only at run time" in mode_of("safety")[1]
    assert mode_of("policy.grip.speed")[0] == "live"
    assert mode_of("stager.flat_uv")[0] == "live" and mode_of("stager.hmm")[0] == "restart"
    with pytest.raises(ParamError, match="needs a restart"):
        check_settable("source.kind")
    assert "post-processor" in check_settable("emg.vote")


def test_override_file_round_trip_and_refusals(tmp_path):
    base = parse_config({})
    cur = with_value(with_value(base, "policy.stage.min_interval_s", 90), "quality.channel_types",
                     ["eeg"])
    cur = with_value(cur, "policy.stage.wake_vibration_pattern", "pulse")
    overrides = diff(base, cur)
    assert overrides == {"policy.stage.min_interval_s": 90.0, "quality.channel_types": ["eeg"],
                         "policy.stage.wake_vibration_pattern": "pulse"}
    path = save_overrides(tmp_path / "o.toml", overrides)
    loaded, applied = load_overrides(base, path)
    assert applied == overrides and loaded == cur
    assert load_overrides(base, tmp_path / "absent.toml") == (base, {})
    (tmp_path / "bad.toml").write_text("safety.mattress.head_elevation_max_deg = 45\n")
    with pytest.raises(ConfigError, match=r"overrides cannot change \[safety\]"):
        load_overrides(base, tmp_path / "bad.toml")
    (tmp_path / "bad2.toml").write_text("policy.stage.min_probability = 7\n")
    with pytest.raises(ConfigError, match="bad2.toml: policy.stage.min_probability = 7"):
        load_overrides(base, tmp_path / "bad2.toml")


def test_default_override_path():
    cfg = parse_config({})
    assert str(default_path(None, cfg, {"STATE_DIRECTORY": "/var/lib/somnoloop"})) == \
        "/var/lib/somnoloop/overrides.toml"
    assert str(default_path("/etc/somnoloop/bedside.toml", cfg, {})) == \
        "/etc/somnoloop/bedside.overrides.toml"
    assert str(default_path(None, cfg, {})) == "sessions/overrides.toml"


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
