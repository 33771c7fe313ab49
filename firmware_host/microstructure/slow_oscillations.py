"""``SlowOscillationStage``: causal slow-oscillation detection and up-state prediction.

The EEG channel is band-passed causally (0.5–2 Hz Butterworth, order 1: a 2-pole band-pass
rings least and keeps the waveform's timing). A slow oscillation is a negative half-wave
whose minimum reaches ``-trough_uv`` and whose length lies between ``min_period_s / 2`` and
``max_period_s / 2`` (amplitude and duration criteria, Massimini et al. 2004), tracked by
:class:`dsp.halfwaves.StreamingHalfWaves`. The stage predicts when the oscillation reaches
``target_phase_deg`` (0° = up-state peak, ±180° = trough, -90° = rising zero crossing: the
convention of the Hilbert phase) and schedules a stimulus that much earlier than the
actuator's own latency.

Prediction methods (``method``):

* ``"phase"`` (default) — decided at the rising zero crossing (phase -90°): the period is
  twice the negative half-wave; the target lies ``(target + 90) / 360`` periods later;
* ``"delay"`` — decided the sample after the trough (phase ±180°), with the fixed
  ``nominal_period_s``: the target lies ``(target + 180) / 360`` nominal periods after the
  trough (delay-from-trough, Ngo et al. 2013 style).

Both subtract the causal filter's phase delay at the oscillation's frequency (computed from
the filter design, not fitted): the crossing or trough seen in the filtered signal lags (or
leads) the real one by that much. On DREAMS N3 the ``phase`` method hits the target more
tightly (see the README's events-eval figures).

Decision: ``Decision(kind="slow_oscillation", label="up_state")`` at the deciding sample,
with ``details`` trough sample and value, period, predicted up-state sample (phase 0),
target phase, stimulus sample (when to *command* the actuator), its delay after the decision
in seconds and ``on_time`` (the stimulus lies after the decision, so it can still be
delivered). Gaps and NaN/inf restart
the detector.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dsp.design import sos_response
from dsp.filters import StreamingFilter, design_bandpass
from dsp.halfwaves import HALF_WAVE_END, TROUGH, StreamingHalfWaves
from firmware_host.chunk import Chunk
from firmware_host.config.fields import setting
from firmware_host.decision import Decision
from firmware_host.errors import UsageError
from firmware_host.microstructure.channel import SingleChannelDetector, pick_channel
from firmware_host.stages.base import StageOutput

MODEL = "slow-oscillation-causal-1"
METHODS = ("phase", "delay")


@dataclass(frozen=True)
class SlowOscillationConfig:
    """``[slow_oscillations]``: causal slow-oscillation detector and up-state predictor."""

    enabled: bool = setting(
        False, doc="emit slow-oscillation decisions (needs an EEG channel)"
    )
    channel: str = setting("", doc="EEG channel name ('' = the first EEG channel)")
    low_hz: float = setting(0.5, min=0.1, max=1.0, doc="band low edge")
    high_hz: float = setting(2.0, min=1.0, max=4.0, doc="band high edge")
    filter_order: int = setting(1, min=1, max=4, doc="Butterworth order per band edge")
    trough_uv: float = setting(60.0, min=5.0, max=500.0, doc="trough at or below -this (µV, filtered)")
    min_period_s: float = setting(0.5, min=0.25, max=2.0, doc="shortest oscillation period")
    max_period_s: float = setting(2.0, min=0.5, max=5.0, doc="longest oscillation period")
    method: str = setting("phase", choices=METHODS, doc="up-state prediction method")
    nominal_period_s: float = setting(1.0, min=0.5, max=2.0, doc="period of the 'delay' method")
    target_phase_deg: float = setting(0.0, min=-180.0, max=180.0, doc="stimulus phase (0 = up-state)")
    actuator_latency_s: float = setting(0.0, min=0.0, max=1.0, doc="command-to-effect latency")


def phase_delay_s(sos: np.ndarray, freqs: np.ndarray, sfreq: float) -> np.ndarray:
    """Phase delay ``-angle(H(f)) / (2 pi f)`` in seconds of a causal filter at ``freqs``."""
    h = sos_response(sos, np.asarray(freqs, dtype=float), sfreq)
    return -np.angle(h) / (2.0 * np.pi * np.asarray(freqs, dtype=float))


class SlowOscillationStage(SingleChannelDetector):
    """Slow-oscillation decisions with a scheduled stimulus for one EEG channel.

    Parameters
    ----------
    config
        The ``[slow_oscillations]`` section.
    name
        Stage name shown in the journal.
    """

    section = "slow_oscillations"

    def __init__(
        self, config: SlowOscillationConfig | None = None, name: str = "slow_oscillations"
    ) -> None:
        self.config = config or SlowOscillationConfig()
        if self.config.max_period_s < self.config.min_period_s:
            raise UsageError(
                f"[slow_oscillations] max_period_s ({self.config.max_period_s}) must be >= "
                f"min_period_s ({self.config.min_period_s})"
            )
        super().__init__()
        self.name = name
        self._filter: StreamingFilter | None = None
        self._troughs: StreamingHalfWaves | None = None
        self._periods = np.empty(0)
        self._delays = np.empty(0)

    def reset(self) -> None:
        """Forget the filter state and any half-wave in progress."""
        if self._filter is not None and self._troughs is not None:
            self._filter.reset()
            self._troughs.reset()
        super().reset()

    def _build(self, fs: float, names: tuple[str, ...], types: tuple[str, ...]) -> None:
        cfg = self.config
        self._row = pick_channel(names, types, cfg.channel, "slow_oscillations")
        sos = design_bandpass(cfg.low_hz, cfg.high_hz, fs, cfg.filter_order)
        self._filter = StreamingFilter(sos, 1)
        h_min = max(1, int(np.floor(cfg.min_period_s * fs / 2.0)))
        h_max = max(h_min, int(np.ceil(cfg.max_period_s * fs / 2.0)))
        q_max = max(1, int(np.ceil(cfg.max_period_s * fs / 4.0)))
        self._troughs = StreamingHalfWaves(cfg.trough_uv, q_max, h_min, h_max)
        self._periods = np.linspace(cfg.min_period_s, cfg.max_period_s, 64)
        self._delays = phase_delay_s(sos, 1.0 / self._periods, fs)
        self._expected = None

    def update(self, chunk: Chunk) -> StageOutput:
        """Detect troughs in the chunk; return it unchanged with up-state decisions."""
        x = self._samples(chunk)
        if x is None:
            return StageOutput(chunk)
        if self._filter is None or self._troughs is None:  # pragma: no cover - set by _build
            raise RuntimeError("slow-oscillation detector not built")
        y = self._filter.process(x[None, :])[0]
        wanted = HALF_WAVE_END if self.config.method == "phase" else TROUGH
        reports = self._troughs.process(y)
        return StageOutput(
            chunk, [self._decision(r, chunk.sfreq) for r in reports if int(r[0]) == wanted]
        )

    def _decision(self, report: np.ndarray, sfreq: float) -> Decision:
        cfg = self.config
        _, zc, trough, value, at = report
        if cfg.method == "phase":  # anchor: the rising zero crossing (-90°) at ``at``
            period = float(np.clip(2.0 * (at - zc) / sfreq, cfg.min_period_s, cfg.max_period_s))
            anchor_deg = -90.0
        else:  # anchor: the trough (±180°)
            period = cfg.nominal_period_s
            anchor_deg = -180.0
        delay = float(np.interp(period, self._periods, self._delays))
        anchor = self._origin + (at if cfg.method == "phase" else trough) - delay * sfreq
        upstate = anchor - anchor_deg / 360.0 * period * sfreq
        target = anchor + (cfg.target_phase_deg - anchor_deg) / 360.0 * period * sfreq
        stimulus = int(round(target - cfg.actuator_latency_s * sfreq))
        at_abs = self._origin + int(at)
        details = {
            "trough_sample": self._origin + int(trough),
            "trough_uv": float(value),
            "period_s": period,
            "filter_delay_s": delay,
            "predicted_upstate_sample": int(round(upstate)),
            "target_phase_deg": cfg.target_phase_deg,
            "stimulus_sample": stimulus,
            "stimulus_delay_s": (stimulus - at_abs) / float(sfreq),
            "on_time": stimulus > at_abs,
            "method": cfg.method,
        }
        return Decision("slow_oscillation", at_abs, "up_state", {}, MODEL, details)
