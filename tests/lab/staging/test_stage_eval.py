"""``somnoloop stage-eval`` on the real DREAMS excerpts (skipped when the data is absent)."""

from __future__ import annotations

import argparse
import json

import pytest

from firmware_host.errors import UsageError
from somnoloop_lab.cli import cmd_stage_eval
from tests.paths import DATA

DREAMS = DATA / "dreams-spindles"


def _run(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command")
    cmd_stage_eval.register(sub)
    args = p.parse_args(["stage-eval", *argv])
    return args.func(args)


def test_bad_arguments(tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(UsageError, match="--dreams"):
        _run(["--dreams", str(tmp_path / "nope")])
    with pytest.raises(UsageError, match="1..8"):
        _run(["--dreams", str(tmp_path), "--excerpts", "0,9"])


@pytest.mark.skipif(not (DREAMS / "excerpt1.txt").is_file(),
                    reason=f"DREAMS data not found at {DREAMS} (set SOMNOLOOP_DATA)")
def test_stage_eval_json_on_real_excerpts(capsys) -> None:  # noqa: ANN001
    assert _run(["--dreams", str(DREAMS), "--excerpts", "1,3", "--no-yasa", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    for key in ("accuracy", "kappa", "macro_f1", "n_epochs", "per_excerpt", "flicker_per_hour",
                "model", "cold_start_false_deep", "rem_entry_delay_epochs"):
        assert key in res
    assert res["n_epochs"] == 120
    assert set(res["per_excerpt"]) == {"dreams-1", "dreams-3"}
    # the shipped model was trained on these excerpts (in-sample): it must do clearly better
    # than chance; the honest out-of-sample figure comes from --loo (see staging README)
    assert res["kappa"] > 0.3
    assert res["per_excerpt"]["dreams-1"]["trained_on"] is True
    # excerpt 1 starts with 6 wake epochs (the cold start), no excerpt has REM
    assert res["per_excerpt"]["dreams-1"]["cold_start_wake_epochs"] == 6
    assert res["cold_start_false_deep"] == 0 and res["rem_entry_delay_epochs"] is None
    # excerpt 3 (50 Hz) is staged by the band-limited variant; YASA's causal trees alone are
    # scored in the same run
    assert res["model"] == "somnoloop-logreg@3.1.0 + somnoloop-logreg-50hz@3.1.0"
    assert res["expert_alone"]["n_epochs"] == 120
    assert "kappa" in res["per_excerpt"]["dreams-3"]["expert_alone"]


@pytest.mark.skipif(not (DREAMS / "excerpt3.edf").is_file(),
                    reason=f"DREAMS excerpt3.edf not found at {DREAMS} (set SOMNOLOOP_DATA)")
def test_stage_command_on_real_psg_edf_matches_text_path(capsys) -> None:  # noqa: ANN001
    """excerpt3.edf (µV written as 'UV', hypnogram as a signal) gives the same stages and the
    same agreement as the DREAMS text files."""
    from somnoloop_lab.cli import cmd_stage
    from somnoloop_lab.staging.datasets import load_dreams_excerpt, load_edf_recording

    edf = load_edf_recording(DREAMS / "excerpt3.edf", eeg="C3-A1", hypnogram_channel="hypnogram")
    txt = load_dreams_excerpt(DREAMS, 3)
    assert edf.stages == txt.stages
    assert edf.sfreq == txt.sfreq
    assert abs(edf.data[0] - txt.data[0]).max() < 1e-3  # µV, not V

    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command")
    cmd_stage.register(sub)
    args = p.parse_args(["stage", str(DREAMS / "excerpt3.edf"), "--channel", "C3-A1",
                         "--hypnogram-channel", "hypnogram", "--json"])
    assert args.func(args) == 0
    via_edf = json.loads(capsys.readouterr().out)
    assert _run(["--dreams", str(DREAMS), "--excerpts", "3", "--no-yasa", "--json"]) == 0
    via_txt = json.loads(capsys.readouterr().out)
    assert via_edf["agreement"]["kappa"] == pytest.approx(via_txt["kappa"], abs=1e-9)
    assert via_edf["agreement"]["accuracy"] == pytest.approx(via_txt["accuracy"], abs=1e-9)
