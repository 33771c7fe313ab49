"""``[emg]``: the forearm-EMG grip decoder."""

from __future__ import annotations

from dataclasses import dataclass

from firmware_host.config.fields import setting


@dataclass(frozen=True)
class EmgDecoderConfig:
    """``[emg]``: grip decoding from the ``forearm_emg`` channels."""

    enabled: bool = setting(True, doc="decode grips when forearm channels and a model exist")
    model: str = setting(
        "auto",
        doc="model file from 'somnoloop calibrate-emg'; 'auto' = that file if it exists, else "
        "calibrate on the synthetic source's scripted calibration; '' = no decoder",
    )
    model_file: str = setting("emg_model.npz", doc="where calibrate-emg saves / 'auto' looks")
    channels: tuple[str, ...] = setting((), doc="forearm channels to use (all forearm_emg when empty)")
    window_ms: float = setting(
        120.0, min=50.0, max=500.0,
        doc="analysis window (calibration); 120 ms / 20 ms / vote 3 = 90 ms controller delay",
    )
    increment_ms: float = setting(20.0, min=5.0, max=250.0, doc="window step (calibration)")
    highpass_hz: float = setting(20.0, min=1.0, max=100.0, doc="high-pass before the features")
    reject_below: float = setting(0.6, min=0.0, max=1.0, doc="confidence below this is rejected")
    hold: str = setting("last", choices=("last", "rest"), doc="what a rejected window votes for")
    vote: int = setting(3, min=1, max=15, doc="majority vote over this many windows")
    onset_on: float = setting(0.08, min=0.0, max=1.0, doc="force that starts a contraction")
    onset_off: float = setting(0.04, min=0.0, max=1.0, doc="force below which it ends")
    emit_every_s: float = setting(1.0, min=0.05, max=60.0, doc="periodic decision besides changes")
    force_step: float = setting(
        0.1, min=0.01, max=1.0, doc="also emit when a held grip's force moved this much"
    )
    grips: tuple[str, ...] = setting(
        ("rest", "power", "open", "pinch", "tripod", "key", "point"),
        doc="grips prompted by calibrate-emg (must include rest)",
    )
    reps: int = setting(3, min=1, max=10, doc="calibration repetitions per grip")
    hold_s: float = setting(3.0, min=1.0, max=10.0, doc="seconds each calibration grip is held")
    rest_s: float = setting(3.0, min=0.5, max=10.0, doc="seconds of rest after each grip")

    def __post_init__(self) -> None:
        if self.onset_off > self.onset_on:
            raise ValueError(
                f"emg.onset_off ({self.onset_off}) must be <= emg.onset_on ({self.onset_on})"
            )
        if self.increment_ms > self.window_ms:
            raise ValueError(
                f"emg.increment_ms ({self.increment_ms}) must be <= emg.window_ms ({self.window_ms})"
            )
        if "rest" not in self.grips:
            raise ValueError(f"emg.grips must include 'rest', got {list(self.grips)}")
