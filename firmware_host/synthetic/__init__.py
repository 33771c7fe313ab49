"""The seeded synthetic night: stage-dependent PSG and forearm grip EMG with known truth."""

from firmware_host.synthetic.night import SyntheticNight
from firmware_host.synthetic.script import (
    calibration_script,
    default_gesture_script,
    scripted_hypnogram,
)
from firmware_host.synthetic.truth import (
    ArtefactEvent,
    GestureEvent,
    TransientEvent,
)

__all__ = [
    "ArtefactEvent",
    "GestureEvent",
    "SyntheticNight",
    "TransientEvent",
    "calibration_script",
    "default_gesture_script",
    "scripted_hypnogram",
]
