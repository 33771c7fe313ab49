"""Band-limited model variants: the shipped variant is selected by the source rate.

Their training (input rate, model files) is tested in ``tests/lab/staging/test_training_lowrate.py``.
"""

from __future__ import annotations

from firmware_host.staging.config import StagerConfig
from firmware_host.staging.model import (
    DEFAULT_MODEL,
    LOWRATE_MODEL,
    load_model,
    shipped_model_for,
)
from firmware_host.staging.stager import build_stager


def test_slow_sources_get_the_band_limited_shipped_variant() -> None:
    assert LOWRATE_MODEL.is_file(), "stager_lowrate.json must be shipped"
    assert shipped_model_for(50.0) == LOWRATE_MODEL
    assert shipped_model_for(99.0) == LOWRATE_MODEL
    for fs in (100.0, 125.0, 250.0, 500.0):
        assert shipped_model_for(fs) == DEFAULT_MODEL
    low, full = load_model(LOWRATE_MODEL), load_model(DEFAULT_MODEL)
    assert low.input_sfreq == 50.0 and full.input_sfreq == 0.0
    assert low.features == full.features and low.sub_epoch_s == full.sub_epoch_s
    cfg = StagerConfig(eeg_channel="", model_path="")
    assert build_stager(cfg, 50.0, ["C3"], ["eeg"]).model.tag == low.tag
    assert build_stager(cfg, 250.0, ["C3"], ["eeg"]).model.tag == full.tag
    # an explicit model path is never swapped
    explicit = StagerConfig(eeg_channel="", model_path=str(DEFAULT_MODEL))
    assert build_stager(explicit, 50.0, ["C3"], ["eeg"]).model.tag == full.tag
