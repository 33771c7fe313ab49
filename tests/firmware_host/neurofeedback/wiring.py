"""Until the lead wires the stage into ``build_pipeline``: the one line it adds, as a patch.

:func:`with_neurofeedback` wraps ``build_pipeline`` so the neurofeedback stage is appended
(once: when the real wiring is in, the wrapper sees the stage and adds nothing), before the
display filters as the real wiring does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from firmware_host.errors import UsageError
from firmware_host.neurofeedback.stage import NeurofeedbackStage, build_neurofeedback_stage
from firmware_host.stages.filtering import FilterStage


def with_neurofeedback(build_pipeline: Callable[..., Any]) -> Callable[..., Any]:
    """``build_pipeline`` plus the neurofeedback stage (a bad protocol is a UsageError)."""

    def build(cfg: Any, source: Any) -> Any:
        pipeline = build_pipeline(cfg, source)
        if not any(isinstance(s, NeurofeedbackStage) for s in pipeline.stages):
            try:
                stage = build_neurofeedback_stage(cfg, source)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
            if stage is not None:  # before the display filters, which transform the chunk
                at = next((i for i, s in enumerate(pipeline.stages) if isinstance(s, FilterStage)),
                          len(pipeline.stages))
                pipeline.stages.insert(at, stage)
        return pipeline

    return build
