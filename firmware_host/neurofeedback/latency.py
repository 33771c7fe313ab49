"""Feedback latency: from a sample's acquisition to its feedback command leaving the safety layer.

:func:`feedback_delay_p95_ms` runs a neurofeedback config at speed 1 for a short while with a
:class:`FeedbackProbe` attached. After every loop iteration the probe takes the stage's new
feedback decisions, maps them to commands (:class:`~.feedback.FeedbackChanges`), submits
them to the run's safety layer (dry actuation by default: the layer checks and journals,
no device moves) and records, per decision, the run clock's time minus the time stamp of
the sample the rewarded feature ended on. That delay holds the wait for the next loop tick,
the confirmation wait of the artefact gates (``gates.confirm_s``), the stage's processing
and the command path. ``somnoloop bench`` reports the 95th percentile.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from firmware_host.config import Config
from firmware_host.neurofeedback.display import find_stage
from firmware_host.neurofeedback.feedback import FeedbackChanges
from firmware_host.runtime.hooks import IterationInfo, RunObserver

#: Baseline of the latency run: enough for a first threshold (the first second is warm-up).
QUICK_BASELINE_S = 5.0


class FeedbackProbe(RunObserver):
    """Measures sample → command delays of the neurofeedback stage's decisions."""

    name = "feedback-probe"

    def __init__(self) -> None:
        self.delays_s: list[float] = []
        self._seen = 0
        self._changes: FeedbackChanges | None = None

    def on_iteration(self, run: Any, info: IterationInfo) -> None:
        """Map the new decisions to commands, submit them, record the delays."""
        stage = find_stage(run)
        if stage is None:
            raise RuntimeError("the neurofeedback stage is not in the run's pipeline "
                               "(is [neurofeedback] enabled and the stage wired into build_pipeline?)")
        if self._changes is None:
            self._changes = FeedbackChanges(stage.cfg.outputs)
        new = min(stage.n_updates - self._seen, len(stage.recent))
        self._seen = stage.n_updates
        for decision in list(stage.recent)[len(stage.recent) - new:]:
            for command in self._changes.update([decision]):
                run.actuation.safety.submit(command, run.clock.now())
            if decision.details["feedback"]:
                self.delays_s.append(run.clock.now() - decision.details["t"])


def quick_start(cfg: Config, duration_s: float) -> Config:
    """``cfg`` with neurofeedback on and the plan replaced by a 5-s baseline, then training."""
    nf = dataclasses.replace(cfg.neurofeedback, enabled=True,
                             blocks=(f"baseline {QUICK_BASELINE_S:g}s", f"training {duration_s:g}s"))
    return dataclasses.replace(cfg, neurofeedback=nf)


def measure_feedback_delay(cfg: Config, duration_s: float = 30.0, *, actuation: str = "dry",
                           session_dir: str | Path | None = None) -> dict[str, float]:
    """Run ``cfg`` at speed 1 for ``duration_s`` and return delay statistics in ms.

    The plan is replaced by :func:`quick_start` (only training updates carry feedback);
    feature, gates, threshold and outputs stay as configured.

    Returns
    -------
    dict
        ``n``, ``p50_ms``, ``p95_ms``, ``max_ms``.

    Raises
    ------
    RuntimeError
        No training update happened within the run.
    """
    from firmware_host.runtime.run import Run

    probe = FeedbackProbe()
    with tempfile.TemporaryDirectory() as tmp:
        run = Run(quick_start(cfg, duration_s), duration=f"{duration_s}s", speed="1", actuation=actuation,
                  session_dir=session_dir or Path(tmp) / "latency", observers=[probe])
        run.run()
    if not probe.delays_s:
        raise RuntimeError(f"no training update within {duration_s:g} s: shorten the baseline "
                           "or run longer")
    ms = 1000.0 * np.asarray(probe.delays_s)
    return {"n": float(ms.size), "p50_ms": float(np.percentile(ms, 50)),
            "p95_ms": float(np.percentile(ms, 95)), "max_ms": float(ms.max())}


def feedback_delay_p95_ms(cfg: Config, duration_s: float = 30.0) -> float:
    """95th percentile of the sample → feedback-command delay at speed 1, in ms."""
    return measure_feedback_delay(cfg, duration_s)["p95_ms"]
