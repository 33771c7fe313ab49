"""End-to-end grip delay at speed 1: a sample's acquisition to the hand frame on the pty.

Runs the default synthetic config in real time (speed 1) through the whole loop — paced
source, stage chain, policy, safety layer, the serial hand driver, a pty, the hand
simulator — and pairs every grip command the hand received with the decision that caused
it. The delay of one command is the simulator's reception time of the frame minus the
time the decision's last sample became available (a paced source makes sample ``k``
available ``(k + 1) / sfreq`` after it opened). The decoder's own window is not part of
this figure: it measures what the loop, the policy, the safety layer and the link add.

Usage::

    python -m somnoloop_lab.bench_grip --seconds 120 [--json]   (or: somnoloop bench loop)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from firmware_host.config import load_config
from firmware_host.runtime.run import Run
from firmware_host.session import Session

#: Decisions in the first seconds are delivered in one backlog chunk (the source starts its
#: clock while the stages and devices are still being built); they are not steady state.
WARMUP_S = 5.0


def grip_delays(session_dir: Path, frames: list[Any], t_open: float, sfreq: float) -> list[float]:
    """Delay (s) of every grip frame the hand accepted, paired with its decision.

    The journal orders a decision before the commands it caused; the k-th grip command sent
    to the hand is the k-th grip frame the hand received.
    """
    sent: list[int] = []
    last_grip_sample: int | None = None
    for ev in Session(session_dir).events():
        if ev.kind == "decision" and ev.payload.get("kind") == "grip":
            last_grip_sample = ev.payload["sample"]
        elif (ev.kind == "command" and ev.payload.get("target") == "hand"
              and ev.payload.get("action") == "grip" and ev.payload.get("outcome") != "refused"
              and last_grip_sample is not None):
            sent.append(last_grip_sample)
    received = [f for f in frames if f.action == "grip" and f.accepted]
    delays = []
    for sample, frame in zip(sent, received, strict=False):
        available = t_open + (sample + 1) / sfreq
        if available - t_open >= WARMUP_S:
            delays.append(frame.t - available)
    return delays


def bench_grip(seconds: float = 120.0) -> dict[str, Any]:
    """Run ``seconds`` of the default night at speed 1; return the delay percentiles (ms)."""
    cfg = load_config(None)
    with tempfile.TemporaryDirectory() as tmp:
        run = Run(cfg, duration=f"{seconds:g}s", speed="1", session_dir=Path(tmp) / "s")
        run.open()
        t_open = run.source.start_time
        hand_sims = [s for s in run.actuation.simulators if s.kind == "hand"]
        run.run()
        delays = grip_delays(run.session_dir, hand_sims[0].frames, t_open, run.source.sfreq)
    if not delays:
        raise RuntimeError("no grip command reached the hand: nothing to measure")
    ms = np.array(delays) * 1000.0
    return {"grip_delay_p50_ms": float(np.percentile(ms, 50)),
            "grip_delay_p95_ms": float(np.percentile(ms, 95)),
            "grip_delay_p99_ms": float(np.percentile(ms, 99)),
            "grip_delay_max_ms": float(ms.max()), "grip_commands": int(ms.size),
            "loop_period_ms": cfg.run.realtime_tick_s * 1000.0, "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    """Print the figures (JSON with ``--json``)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=120.0)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    result = bench_grip(args.seconds)
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:22s} {v:.1f}" if isinstance(v, float) else f"{k:22s} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
