"""``somnoloop events-eval``: matching rules, bad arguments, and the real DREAMS run (skipped
when the data is absent)."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from firmware_host.errors import UsageError
from somnoloop_lab.cli import COMMANDS, cmd_events_eval
from somnoloop_lab.events.matching import circular_stats_deg, iou, match_events, prf, wrap_deg
from tests.paths import DATA

DREAMS = DATA / "dreams-spindles"


def _run(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command")
    cmd_events_eval.register(sub)
    args = p.parse_args(["events-eval", *argv])
    return args.func(args)


def test_iou_matching_is_one_to_one_best_first() -> None:
    assert iou((0, 1), (0.5, 1.5)) == pytest.approx(1 / 3)
    assert iou((0, 1), (1, 2)) == 0.0
    detected = [(0.0, 1.0), (0.1, 1.05), (5.0, 5.3), (5.8, 6.9), (9.0, 10.0)]
    expert = [(0.1, 1.0), (5.0, 6.0), (20.0, 21.0)]
    # detection 1 overlaps expert 0 better than detection 0; (5.0, 5.3) has IoU 0.3 and
    # (5.8, 6.9) only 0.2 / 1.9 < 0.2
    assert match_events(detected, expert) == [(1, 0), (2, 1)]
    assert prf(2, 4, 3) == pytest.approx({"precision": 0.5, "recall": 2 / 3, "f1": 4 / 7})
    assert prf(0, 0, 3)["f1"] == 0.0


def test_circular_statistics() -> None:
    mean, sd = circular_stats_deg(np.array([170.0, -170.0]))
    assert abs(wrap_deg(np.array([mean]))[0]) == pytest.approx(180.0)
    assert sd == pytest.approx(np.rad2deg(np.sqrt(-2 * np.log(np.cos(np.deg2rad(10))))))
    assert np.isnan(circular_stats_deg(np.empty(0))[0])
    np.testing.assert_allclose(wrap_deg(np.array([190.0, -190.0, 180.0])), [-170, 170, -180])


def test_registered_and_bad_arguments(tmp_path) -> None:  # noqa: ANN001
    assert "cmd_events_eval" in COMMANDS
    with pytest.raises(UsageError, match="--dreams"):
        _run(["--dreams", str(tmp_path / "nope")])
    with pytest.raises(UsageError, match="1..8"):
        _run(["--dreams", str(tmp_path), "--excerpts", "0,9"])
    with pytest.raises(UsageError, match="comma-separated"):
        _run(["--dreams", str(tmp_path), "--excerpts", "one"])
    with pytest.raises(UsageError, match="--chunk-s"):
        _run(["--dreams", str(tmp_path), "--chunk-s", "0"])
    with pytest.raises(UsageError, match="missing"):
        _run(["--dreams", str(tmp_path), "--excerpts", "1"])


@pytest.mark.skipif(not (DREAMS / "Visual_scoring1_excerpt1.txt").is_file(),
                    reason=f"DREAMS data not found at {DREAMS} (set SOMNOLOOP_DATA)")
def test_events_eval_json_on_real_excerpts(capsys) -> None:  # noqa: ANN001
    assert _run(["--dreams", str(DREAMS), "--excerpts", "1,2", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    for key in ("spindle_f1", "spindle_precision", "spindle_recall", "spindle_latency_ms",
                "so_phase_error_deg_mean", "so_phase_error_deg_sd", "n_stimuli",
                "spindle_onset_precision"):
        assert isinstance(res[key], (int, float)), key
    assert res["excerpts"] == [1, 2]
    assert res["n_spindles_expert"] == 52 + 60
    assert set(res["per_excerpt"]) == {"dreams-1", "dreams-2"}
    assert set(res["yasa"]) == {"spindle_f1", "spindle_precision", "spindle_recall"}
    assert set(res["so_methods"]) == {"phase", "delay"}
    # a working detector, not a degenerate one (the figures themselves are in the README)
    assert res["spindle_f1"] > 0.3
    assert res["n_stimuli"] > 50
    assert abs(res["so_phase_error_deg_mean"]) < 45


@pytest.mark.skipif(not (DREAMS / "Visual_scoring1_excerpt3.txt").is_file(),
                    reason=f"DREAMS data not found at {DREAMS} (set SOMNOLOOP_DATA)")
def test_events_eval_table_on_a_50_hz_excerpt(capsys) -> None:  # noqa: ANN001
    assert _run(["--dreams", str(DREAMS), "--excerpts", "3"]) == 0
    out = capsys.readouterr().out
    assert "events-eval" in out
    assert "YASA" in out
