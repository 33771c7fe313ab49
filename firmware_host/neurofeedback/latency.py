"""Feedback latency: from a sample's acquisition to its feedback command past the safety layer.

:func:`feedback_delay_p95_ms` runs a neurofeedback config at speed 1 for a short while with a
:class:`FeedbackProbe` attached. The loop hands each iteration's decisions to the programme
(whose rules on ``details.reward`` drive the vibration, see ``configs/neurofeedback.toml``)
and the safety layer *before* it calls ``on_iteration``; there the probe records, for every
new training update, the run clock's time minus the time stamp of the sample its feature
ended on. That delay holds the wait for the samples (the loop tick), the confirmation wait
of the artefact gates (``gates.confirm_s``), the stage's processing and the command path.
``somnoloop bench`` reports the 95th percentile.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from firmware_host.config import Config
from firmware_host.neurofeedback.display import find_stage
from firmware_host.runtime.hooks import IterationInfo, RunObserver

#: Baseline of the latency run: enough for a first threshold (the first second is warm-up).
QUICK_BASELINE_S = 5.0


class FeedbackProbe(RunObserver):
    """Measures sample → output delays of the neurofeedback stage's training updates."""

    name = "feedback-probe"

    def __init__(self) -> None:
        self.delays_s: list[float] = []
        #: Set when the run has no neurofeedback stage (nothing to measure).
        self.missing_stage = False
        self._seen = 0

    def on_iteration(self, run: Any, info: IterationInfo) -> None:
        """Record the delay of every new training update (its commands were already sent)."""
        stage = find_stage(run)
        if stage is None:
            self.missing_stage = True
            return
        new = min(stage.n_updates - self._seen, len(stage.recent))
        self._seen = stage.n_updates
        now = run.clock.now()
        for decision in list(stage.recent)[len(stage.recent) - new:]:
            if decision.details["feedback"]:
                self.delays_s.append(now - decision.details["t"])


def quick_start(cfg: Config, duration_s: float) -> Config:
    """``cfg`` with neurofeedback on and the plan replaced by a 5-s baseline, then training."""
    nf = dataclasses.replace(cfg.neurofeedback, enabled=True,
                             blocks=(f"baseline {QUICK_BASELINE_S:g}s", f"training {duration_s:g}s"))
    return dataclasses.replace(cfg, neurofeedback=nf)


def measure_feedback_delay(cfg: Config, duration_s: float = 30.0, *, actuation: str = "dry",
                           session_dir: str | Path | None = None) -> dict[str, float]:
    """Run ``cfg`` at speed 1 for ``duration_s`` and return delay statistics in ms.

    The plan is replaced by :func:`quick_start` (only training updates carry feedback);
    feature, gates and threshold stay as configured.

    Returns
    -------
    dict
        ``n``, ``p50_ms``, ``p95_ms``, ``max_ms``.

    Raises
    ------
    RuntimeError
        The pipeline has no neurofeedback stage, or no training update happened.
    """
    from firmware_host.runtime.run import Run

    probe = FeedbackProbe()
    with tempfile.TemporaryDirectory() as tmp:
        run = Run(quick_start(cfg, duration_s), duration=f"{duration_s}s", speed="1", actuation=actuation,
                  session_dir=session_dir or Path(tmp) / "latency", observers=[probe])
        run.run()
    if probe.missing_stage:
        raise RuntimeError("the neurofeedback stage is not in the run's pipeline "
                           "(is it wired into build_pipeline?)")
    if not probe.delays_s:
        raise RuntimeError(f"no training update within {duration_s:g} s: shorten the baseline "
                           "or run longer")
    ms = 1000.0 * np.asarray(probe.delays_s)
    return {"n": float(ms.size), "p50_ms": float(np.percentile(ms, 50)),
            "p95_ms": float(np.percentile(ms, 95)), "max_ms": float(ms.max())}


def feedback_delay_p95_ms(cfg: Config, duration_s: float = 30.0) -> float:
    """95th percentile of the sample → feedback-command delay at speed 1, in ms."""
    return measure_feedback_delay(cfg, duration_s)["p95_ms"]
