"""Protocols as config: presets load, and each bad protocol stops with one clear line (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware_host.cli import main
from firmware_host.config import ConfigError, load_config, parse_config
from firmware_host.neurofeedback.config import PRESETS, check_protocol, session_blocks

ROOT = Path(__file__).resolve().parents[3]
CONFIG = ROOT / "configs" / "neurofeedback.toml"
NAMES = ("Cz", "Pz", "C4", "E1", "E2", "Chin")
TYPES = ("eeg", "eeg", "eeg", "eog", "eog", "emg")


def _nf(**kw):
    return parse_config({"neurofeedback": {"enabled": True, **kw}}).neurofeedback


def test_shipped_config_and_every_preset_load() -> None:
    cfg = load_config(CONFIG)
    assert cfg.neurofeedback.enabled and cfg.source.synthetic.mode == "neurofeedback"
    for name, spec in PRESETS.items():
        nf = _nf(protocol=name)
        assert nf.feature_spec == spec
        assert check_protocol(nf, 250.0, NAMES, TYPES) == ("Cz", "Pz", "C4")
    assert PRESETS["theta_beta_down"].direction == "down"
    assert PRESETS["smr_up"].inhibit_bands == ((4.0, 7.0), (22.0, 30.0))


def test_custom_protocol() -> None:
    nf = _nf(protocol="custom", feature={"kind": "ratio", "band": [4, 8], "reference_band": [13, 21],
                                         "direction": "down", "inhibit_bands": [[22, 30]]})
    assert nf.feature_spec.kind == "ratio" and nf.feature_spec.inhibit_bands == ((22.0, 30.0),)
    assert set(nf.bands) == {"feature.band", "feature.reference_band", "feature.inhibit_bands[0]",
                             "gates.emg_band"}


@pytest.mark.parametrize(("table", "message"), [
    ({"blocks": []}, "neurofeedback.blocks is empty"),
    ({"threshold": {"target_reward_rate": 1.0}}, "target_reward_rate = 1.0 is outside (0, 1)"),
    ({"threshold": {"target_reward_rate": 0.0}}, "target_reward_rate = 0.0 is outside (0, 1)"),
    ({"blocks": ["training 2m"]}, "a 'baseline' block must come before"),
    ({"blocks": ["baseline 1m", "nap 2m"]}, "blocks[1] = 'nap 2m'; allowed"),
    ({"blocks": ["baseline 1m", "rest 2m"]}, "has no 'training' block"),
    ({"blocks": ["baseline forever"]}, "blocks[0] = 'baseline forever'"),
    ({"protocol": "custom"}, "needs a [neurofeedback.feature] table"),
    ({"feature": {"band": [8, 12]}}, "is a preset; set protocol = 'custom'"),
    ({"combine": "difference", "channels": ["Cz"]}, "needs exactly 2 channels"),
    ({"update_hz": 2.0}, "update_hz = 2.0 is below the minimum 4.0"),
])
def test_bad_protocol_is_one_clear_error(table: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"neurofeedback": {"enabled": True, **table}})
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_board_checks() -> None:
    with pytest.raises(ValueError, match=r"'O1' is not an EEG channel of this board; allowed: \['Cz'"):
        check_protocol(_nf(channels=["O1"]), 250.0, NAMES, TYPES)
    with pytest.raises(ValueError, match="'E1' is not an EEG channel"):
        check_protocol(_nf(channels=["E1"]), 250.0, NAMES, TYPES)
    with pytest.raises(ValueError, match=r"gates.emg_band = \[30.0, 45.0\] Hz reaches the Nyquist"):
        check_protocol(_nf(), 80.0, NAMES, TYPES)
    nf = _nf(protocol="custom", feature={"band": [40, 70]}, gates={"emg_band": [20.0, 30.0]})
    with pytest.raises(ValueError, match=r"feature.band = \[40.0, 70.0\] Hz reaches the Nyquist freq"):
        check_protocol(nf, 128.0, NAMES, TYPES)


def test_session_blocks_parse() -> None:
    blocks = session_blocks(("baseline 1m30s", "training 3m", "rest 30", "transfer 2m"))
    assert [b.phase for b in blocks] == ["baseline", "training", "rest", "transfer"]
    assert [b.duration_s for b in blocks] == [90.0, 180.0, 30.0, 120.0]


def _bad_file(tmp_path: Path, old: str, new: str) -> Path:
    text = CONFIG.read_text()
    assert old in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(old, new))
    return path


@pytest.mark.parametrize(("old", "new", "message"), [
    ('channels = ["Pz"]', 'channels = ["O1"]', "'O1' is not an EEG channel"),
    ('update_hz = 4.0', 'update_hz = 4.0\nfilter_order = 2\nprotocol_note = 1', "unknown key"),
    ('emg_band = [30.0, 45.0]', 'emg_band = [100.0, 130.0]', "reaches the Nyquist frequency 125 Hz"),
    ('          "transfer 2m"]', '          "transfer 2m"]\nblocks_unused = 0', "unknown key"),
    ('target_reward_rate = 0.65', 'target_reward_rate = 1.5', "outside (0, 1)"),
])
def test_check_config_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture,
                                            old: str, new: str, message: str) -> None:
    path = _bad_file(tmp_path, old, new)
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_check_config_empty_block_list(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    text = CONFIG.read_text()
    start = text.index("blocks = [")
    end = text.index("]", text.index('"transfer 2m"')) + 1
    path = tmp_path / "empty.toml"
    path.write_text(text[:start] + "blocks = []" + text[end:])
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "neurofeedback.blocks is empty" in err and err.count("\n") == 1
