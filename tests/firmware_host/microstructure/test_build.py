"""build_microstructure_stages: only enabled detectors, checked against the source at start-up."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_host.chunk import Chunk
from firmware_host.errors import UsageError
from firmware_host.microstructure.build import build_microstructure_stages
from firmware_host.microstructure.slow_oscillations import (
    SlowOscillationConfig,
    SlowOscillationStage,
)
from firmware_host.microstructure.spindles import SpindleConfig, SpindleStage

SP_ON, SO_ON = SpindleConfig(enabled=True), SlowOscillationConfig(enabled=True)
EEG = (("C3", "chin"), ("eeg", "emg"))


def test_only_enabled_detectors_are_built() -> None:
    assert build_microstructure_stages(SpindleConfig(), SlowOscillationConfig(), 250.0, *EEG) == []
    stages = build_microstructure_stages(SP_ON, SO_ON, 250.0, *EEG)
    assert [type(s) for s in stages] == [SpindleStage, SlowOscillationStage]
    assert [s.name for s in stages] == ["spindles", "slow_oscillations"]


def test_disabled_stage_passes_the_chunk_without_decisions() -> None:
    chunk = Chunk(data=np.zeros((1, 100)), first_sample=0, sfreq=100.0, channel_names=("x",),
                  channel_types=("emg",), timestamps=np.arange(100) / 100.0)
    for stage in (SpindleStage(), SlowOscillationStage()):
        out = stage.update(chunk)
        assert out.chunk is chunk
        assert out.decisions == []


@pytest.mark.parametrize(("spindles", "so", "sfreq", "layout", "match"), [
    (SP_ON, SlowOscillationConfig(), 250.0, (("chin",), ("emg",)), r"\[spindles\] needs an EEG"),
    (SpindleConfig(), SO_ON, 250.0, (("chin",), ("emg",)), r"\[slow_oscillations\] needs an EEG"),
    (SP_ON, SlowOscillationConfig(), 25.0, EEG, r"\[spindles\] band-pass 11–16 Hz is impossible"),
    (SpindleConfig(), SO_ON, 3.0, EEG, r"\[slow_oscillations\] band-pass 0.5–2 Hz is impossible"),
])
def test_a_detector_that_cannot_run_fails_at_start_up(spindles: SpindleConfig,
                                                      so: SlowOscillationConfig, sfreq: float,
                                                      layout: tuple, match: str) -> None:
    with pytest.raises(UsageError, match=match):
        build_microstructure_stages(spindles, so, sfreq, *layout)
