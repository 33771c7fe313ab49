"""``SpindleStage``: causal sleep-spindle detection on one EEG channel.

The three criteria of YASA's ``spindles_detect`` (after Lacourse et al. 2019, A7), made
causal: every quantity uses only the past.

* **relative sigma power**: mean square of the 11–16 Hz band (causal Butterworth) over the
  last ``window_s`` divided by that of the 1–30 Hz band (capped below Nyquist);
* **sigma correlation**: correlation of the two bands over the same trailing window;
* **sigma RMS z-score**: ``log10`` of the sigma mean square against its own trailing
  ``baseline_s`` mean and standard deviation (YASA uses the whole recording instead).

A sample is *active* when at least ``min_criteria`` of the three hold (and a whole baseline
window has been seen). Runs of active samples (gaps up to ``merge_gap_s`` bridged) are
tracked by :class:`dsp.bursts.StreamingBursts`: a run lasting ``confirm_s`` yields the
decision ``Decision(kind="spindle", label="onset")`` at once — what a stimulation rule acts
on — and its end yields ``label="end"`` with the duration and whether it lies in
``[min_duration_s, max_duration_s]`` (``details["valid"]``). Onset, end and detection samples
are absolute; ``details["latency_s"]`` is onset → detection.

A gap (``first_sample`` jump) or a chunk with NaN/inf restarts the detector (filters,
windows, baseline and any run in progress).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dsp.bursts import BURST_DETECTED, StreamingBursts
from dsp.filters import StreamingFilter, design_bandpass
from dsp.moving_mean import StreamingMovingMean
from firmware_host.chunk import Chunk
from firmware_host.config.fields import setting
from firmware_host.decision import Decision
from firmware_host.microstructure.channel import SingleChannelDetector, pick_channel
from firmware_host.stages.base import StageOutput

MODEL = "spindle-causal-1"
#: Mean squares below this (µV²) count as silence (keeps the log and the ratios finite).
POWER_FLOOR = 1e-9


@dataclass(frozen=True)
class SpindleConfig:
    """``[spindles]``: causal sleep-spindle detector."""

    enabled: bool = setting(False, doc="emit spindle decisions (needs an EEG channel)")
    channel: str = setting("", doc="EEG channel name ('' = the first EEG channel)")
    sigma_low_hz: float = setting(11.0, min=8.0, max=14.0, doc="sigma band low edge")
    sigma_high_hz: float = setting(16.0, min=12.0, max=20.0, doc="sigma band high edge")
    broad_low_hz: float = setting(1.0, min=0.1, max=5.0, doc="broadband low edge")
    broad_high_hz: float = setting(
        30.0, min=20.0, max=45.0, doc="broadband high edge (capped at 0.45 fs)"
    )
    filter_order: int = setting(2, min=1, max=6, doc="Butterworth order per band edge")
    window_s: float = setting(
        0.2, min=0.1, max=2.0, doc="trailing window of power and correlation (A7: 0.3)"
    )
    baseline_s: float = setting(30.0, min=5.0, max=600.0, doc="trailing baseline of the RMS z-score")
    rel_power_min: float = setting(0.2, min=0.0, max=1.0, doc="relative sigma power threshold")
    correlation_min: float = setting(0.65, min=0.0, max=1.0, doc="sigma correlation threshold")
    rms_z_min: float = setting(1.5, min=0.0, max=10.0, doc="sigma RMS z-score threshold")
    min_criteria: int = setting(2, choices=(1, 2, 3), doc="criteria that must hold together")
    confirm_s: float = setting(0.1, min=0.02, max=1.0, doc="run length that confirms a spindle")
    merge_gap_s: float = setting(0.1, min=0.0, max=0.5, doc="inactive time bridged inside a run")
    min_duration_s: float = setting(0.5, min=0.1, max=3.0, doc="shortest valid spindle")
    max_duration_s: float = setting(2.0, min=0.5, max=5.0, doc="longest valid spindle")


class SpindleCriteria:
    """The three per-sample criteria values, streamed (causal, chunking-invariant).

    Parameters
    ----------
    config
        The ``[spindles]`` section.
    sfreq
        Sampling rate in Hz.

    Raises
    ------
    ValueError
        A band impossible at ``sfreq`` (band, fs and Nyquist named).
    """

    def __init__(self, config: SpindleConfig, sfreq: float) -> None:
        self.config = config
        self.sfreq = float(sfreq)
        high = min(config.broad_high_hz, 0.45 * self.sfreq)
        self._sigma = StreamingFilter(
            design_bandpass(config.sigma_low_hz, config.sigma_high_hz, sfreq, config.filter_order), 1
        )
        self._broad = StreamingFilter(
            design_bandpass(config.broad_low_hz, high, sfreq, config.filter_order), 1
        )
        n_win = max(1, round(config.window_s * self.sfreq))
        self.n_baseline = max(1, round(config.baseline_s * self.sfreq))
        self._power = StreamingMovingMean(n_win, 2, square=True)
        self._cov = StreamingMovingMean(n_win, 1)
        self._base = StreamingMovingMean(self.n_baseline, 2)

    def reset(self) -> None:
        """Forget filters, windows and baseline."""
        for part in (self._sigma, self._broad, self._power, self._cov, self._base):
            part.reset()

    def process(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Criteria of every sample of the 1-D block ``x``.

        Returns
        -------
        dict
            ``sigma`` (band-passed signal), ``rel_power``, ``correlation``, ``rms_z``.
        """
        row = np.ascontiguousarray(x, dtype=np.float64)[None, :]
        sigma = self._sigma.process(row)
        broad = self._broad.process(row)
        power = self._power.process(np.concatenate([sigma, broad]))
        ps = np.maximum(power[0], POWER_FLOOR)
        pb = np.maximum(power[1], POWER_FLOOR)
        cov = self._cov.process(sigma * broad)[0]
        log_p = np.log10(ps)
        base = self._base.process(np.stack([log_p, log_p * log_p]))
        sd = np.sqrt(np.maximum(base[1] - base[0] ** 2, 1e-12))
        return {
            "sigma": sigma[0],
            "rel_power": ps / pb,
            "correlation": cov / np.sqrt(ps * pb),
            "rms_z": (log_p - base[0]) / sd,
        }

    def active(self, crit: dict[str, np.ndarray]) -> np.ndarray:
        """Whether at least ``min_criteria`` of the three criteria hold at every sample."""
        cfg = self.config
        count = (
            (crit["rel_power"] >= cfg.rel_power_min).astype(np.int64)
            + (crit["correlation"] >= cfg.correlation_min)
            + (crit["rms_z"] >= cfg.rms_z_min)
        )
        return count >= cfg.min_criteria


