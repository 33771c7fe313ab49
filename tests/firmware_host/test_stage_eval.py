"""``somnoloop stage-eval`` on the real DREAMS excerpts (skipped when the data is absent)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pytest

from firmware_host.cli import cmd_stage_eval
from firmware_host.cli.errors import UsageError

DATA = Path(os.environ.get("SOMNOLOOP_DATA",
                           Path(__file__).resolve().parents[2] / ".." / "shared" / "data"))
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
                "model"):
        assert key in res
    assert res["n_epochs"] == 120
    assert set(res["per_excerpt"]) == {"dreams-1", "dreams-3"}
    # the shipped model was trained on these excerpts (in-sample): it must do clearly better
    # than chance; the honest out-of-sample figure comes from --loo (see staging README)
    assert res["kappa"] > 0.3
    assert res["per_excerpt"]["dreams-1"]["trained_on"] is True
