"""The one-hour soak that CI runs: ``somnoloop soak --hours 1 --json`` meets every target."""

from __future__ import annotations

import json

import pytest

from firmware_host.cli import main
from tests.jit import needs_jit


@pytest.mark.slow
@needs_jit("an hour of faults through pure-Python kernels takes too long; the fault "
                    "catalogue tests inject every fault without JIT too")
def test_one_hour_soak_meets_its_targets(capsys):
    rc = main(["soak", "--hours", "1", "--seed", "3", "--json"])
    out = json.loads(capsys.readouterr().out)
    for key in ("hours", "faults_injected", "crashes", "out_of_bounds_commands",
                "max_safe_state_latency_s", "rss_start_mb", "rss_end_mb", "samples_lost"):
        assert key in out
    assert out["faults_injected"] >= 4
    assert out["crashes"] == 0 and out["out_of_bounds_commands"] == 0
    assert out["max_safe_state_latency_s"] is not None and out["max_safe_state_latency_s"] <= 1.0
    assert out["missed_safe_states"] == [] and out["unrecovered"] == []
    assert out["samples_lost"] == 0
    assert out["rss_end_mb"] - out["rss_start_mb"] <= 5.0
    assert rc == 0


def test_soak_refuses_bad_hours(capsys):
    assert main(["soak", "--hours", "0"]) == 2
    assert "allowed more than 0" in capsys.readouterr().err