class SpindleStage(SingleChannelDetector):
    """Causal spindle decisions for one EEG channel.

    Parameters
    ----------
    config
        The ``[spindles]`` section.
    name
        Stage name shown in the journal.
    """

    section = "spindles"

    def __init__(self, config: SpindleConfig | None = None, name: str = "spindles") -> None:
        super().__init__()
        self.config = config or SpindleConfig()
        self.name = name
        self._criteria: SpindleCriteria | None = None
        self._bursts: StreamingBursts | None = None
        self._seen = 0

    def reset(self) -> None:
        """Forget everything; the next chunk starts a new stream (and a new baseline)."""
        if self._criteria is not None and self._bursts is not None:
            self._criteria.reset()
            self._bursts.reset()
        self._seen = 0
        super().reset()

    def _build(self, fs: float, names: tuple[str, ...], types: tuple[str, ...]) -> None:
        cfg = self.config
        self._row = pick_channel(names, types, cfg.channel, "spindles")
        self._criteria = SpindleCriteria(cfg, fs)
        self._bursts = StreamingBursts(
            max(1, round(cfg.confirm_s * fs)), round(cfg.merge_gap_s * fs)
        )
        self._expected = None

    def update(self, chunk: Chunk) -> StageOutput:
        """Detect in the chunk; return it unchanged with onset/end decisions."""
        x = self._samples(chunk)
        if x is None:
            return StageOutput(chunk)
        if self._criteria is None or self._bursts is None:  # pragma: no cover - set by _build
            raise RuntimeError("spindle detector not built")
        crit = self._criteria.process(x)
        active = self._criteria.active(crit)
        warm = self._seen + np.arange(x.shape[0]) >= self._criteria.n_baseline
        self._seen += x.shape[0]
        reports = self._bursts.process(active & warm, crit["sigma"])
        return StageOutput(chunk, [self._decision(r, chunk.sfreq) for r in reports])

    def _decision(self, report: np.ndarray, sfreq: float) -> Decision:
        kind, onset, at, end, ptp, crossings = report
        onset_abs = self._origin + int(onset)
        at_abs = self._origin + int(at)
        details: dict[str, object] = {"onset_sample": onset_abs, "amplitude_uv": float(ptp)}
        if int(kind) == BURST_DETECTED:
            details["latency_s"] = float((at - onset) / sfreq)
            details["frequency_hz"] = float(crossings / (2.0 * (at - onset + 1) / sfreq))
            return Decision("spindle", at_abs, "onset", {}, MODEL, details)
        duration = float((end - onset + 1) / sfreq)
        details.update(
            end_sample=self._origin + int(end),
            duration_s=duration,
            frequency_hz=float(crossings / (2.0 * duration)),
            valid=bool(self.config.min_duration_s <= duration <= self.config.max_duration_s),
        )
        return Decision("spindle", at_abs, "end", {}, MODEL, details)
