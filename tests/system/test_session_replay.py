"""A recorded night replayed from our own session through the session source with dry
actuation, twice: byte-identical command logs (what would have been sent, and why)."""

from __future__ import annotations

import json

import pytest

from firmware_host.config import parse_config
from firmware_host.runtime.run import Run
from firmware_host.session import Session
from tests.jit import needs_jit


def _log(session: Session, kinds=("decision", "action", "suppressed", "command", "ack")) -> list[str]:
    """The behaviour-defining journal, loop clock and samples included, wall clock left out."""
    return [json.dumps([e.t, e.sample, e.kind, e.payload], sort_keys=True)
            for e in session.events() if e.kind in kinds]


@pytest.mark.slow
@needs_jit("three 2-h nights through pure-Python kernels take far too long; the "
                    "session source is tested sample by sample in tests/firmware_host")
def test_a_recorded_night_replays_byte_identically_with_dry_actuation(tmp_path):
    recorded = tmp_path / "night"
    Run(parse_config({"recorder": {"fsync": False}}), duration="2h", session_dir=recorded).run()

    logs = []
    for k in range(2):
        cfg = parse_config({"recorder": {"fsync": False},
                            "source": {"kind": "session", "session": {"path": str(recorded)}}})
        path = tmp_path / f"replay{k}"
        summary = Run(cfg, duration="2h", speed="max", session_dir=path, actuation="dry").run()
        assert summary.stop_reason in ("duration reached", "source finished")
        replay = Session(path)
        assert replay.n_samples == Session(recorded).n_samples
        logs.append(_log(replay))
    commands = [row for row in logs[0] if '"command"' in row]
    assert len(commands) > 20  # mattress programme (no EMG model is calibrated on a replay)
    assert logs[0] == logs[1]
