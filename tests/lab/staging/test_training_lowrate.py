"""Band-limited model variants: training at a lower input rate, naming, model files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from firmware_host.staging.model import (
    DEFAULT_MODEL,
    LOWRATE_MODEL,
    ModelFormatError,
    load_model,
    save_model,
)
from somnoloop_lab.staging.datasets import Recording
from somnoloop_lab.staging.training import band_limited, input_sfreq_for, train_model


def _two_stage_recording(sfreq: float, seed: int = 5) -> Recording:
    """Alternating 30-s epochs: 'W' = 10 Hz alpha + 35 Hz muscle, 'N3' = 1 Hz slow waves."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(30 * sfreq)) / sfreq
    stages = ["W", "N3"] * 4
    parts = []
    for s in stages:
        noise = 3 * rng.standard_normal(t.size)
        if s == "W":
            hf = 4 * np.sin(2 * np.pi * 35.0 * t) if sfreq > 80 else 0.0
            parts.append(10 * np.sin(2 * np.pi * 10.0 * t) + hf + noise)
        else:
            parts.append(40 * np.sin(2 * np.pi * 1.0 * t) + noise)
    return Recording(f"syn-{sfreq:g}", np.concatenate(parts)[None, :], sfreq, ("C4",), ("eeg",),
                     stages)


def test_band_limited_removes_what_a_slow_recording_cannot_hold() -> None:
    rec = _two_stage_recording(200.0)
    low = band_limited(rec, 50.0)
    assert low.sfreq == 50.0 and low.stages == rec.stages
    assert low.data.shape == (1, rec.data.shape[1] // 4)
    # 10 Hz alpha survives; 35 Hz is above the new Nyquist and must be filtered out, not
    # folded onto its 15-Hz alias
    spec_lo = np.abs(np.fft.rfft(low.data[0, 100:1500]))
    f_lo = np.fft.rfftfreq(1400, 1 / 50.0)
    floor = np.median(spec_lo)
    assert spec_lo[np.argmin(abs(f_lo - 10.0))] > 50 * floor
    assert spec_lo[np.argmin(abs(f_lo - 15.0))] < 5 * floor
    # slower or equal recordings, and input_sfreq 0, are left alone
    assert band_limited(_two_stage_recording(50.0), 50.0).sfreq == 50.0
    assert band_limited(rec, 0.0) is rec


def test_band_limited_variant_is_named_stored_and_reloaded(tmp_path) -> None:  # noqa: ANN001
    recs = [_two_stage_recording(200.0, 1), _two_stage_recording(100.0, 2)]
    m = train_model(recs, C=1.0, input_sfreq=50.0)
    assert m.input_sfreq == 50.0 and m.name.endswith("-50hz")
    full = train_model(recs, C=1.0)
    assert full.input_sfreq == 0.0 and not full.name.endswith("hz")
    p = tmp_path / "m.json"
    save_model(m, p)
    back = load_model(p)
    assert back.input_sfreq == 50.0 and back.tag == m.tag
    # a format-2 file (no input_sfreq) still loads, as "trained at the recorded rates"
    doc = json.loads(p.read_text())
    doc["format_version"] = 2
    del doc["input_sfreq"]
    p.write_text(json.dumps(doc))
    assert load_model(p).input_sfreq == 0.0
    doc["input_sfreq"] = 10.0
    p.write_text(json.dumps(doc))
    with pytest.raises(ModelFormatError, match="input_sfreq 10.0 must be 0"):
        load_model(p)



def test_input_rate_of_the_shipped_variants() -> None:
    assert input_sfreq_for(50.0) == 50.0 and input_sfreq_for(250.0) == 0.0
    assert load_model(LOWRATE_MODEL).input_sfreq == input_sfreq_for(50.0)
    assert load_model(DEFAULT_MODEL).input_sfreq == input_sfreq_for(250.0)
