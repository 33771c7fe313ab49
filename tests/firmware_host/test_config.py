"""Config loading: shipped files are valid, defaults equal default.toml, errors are clear (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware_host.cli import main
from firmware_host.config import ConfigError, load_config, parse_config
from firmware_host.durations import parse_duration, parse_speed

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


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
    for bad in ("0", "-2", "fast", "inf"):
        with pytest.raises(ValueError, match="allowed"):
            parse_speed(bad)


def test_parse_config_from_dict():
    cfg = parse_config({"run": {"duration": "30m"}, "source": {"synthetic": {"seed": 3}}})
    assert cfg.run.duration == "30m" and cfg.source.synthetic.seed == 3
