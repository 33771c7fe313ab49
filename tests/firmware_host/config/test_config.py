"""Config loading: shipped files are valid, defaults equal default.toml, errors are clear (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware_host.cli import main
from firmware_host.config import ConfigError, load_config, parse_config
from firmware_host.config.durations import parse_duration, parse_speed

CONFIGS = Path(__file__).resolve().parents[3] / "configs"


def test_builtin_defaults_equal_default_toml():
    assert load_config(CONFIGS / "default.toml") == load_config(None)


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_config_is_valid(path, capsys):
    assert main(["check-config", str(path)]) == 0
    assert "ok" in capsys.readouterr().out


def test_config_is_frozen():
    cfg = load_config(None)
    with pytest.raises(AttributeError):
        cfg.run.tick_s = 0.5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("bogus = 1", ["unknown key 'bogus'", "allowed keys"]),
        ("[run]\ntickk_s = 0.1", ["unknown key 'run.tickk_s'", "tick_s"]),
        ("[run]\ntick_s = 'fast'", ["run.tick_s", "'fast'", "must be a number"]),
        ("[run]\ntick_s = 3.0", ["run.tick_s = 3.0", "maximum 1.0", "0.01 to 1.0"]),
        ("[source]\nkind = 'usb'", ["source.kind = 'usb'", "'synthetic', 'brainflow', 'replay'"]),
        ("[run]\nduration = 'eight hours'", ["run.duration", "'eight hours'", "'8h'"]),
        ("[run]\nspeed = 'ludicrous'", ["run.speed", "'ludicrous'", "'max'"]),
        ("[source.synthetic]\neeg_channels = 'C3'", ["source.synthetic.eeg_channels", "array"]),
        ("[recorder]\nfsync = 'yes'", ["recorder.fsync", "true or false"]),
        ("[run\n", ["not valid TOML"]),
    ],
)
def test_bad_config_names_key_value_and_allowed(tmp_path, capsys, toml, expected):
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    for text in expected:
        assert text in str(err.value)
    for argv in (["check-config", str(path)], ["run", "--config", str(path)]):
        assert main(argv) == 2
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        assert expected[0] in captured.err


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "+nan"])
@pytest.mark.parametrize(
    "section_key",
    ["safety.hand.force_max", "safety.mattress.temperature_max_c", "safety.vibration.max_intensity",
     "safety.device_timeout_s", "run.tick_s", "programme.comfort.temperature_c"],
)
def test_nan_or_inf_never_passes_as_a_number(tmp_path, capsys, section_key, value):
    """A NaN bound compares false with everything: it would switch its limit off."""
    section, key = section_key.rsplit(".", 1)
    path = tmp_path / "nonfinite.toml"
    path.write_text(f"[{section}]\n{key} = {value}\n")
    for argv in (["check-config", str(path)], ["run", "--config", str(path), "--duration", "1s"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert f"{section_key} = " in err and "not a finite number" in err
        assert "Traceback" not in err


def test_nan_in_a_tuple_setting_is_refused(tmp_path):
    path = tmp_path / "nonfinite.toml"
    path.write_text("[filters]\neeg_band_hz = [0.3, nan]\n")
    with pytest.raises(ConfigError, match=r"filters\.eeg_band_hz\[1\] = nan is not a finite"):
        load_config(path)


def test_safety_sections_built_in_code_refuse_nan_too():
    from firmware_host.safety.config import HandLimits, MattressLimits, SafetyConfig

    with pytest.raises(ValueError, match="safety.hand.force_max"):
        HandLimits(force_max=float("nan"))
    with pytest.raises(ValueError, match="safety.mattress.vibration_max_intensity"):
        MattressLimits(vibration_max_intensity=float("inf"))
    with pytest.raises(ValueError, match="safety.device_timeout_s"):
        SafetyConfig(device_timeout_s=float("nan"))


def test_missing_config_file(tmp_path, capsys):
    assert main(["check-config", str(tmp_path / "nope.toml")]) == 2
    assert "cannot read config file" in capsys.readouterr().err


def test_bad_command_line_values_exit_2(tmp_path, capsys):
    assert main(["run", "--duration", "soon", "--session-dir", str(tmp_path / "s")]) == 2
    assert "'soon'" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(("text", "seconds"), [("8h", 28800), ("30m", 1800), ("1h30m", 5400),
                                               ("90", 90), ("45s", 45), ("0.5h", 1800)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_speeds():
    assert parse_speed("1") == 1 and parse_speed("60") == 60 and parse_speed("max") == float("inf")
    assert parse_speed("0.001") == 0.001 and parse_speed("1e5") == 1e5
    for bad in ("0", "-2", "fast", "inf", "1e-9", "1e30"):  # centuries, or past time_t
        with pytest.raises(ValueError, match="allowed"):
            parse_speed(bad)


def test_parse_config_from_dict():
    cfg = parse_config({"run": {"duration": "30m"}, "source": {"synthetic": {"seed": 3}}})
    assert cfg.run.duration == "30m" and cfg.source.synthetic.seed == 3


def test_a_retired_key_is_refused_with_why_it_went(tmp_path, capsys):
    path = tmp_path / "old.toml"
    path.write_text("[neurofeedback.outputs]\nreward = 'vibrate'\n")
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "'neurofeedback.outputs' no longer exists" in err and "'feature' rules" in err
    assert "remove it" in err and len(err.strip().splitlines()) == 1


def test_a_recorded_config_is_read_without_its_retired_keys():
    from firmware_host.config.retired import without_retired

    recorded = {"neurofeedback": {"enabled": False, "outputs": {"reward": "vibrate"}},
                "run": {"tick_s": 0.25}}
    data, dropped = without_retired(recorded)
    assert dropped == ["neurofeedback.outputs"]
    assert data == {"neurofeedback": {"enabled": False}, "run": {"tick_s": 0.25}}
    assert "outputs" in recorded["neurofeedback"]  # the caller's mapping is untouched
    parse_config(data)
    assert without_retired({"run": {}}) == ({"run": {}}, [])
    assert without_retired({"neurofeedback": 3}) == ({"neurofeedback": 3}, [])
