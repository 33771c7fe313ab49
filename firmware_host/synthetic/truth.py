"""What a synthetic night knows about itself: stage, gesture, artefact and transient labels."""

from __future__ import annotations

from dataclasses import dataclass

from firmware_host.vocabulary import GRIP_INTENTS


@dataclass(frozen=True)
class GestureEvent:
    """One held grip in the forearm EMG script.

    Parameters
    ----------
    start_sample, stop_sample
        Half-open sample range ``[start, stop)`` of the gesture, ramps included.
    grip
        One of :data:`GRIP_INTENTS`.
    force
        Relative contraction strength, 0..1 (``rest`` has no activation whatever the force).
    """

    start_sample: int
    stop_sample: int
    grip: str
    force: float

    def __post_init__(self) -> None:
        if self.grip not in GRIP_INTENTS:
            raise ValueError(f"unknown grip {self.grip!r}; allowed: {list(GRIP_INTENTS)}")
        if not 0.0 <= self.force <= 1.0:
            raise ValueError(f"gesture force must be in [0, 1], got {self.force}")
        if not 0 <= self.start_sample < self.stop_sample:
            raise ValueError(
                f"gesture needs 0 <= start_sample < stop_sample, got "
                f"[{self.start_sample}, {self.stop_sample})"
            )


@dataclass(frozen=True)
class ArtefactEvent:
    """One inserted artefact: ``movement``, ``electrode_pop`` or ``flat_line``.

    Parameters
    ----------
    start_sample, stop_sample
        Half-open sample range affected.
    kind
        Artefact kind.
    channels
        Names of the channels it touches.
    """

    start_sample: int
    stop_sample: int
    kind: str
    channels: tuple[str, ...]


@dataclass(frozen=True)
class TransientEvent:
    """A physiological graphoelement the generator placed (spindle, K-complex, REM, blink...).

    Parameters
    ----------
    start_sample, stop_sample
        Half-open sample range of the waveform.
    kind
        ``spindle``, ``k_complex``, ``vertex_wave``, ``sawtooth``, ``blink``, ``saccade``,
        ``rapid_eye_movement``, ``slow_eye_movement`` or ``twitch``.
    channels
        Names of the channels it appears on.
    """

    start_sample: int
    stop_sample: int
    kind: str
    channels: tuple[str, ...]
