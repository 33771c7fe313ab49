"""The DSP benchmark runs (tiny repeats, short night) and reports every key with the right type.

No timing assertions: speed figures are for humans (``somnoloop bench dsp``).
"""

from __future__ import annotations

import argparse
import json
import math

import pytest

from firmware_host.errors import UsageError
from somnoloop_lab.bench_dsp import run_dsp_bench
from somnoloop_lab.cli import cmd_bench

REQUIRED = (
    "block_filter_us",
    "block_filter_scipy_us",
    "block_filter_speedup",
    "max_abs_err_vs_scipy",
    "night_features_s",
    "night_features_yasa_ratio",
    "epoch_features_us",
    "emg_window_us",
    "resample_us",
)


def _check(result: dict) -> None:
    for key in REQUIRED:
        assert key in result, f"missing key {key}"
        value = result[key]
        if value is None:
            assert key in result["missing"], f"{key} is null without a 'missing' note"
        else:
            assert isinstance(value, float) and math.isfinite(value) and value >= 0, (key, value)
    assert result["max_abs_err_vs_scipy"] <= 1e-9 * 1000  # µV-scale signal, ≤ 1e-9 relative
    for key in ("cpu_count", "numba", "jit_disabled"):
        assert key in result["machine"]
    json.dumps(result)  # JSON-serialisable


def test_run_dsp_bench_keys_and_types() -> None:
    result = run_dsp_bench(repeats=2, night_hours=0.02, yasa=False)
    _check(result)
    assert result["night_features_yasa_ratio"] is None
    assert "yasa" in result["missing"]["night_features_yasa_ratio"]


def _cli(argv: list[str]) -> int:
    """Parse with only the bench sub-command registered (independent of other commands)."""
    parser = argparse.ArgumentParser(prog="somnoloop")
    cmd_bench.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_bench_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = _cli(["bench", "dsp", "--json", "--repeats", "1", "--night-hours", "0.02", "--no-yasa"])
    assert code == 0
    _check(json.loads(capsys.readouterr().out))


def test_cli_bench_table_and_bad_args(capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(["bench", "dsp", "--repeats", "1", "--night-hours", "0.02", "--no-yasa"]) == 0
    assert "block_filter_speedup" in capsys.readouterr().out
    with pytest.raises(UsageError, match="--repeats must be >= 1"):
        _cli(["bench", "dsp", "--repeats", "0"])


def test_bench_is_registered_in_the_cli() -> None:
    from firmware_host.cli import build_parser
    from somnoloop_lab.cli import COMMANDS

    assert "cmd_bench" in COMMANDS
    args = build_parser().parse_args(["bench", "dsp", "--no-yasa"])
    assert args.func is cmd_bench.run


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="repeats"):
        run_dsp_bench(repeats=0)
    with pytest.raises(ValueError, match="night_hours"):
        run_dsp_bench(repeats=1, night_hours=0)


def test_cli_bench_stager_json_with_yasa_side_by_side(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("yasa", reason="YASA (the [yasa] extra) times the reference staging")
    code = _cli(["bench", "stager", "--json", "--repeats", "1", "--night-hours", "0.2"])
    assert code == 0
    res = json.loads(capsys.readouterr().out)
    for key in ("stager_epoch_us", "stager_night_s", "stager_night_yasa_s"):
        assert isinstance(res[key], float) and res[key] > 0
    assert res["stager_night_yasa_ratio"] == pytest.approx(
        res["stager_night_yasa_s"] / res["stager_night_s"])
    assert res["stager_model"] == "somnoloop-logreg@3.1.0" and res["stager_expert"] == "yasa"
    assert set(res["targets"]) == {"stager_epoch_us", "stager_night_s"}
    assert res["missing"] == {}


def test_cli_bench_stager_table_without_yasa(capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(["bench", "stager", "--repeats", "1", "--night-hours", "0.1", "--no-yasa"]) == 0
    out = capsys.readouterr().out
    assert "stager_night_s" in out and "skipped (--no-yasa)" in out
