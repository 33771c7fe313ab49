"""Assemble the enabled microstructure stages for a source, failing at start-up when they cannot run."""

from __future__ import annotations

from firmware_host.microstructure.slow_oscillations import (
    SlowOscillationConfig,
    SlowOscillationStage,
)
from firmware_host.microstructure.spindles import SpindleConfig, SpindleStage
from firmware_host.stages.base import Stage


def build_microstructure_stages(
    spindles: SpindleConfig,
    slow_oscillations: SlowOscillationConfig,
    sfreq: float,
    channel_names: tuple[str, ...],
    channel_types: tuple[str, ...],
) -> list[Stage]:
    """The enabled detectors (spindles, then slow oscillations), each checked on the layout.

    Raises
    ------
    UsageError
        An enabled detector cannot run on this source (no EEG channel, unknown channel name,
        band impossible at ``sfreq``, contradictory periods); the message names the section.
    """
    stages: list[Stage] = []
    if spindles.enabled:
        spindle_stage = SpindleStage(spindles)
        spindle_stage.check(sfreq, channel_names, channel_types)
        stages.append(spindle_stage)
    if slow_oscillations.enabled:
        so_stage = SlowOscillationStage(slow_oscillations)
        so_stage.check(sfreq, channel_names, channel_types)
        stages.append(so_stage)
    return stages
