"""Bad input to ``somnoloop run``: one line naming what was wrong and what is allowed, exit 2,
no traceback, and no session left behind."""

from __future__ import annotations

import pytest

from firmware_host.cli import main
from firmware_host.config.durations import parse_duration


@pytest.mark.parametrize("text", ["0", "0s", "99999999999999h", "745h"])
def test_durations_out_of_range_are_refused(text):
    with pytest.raises(ValueError, match="at most 31 days"):
        parse_duration(text)


def _run(argv, capsys):
    rc = main(["run", "--quiet", *argv])
    err = capsys.readouterr().err
    return rc, err


@pytest.mark.parametrize(("duration", "says"), [
    ("99999999999999h", "at most 31 days"), ("0", "more than 0 s"), ("nan", "not understood"),
])
def test_run_refuses_durations(tmp_path, capsys, duration, says):
    rc, err = _run(["--duration", duration, "--session-dir", str(tmp_path / "s")], capsys)
    assert rc == 2 and says in err and "Traceback" not in err
    assert not (tmp_path / "s").exists()


def test_session_dir_under_a_file(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    rc, err = _run(["--duration", "1m", "--session-dir", str(tmp_path / "file" / "s")], capsys)
    assert rc == 2
    assert "cannot create it (Not a directory)" in err and str(tmp_path / "file" / "s") in err


def test_a_source_without_eeg_does_not_run_silently_without_staging(tmp_path, capsys):
    cfg = tmp_path / "noeeg.toml"
    cfg.write_text("[source.synthetic]\neeg_channels = []\n")
    rc, err = _run(["--config", str(cfg), "--duration", "1m", "--session-dir", str(tmp_path / "s")],
                   capsys)
    assert rc == 2
    assert "stager.enabled = true but source 'synthetic' has no EEG channel" in err
    assert "[stager] enabled = false" in err
    assert not (tmp_path / "s").exists()  # a config that cannot run leaves no session


def test_staging_off_runs_without_eeg(tmp_path, capsys):
    cfg = tmp_path / "noeeg.toml"
    cfg.write_text("[source.synthetic]\neeg_channels = []\n[stager]\nenabled = false\n")
    rc, _ = _run(["--config", str(cfg), "--duration", "30s", "--session-dir", str(tmp_path / "s"),
                  "--actuation", "dry"], capsys)
    assert rc == 0
