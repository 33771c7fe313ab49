"""Neurofeedback feedback latency at speed 1: a sample's time stamp to its command past the safety layer.

Runs ``configs/neurofeedback.toml`` (its plan replaced by a 5-s baseline, then training) in
real time with :class:`firmware_host.neurofeedback.latency.FeedbackProbe` and prints the
delay statistics (ms). Until ``build_pipeline`` adds the neurofeedback stage itself, this script adds it the
way that wiring will (one stage appended when ``[neurofeedback] enabled``).

Usage::

    python tools/bench_neurofeedback.py --seconds 60 [--actuation dry|devices] [--json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from firmware_host.config import load_config
from firmware_host.neurofeedback.latency import measure_feedback_delay
from firmware_host.neurofeedback.stage import NeurofeedbackStage, build_neurofeedback_stage
from firmware_host.runtime import build
from firmware_host.stages.filtering import FilterStage

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "neurofeedback.toml"


def _ensure_stage() -> None:
    original = build.build_pipeline

    def build_pipeline(cfg: Any, source: Any) -> Any:
        pipeline = original(cfg, source)
        if not any(isinstance(s, NeurofeedbackStage) for s in pipeline.stages):
            stage = build_neurofeedback_stage(cfg, source)
            if stage is not None:  # before the display filters, which transform the chunk
                at = next((i for i, s in enumerate(pipeline.stages) if isinstance(s, FilterStage)),
                          len(pipeline.stages))
                pipeline.stages.insert(at, stage)
        return pipeline

    build.build_pipeline = build_pipeline


def main() -> None:
    """Parse arguments, run, print."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0, help="length of the real-time run")
    p.add_argument("--actuation", choices=("dry", "devices"), default="dry")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    _ensure_stage()
    stats = measure_feedback_delay(load_config(CONFIG), args.seconds, actuation=args.actuation)
    if args.json:
        print(json.dumps(stats))
    else:
        print(f"feedback delay over {stats['n']:.0f} training updates ({args.actuation}): "
              f"p50 {stats['p50_ms']:.0f} ms, p95 {stats['p95_ms']:.0f} ms, max {stats['max_ms']:.0f} ms")


if __name__ == "__main__":
    main()
