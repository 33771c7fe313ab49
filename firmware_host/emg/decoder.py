"""The live grip decoder stage: forearm EMG chunks in, ``grip`` decisions out.

Per window (default 120 ms every 20 ms): high-pass, features, classifier probabilities,
proportional force, then rejection / vote / onset hysteresis. A decision is emitted when
the intent changes, when a held grip's force moves by ``force_step`` (proportional
control), and otherwise every ``emit_every_s`` seconds, so an 8-hour night does not flood
the journal with 50 decisions per second.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from firmware_host.chunk import Chunk
from firmware_host.decision import Decision
from firmware_host.emg.config import EmgDecoderConfig
from firmware_host.emg.frontend import FeatureFrontEnd
from firmware_host.emg.model import EmgModel
from firmware_host.emg.postprocess import Intent, PostProcessor
from firmware_host.stages.base import StageOutput


class EmgDecoder:
    """Stage decoding grip intent and force from a chunk's forearm channels.

    Parameters
    ----------
    model
        The per-user model; its channels must all be in the chunks.
    cfg
        Post-processing and emission settings.
    channel_names
        Channel names of the chunks this stage will see.
    sfreq
        Sampling rate of the chunks; must equal the model's.
    """

    name = "emg"

    def __init__(
        self, model: EmgModel, cfg: EmgDecoderConfig, channel_names: Sequence[str], sfreq: float
    ) -> None:
        missing = [c for c in model.channel_names if c not in channel_names]
        if missing:
            raise ValueError(
                f"EMG model needs channels {missing} that the source does not have; "
                f"source channels: {list(channel_names)}"
            )
        if abs(float(sfreq) - model.sfreq) > 1e-6:
            raise ValueError(
                f"EMG model was trained at {model.sfreq} Hz but the source runs at {sfreq} Hz; "
                "recalibrate at the source rate"
            )
        self.model = model
        self.cfg = cfg
        self.rows = np.array([list(channel_names).index(c) for c in model.channel_names])
        self.n_channels_in = len(channel_names)
        self.frontend = FeatureFrontEnd(
            len(self.rows), model.sfreq, model.window, model.increment, model.highpass_hz,
            model.thresholds,
        )
        rest = "rest" if "rest" in model.classes else model.classes[0]
        self.post = PostProcessor(
            model.classes, rest, cfg.reject_below, cfg.vote, cfg.onset_on, cfg.onset_off, cfg.hold
        )
        self._emit_every = max(1, int(round(cfg.emit_every_s * model.sfreq)))
        self.compute_s = 0.0
        self.n_windows = 0
        self.reset()

    @property
    def delay_ms(self) -> float:
        """Controller delay: half window + half increment + vote wait (compute excluded)."""
        inc_ms = 1000.0 * self.model.increment / self.model.sfreq
        win_ms = 1000.0 * self.model.window / self.model.sfreq
        return win_ms / 2 + inc_ms / 2 + self.post.added_delay_windows * inc_ms

    @property
    def decision_us(self) -> float:
        """Mean compute per window (features + classifier + post-processing) so far."""
        return 1e6 * self.compute_s / max(self.n_windows, 1)

    def reset(self) -> None:
        """Forget the stream (after a gap): the front end restarts, the intent goes to rest."""
        self.frontend.reset()
        self.post.reset()
        self._origin: int | None = None  # absolute sample of the front end's stream sample 0
        self._expected: int | None = None
        self._last_label: str | None = None
        self._last_emit = -(10**18)
        self._last_force = 0.0

    def update(self, chunk: Chunk) -> StageOutput:
        """Decode the windows completed by ``chunk``; the chunk passes through unchanged."""
        if chunk.data.shape[0] != self.n_channels_in:
            raise ValueError(
                f"EMG decoder expects {self.n_channels_in} channels, chunk has "
                f"{chunk.data.shape[0]}"
            )
        if self._expected is not None and chunk.first_sample != self._expected:
            self.reset()  # a gap (or overlap): restart windows and intent cleanly
        if self._origin is None:
            self._origin = chunk.first_sample
        self._expected = chunk.end_sample
        x = chunk.data[self.rows]
        if not np.all(np.isfinite(x)):
            self.reset()  # bad samples: no decision from them; restart after
            return StageOutput(chunk, [])
        t0 = time.perf_counter()
        feats, ends = self.frontend.update(x)
        decisions: list[Decision] = []
        if feats.shape[0]:
            probs = self.model.predict_proba(feats)
            force = np.asarray(self.model.force(feats), dtype=np.float64)
            steps = self.post.update_many_fields(probs, force)
            rest = self.post.rest_label
            step_force = self.cfg.force_step
            last_sample = self._origin - 1
            for i, (fields, raw_f, end) in enumerate(
                zip(steps, force.tolist(), ends.tolist(), strict=True)
            ):
                label = fields[0]
                sample = last_sample + end
                f = raw_f if label != rest else 0.0
                changed = label != self._last_label
                moved = abs(f - self._last_force) >= step_force
                if changed or moved or sample - self._last_emit >= self._emit_every:
                    decisions.append(self._decision(sample, Intent(*fields), probs[i], raw_f))
                    self._last_label = label
                    self._last_emit = sample
                    self._last_force = f
        self.compute_s += time.perf_counter() - t0
        self.n_windows += int(feats.shape[0])
        return StageOutput(chunk, decisions)

    def _decision(self, sample: int, intent: Intent, probs: np.ndarray, force: float) -> Decision:
        return Decision(
            kind="grip",
            sample=sample,
            label=intent.label,
            probabilities={c: round(float(p), 4) for c, p in zip(self.model.classes, probs,
                                                                  strict=True)},
            model=self.model.tag,
            details={
                "force": round(force if intent.label != self.post.rest_label else 0.0, 4),
                "raw_force": round(force, 4),
                "rejected": bool(intent.rejected),
                "raw_label": intent.raw_label,
                "confidence": round(intent.confidence, 4),
                "active": bool(intent.active),
                "delay_ms": round(self.delay_ms, 1),
            },
        )


def build_emg_decoder(
    cfg: EmgDecoderConfig,
    sfreq: float,
    channel_names: Sequence[str],
    channel_types: Sequence[str],
    synthetic=None,
) -> EmgDecoder | None:
    """The grip decoder stage for a source's layout, or None when there is nothing to decode.

    Parameters
    ----------
    cfg
        ``[emg]`` section.
    sfreq, channel_names, channel_types
        The source's layout.
    synthetic
        The ``[source.synthetic]`` section when the source is the synthetic night. With
        ``model = "auto"`` and no model file, the decoder is then calibrated on the synthetic
        wearer's scripted calibration session (same seed = same subject, ~2 s of CPU).

    Returns
    -------
    EmgDecoder or None
        None when disabled, when the source has no ``forearm_emg`` channels, when
        ``model = ""``, or when ``model = "auto"`` finds neither a model file nor a synthetic
        source.

    Raises
    ------
    firmware_host.emg.model.ModelFileError
        A configured model file is missing, corrupt or of another format version.
    ValueError
        The model does not fit the source (channels, sampling rate).
    """
    from pathlib import Path

    from firmware_host.emg.calibrate import synthetic_calibration, train_from_recording
    from firmware_host.emg.model import load_model

    forearm = [n for n, t in zip(channel_names, channel_types, strict=True) if t == "forearm_emg"]
    if cfg.channels:
        forearm = [n for n in forearm if n in cfg.channels]
    if not cfg.enabled or not forearm or not cfg.model:
        return None
    if cfg.model != "auto":
        return EmgDecoder(load_model(cfg.model), cfg, channel_names, sfreq)
    if Path(cfg.model_file).is_file():
        return EmgDecoder(load_model(cfg.model_file), cfg, channel_names, sfreq)
    if synthetic is None:
        return None
    x, fs, names, prompts = synthetic_calibration(synthetic, cfg)
    model, _ = train_from_recording(x, fs, names, prompts, cfg, name="emg-lda-synthetic")
    return EmgDecoder(model, cfg, channel_names, sfreq)
