"""The replay benchmark on a short night: every figure, and the original reproduces the journal."""

from __future__ import annotations

from firmware_host.config import load_config
from firmware_host.runtime.run import Run
from somnoloop_lab.bench_replay import EDITS, replay_figures
from tests.jit import needs_jit

pytestmark = needs_jit("replay speed measures the compiled kernels; tests/firmware_host/whatif "
                       "covers the same paths")


def test_replay_figures_on_a_short_night(tmp_path):
    session = tmp_path / "night"
    Run(load_config(None), duration="10m", speed="max", session_dir=session, actuation="dry").run()
    out = replay_figures(session, repeats=1)
    assert set(EDITS) <= set(out) and all(out[k] > 1 for k in EDITS)
    assert out["replay_reproduces_journal"] is True
