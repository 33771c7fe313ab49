"""``QualityStage``: per-second signal quality of every source, as decisions.

For every completed second (``window_s``) of the selected channels it emits one
``Decision(kind="quality", label="ok" | "bad")`` whose ``sample`` is the last sample of that
second and whose ``details`` hold, per channel, the flags (flat, clipped, line_noise,
artefact) and the numbers behind them (see :mod:`dsp.quality`).

Seconds are counted from the first sample after a (re)start; a gap (``first_sample`` jump)
drops the incomplete second and starts counting again at the new sample. A chunk with
NaN/inf is reported as one ``bad`` decision with ``details["non_finite"] = True`` and the
meter restarts after it. The chunk itself passes through unchanged. Place this stage before
the filters so it sees the raw signal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dsp.quality import QualityThresholds, StreamingQuality
from firmware_host.chunk import CHANNEL_TYPES, Chunk
from firmware_host.config.fields import setting
from firmware_host.decision import Decision
from firmware_host.stages.base import StageOutput

MODEL = "quality-1"
EMG_TYPES = ("emg", "forearm_emg")


@dataclass(frozen=True)
class QualityConfig:
    """``[quality]``: per-second signal-quality checks."""

    enabled: bool = setting(True, doc="emit per-second quality decisions")
    channel_types: tuple[str, ...] = setting(
        ("eeg", "eog", "emg", "forearm_emg"), choices=CHANNEL_TYPES, doc="channel types checked"
    )
    window_s: float = setting(
        0.5, min=0.25, max=10.0,
        doc="seconds per quality window (a flat or railing signal is seen within two windows)",
    )
    flat_std_uv: float = setting(0.5, min=0.001, max=100.0, doc="std below this = flat line")
    eeg_ptp_max_uv: float = setting(
        500.0, min=1.0, max=1e6, doc="peak-to-peak above this = artefact (EEG, EOG, misc)"
    )
    emg_ptp_max_uv: float = setting(
        5000.0, min=1.0, max=1e6, doc="peak-to-peak above this = artefact (chin, forearm EMG)"
    )
    rail_uv: float = setting(187500.0, min=1.0, max=1e7, doc="amplifier rail (Cyton ±187500 µV)")
    rail_margin: float = setting(0.01, min=0.0, max=0.5, doc="within this fraction of the rail")
    clip_min_fraction: float = setting(
        0.05, min=0.0, max=1.0, doc="fraction of railed/plateau samples that flags clipping"
    )
    line_freq_hz: float = setting(50.0, choices=(50.0, 60.0), doc="mains frequency")
    line_ratio_max: float = setting(
        0.3, min=0.0, max=1.0, doc="mains power / broadband power above this = line noise"
    )

    def thresholds(self, channel_types: tuple[str, ...]) -> QualityThresholds:
        """Thresholds for channels of the given types (per-channel artefact limits)."""
        ptp = tuple(
            self.emg_ptp_max_uv if t in EMG_TYPES else self.eeg_ptp_max_uv for t in channel_types
        )
        return QualityThresholds(
            flat_std_uv=self.flat_std_uv,
            ptp_max_uv=ptp,
            rail_uv=self.rail_uv,
            rail_margin=self.rail_margin,
            clip_min_fraction=self.clip_min_fraction,
            line_freq_hz=self.line_freq_hz,
            line_ratio_max=self.line_ratio_max,
        )


class QualityStage:
    """Per-second quality decisions for the configured channel types.

    Parameters
    ----------
    config
        The ``[quality]`` section.
    name
        Stage name shown in the journal.
    """

    def __init__(self, config: QualityConfig | None = None, name: str = "quality") -> None:
        self.config = config or QualityConfig()
        self.name = name
        self._layout: tuple[float, tuple[str, ...]] | None = None
        self._rows = np.empty(0, dtype=np.intp)
        self._names: tuple[str, ...] = ()
        self._meter: StreamingQuality | None = None
        self._origin = 0
        self._expected: int | None = None

    def reset(self) -> None:
        """Drop the incomplete second; counting restarts at the next chunk."""
        if self._meter is not None:
            self._meter.reset()
        self._expected = None

    def _build(self, chunk: Chunk) -> None:
        types = tuple(chunk.channel_types)
        rows = [i for i, t in enumerate(types) if t in self.config.channel_types]
        self._rows = np.array(rows, dtype=np.intp)
        self._names = tuple(chunk.channel_names[i] for i in rows)
        self._meter = None
        if rows:
            self._meter = StreamingQuality(
                chunk.sfreq,
                len(rows),
                self.config.thresholds(tuple(types[i] for i in rows)),
                self.config.window_s,
            )
        self._layout = (float(chunk.sfreq), types)
        self._expected = None

    def update(self, chunk: Chunk) -> StageOutput:
        """Measure the chunk; return it unchanged with the decisions of completed seconds."""
        if not self.config.enabled or chunk.n_samples == 0:
            return StageOutput(chunk)
        if (float(chunk.sfreq), tuple(chunk.channel_types)) != self._layout:
            self._build(chunk)
        if self._meter is None:
            return StageOutput(chunk)
        if self._expected is None or chunk.first_sample != self._expected:
            self._meter.reset()
            self._origin = chunk.first_sample
        self._expected = chunk.end_sample
        block = chunk.data[self._rows]
        finite = np.isfinite(block)
        if not finite.all():
            self._meter.reset()
            self._origin = chunk.end_sample
            bad = [self._names[i] for i in np.flatnonzero(~finite.all(axis=1))]
            details = {
                "start": chunk.first_sample,
                "window": chunk.n_samples,
                "non_finite": True,
                "bad_channels": bad,
                "channels": {},
            }
            decision = Decision("quality", chunk.end_sample - 1, "bad", {}, MODEL, details)
            return StageOutput(chunk, [decision])
        result = self._meter.process(block)
        decisions = []
        if result.n_windows:
            bad_any = result.bad.tolist()  # computed once per block, not per channel
        for w in range(result.n_windows):
            start = self._origin + int(result.start[w])
            channels = dict(zip(self._names, result.window_channels(w), strict=True))
            bad = [name for i, name in enumerate(self._names) if bad_any[i][w]]
            details = {
                "start": start,
                "window": result.window,
                "non_finite": False,
                "bad_channels": bad,
                "channels": channels,
            }
            label = "bad" if bad else "ok"
            decisions.append(
                Decision("quality", start + result.window - 1, label, {}, MODEL, details)
            )
        return StageOutput(chunk, decisions)
