"""The real-time sleep stager: a causal pipeline :class:`~firmware_host.runtime.pipeline.Stage`.

Per 30-s epoch (aligned to the first sample the stager saw): resample the configured EEG
(and EOG / chin EMG when the model uses them) causally to the staging rate, check signal
quality (flat / artefact seconds → ``"unscorable"``), compute :mod:`dsp.spectral` features of
that epoch only, score them with the model's logistic regression and filter the posteriors
with a causal HMM forward pass. Nothing looks ahead: a decision for epoch ``k`` uses samples
up to the end of epoch ``k`` and the filtered state of epochs ``< k``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dsp.hmm import forward_step, validate_transition
from dsp.linear import softmax_linear
from dsp.resample import StreamingResampler
from dsp.sample_store import SampleStore
from dsp.spectral import epoch_features
from firmware_host.chunk import Chunk
from firmware_host.decision import Decision
from firmware_host.stages.base import StageOutput
from firmware_host.staging.config import StagerConfig
from firmware_host.staging.model import (
    StagerModel,
    hmm_view,
    load_model,
    pool_sub_epochs,
    shipped_model_for,
)
from firmware_host.staging.onset_gate import SleepOnsetGate
from firmware_host.staging.yasa_expert import ExpertSpec, YasaExpert, pool_with_expert
from firmware_host.vocabulary import STAGES

UNSCORABLE = "unscorable"


def effective_transition(model: StagerModel, cfg: StagerConfig) -> np.ndarray:
    """``w * T + (1 - w) * [prior; prior; …]`` with ``w = cfg.hmm_transition_weight``."""
    t = validate_transition(model.transition)
    w = cfg.hmm_transition_weight
    if w >= 1.0:
        return t
    prior = model.prior / model.prior.sum()
    return w * t + (1.0 - w) * np.tile(prior, (t.shape[0], 1))


def tempered(post: np.ndarray, prior: np.ndarray, cfg: StagerConfig) -> np.ndarray:
    """Posterior whose evidence ``post / prior`` is raised to ``cfg.hmm_evidence_weight``.

    Works row-wise on ``(n, k)`` too. Weight 1 returns ``post`` unchanged.
    """
    g = cfg.hmm_evidence_weight
    if g >= 1.0:
        return post
    q = (np.maximum(post, 1e-300) / prior) ** g * prior
    return q / q.sum(axis=-1, keepdims=True)


class SleepStager:
    """Causal epoch-by-epoch sleep stager (a pipeline ``Stage``).

    Parameters
    ----------
    cfg
        The ``[stager]`` section.
    model
        A loaded :class:`StagerModel`.
    sfreq
        Input sampling rate (Hz).
    rows
        ``{role: row index in the chunk}`` for ``eeg`` and optionally ``eog``/``emg``.
    """

    name = "stager"

    def __init__(self, cfg: StagerConfig, model: StagerModel, sfreq: float,
                 rows: dict[str, int]) -> None:
        missing = [r for r in model.roles if r not in rows]
        if missing:
            raise ValueError(
                f"stager model {model.tag} needs channel roles {model.roles}; "
                f"not configured: {missing} (set stager.eog_channel / stager.emg_channel)"
            )
        self.cfg = cfg
        self.model = model
        self.sfreq = float(sfreq)
        self.roles = model.roles
        self.rows = [rows[r] for r in self.roles]
        self._cols = [model.column_index(r) for r in self.roles]
        self.expert: YasaExpert | None = None
        if model.expert and cfg.expert:
            self.expert = YasaExpert(ExpertSpec.from_json(model.expert), list(rows), model.sfreq)
        self.model = model = hmm_view(model, self.expert is not None)
        # input rows the resampler handles: ours first (EEG at 0), then the expert's extra ones
        xrows = [rows[r] for r in self.expert.roles] if self.expert else []
        self._in_rows = self.rows + [r for r in xrows if r not in self.rows]
        self._x_pos = [self._in_rows.index(r) for r in xrows]
        self.trans = effective_transition(model, cfg)
        self.gate = onset_gate_for(model, cfg)
        self.n_epoch = int(round(model.epoch_s * model.sfreq))
        self._prov_step = (int(round(cfg.provisional_s * model.sfreq))
                           if cfg.provisional_s > 0 else 0)
        self.reset()

    # -- Stage protocol -------------------------------------------------------------------
    def reset(self) -> None:
        """Forget all state: next chunk starts a new epoch grid, a fresh HMM and context."""
        self._reset_stream()
        self._alpha = self.model.prior / self.model.prior.sum()
        self._epoch_offset = 0
        self.history: list[str] = []
        if self.expert is not None:
            self.expert.reset()
        if self.gate is not None:
            self.gate.reset()

    def _reset_stream(self) -> None:
        """Restart resampling, filtering and the epoch grid (the night's state is kept)."""
        if self.expert is not None:
            self.expert.reset_filter()
        self._res = StreamingResampler(self.sfreq, self.model.sfreq, len(self._in_rows))
        self._origin: int | None = None  # absolute input sample of epoch 0
        self._expected: int | None = None
        # Resampled samples by resampled index since origin; rows: the resampled inputs, then
        # the expert's band-passed rows. Samples before the last scored epoch are released.
        self._store = SampleStore(len(self._in_rows) + len(self._x_pos), 3 * self.n_epoch + 1024)
        self._epoch = 0  # next epoch to complete (global index since origin)
        self._next_prov = self._prov_step

    def update(self, chunk: Chunk) -> StageOutput:
        """Consume one chunk; return decisions for every epoch completed by it."""
        if chunk.n_samples == 0:
            return StageOutput(chunk, [])
        if abs(chunk.sfreq - self.sfreq) > 1e-9:
            raise ValueError(f"stager built for {self.sfreq} Hz, chunk has {chunk.sfreq} Hz")
        data = chunk.data
        first = chunk.first_sample
        if self._expected is not None and first != self._expected:
            self._restart_after_gap(first)
        if self._origin is None:
            self._origin = first
        skip = max(self._origin - first, 0)  # samples before the (re)aligned epoch grid
        self._expected = chunk.end_sample
        if skip >= chunk.n_samples:
            return StageOutput(chunk, [])
        x = np.asarray(data[self._in_rows, skip:], dtype=np.float64)
        if not np.all(np.isfinite(x)):
            x = np.where(np.isfinite(x), x, 0.0)
        self._append(self._res.process(x))
        decisions: list[Decision] = []
        n = self.n_epoch
        while True:
            avail = self._store.end  # resampled samples since origin
            ep_end = (self._epoch + 1) * n
            t = self._next_prov if self._prov_step else None
            if t is not None and (t < n or t % n == 0):
                self._next_prov += self._prov_step  # no full window yet / an epoch end
                continue
            if t is not None and t < ep_end:
                if t > avail:
                    break
                decisions.append(self._provisional(t))
                self._next_prov += self._prov_step
                continue
            if ep_end > avail:
                break
            decisions.append(self._score_epoch(self._store.window(ep_end - n, ep_end)))
            self._epoch += 1
            # keep the scored epoch as history for the next provisional windows
            self._store.release(ep_end - n)
        return StageOutput(chunk, decisions)

    # -- internals ------------------------------------------------------------------------
    def _append(self, y: np.ndarray) -> None:
        """Append resampled samples ``y`` (rows, m) and the expert's band-passed rows."""
        if self.expert is not None:
            y = np.vstack([y, self.expert.filter(y[self._x_pos])])
        self._store.append(y)

    def _restart_after_gap(self, first: int) -> None:
        """Samples were lost: drop the partial epoch, realign to the epoch grid after ``first``."""
        if self._origin is None:  # nothing seen yet: the new chunk simply starts the grid
            return
        per_epoch_in = self.model.epoch_s * self.sfreq
        k = int(np.ceil((first - self._origin) / per_epoch_in))
        new_origin = self._origin + int(round(k * per_epoch_in))
        self._reset_stream()
        self._origin = new_origin
        self._epoch_offset += k  # epoch numbering continues on the original grid

    def _epoch_number(self) -> int:
        return self._epoch + self._epoch_offset

    def _last_input_sample(self, resampled_index: int) -> int:
        """Absolute input sample index of the last input used by resampled sample ``i``."""
        origin = self._origin if self._origin is not None else 0
        return origin + (resampled_index * self._res.down) // self._res.up

    def _quality(self, seg: np.ndarray) -> tuple[bool, dict[str, float]]:
        """Flat / artefact seconds of the EEG row; ``True`` when the epoch is scorable."""
        fs = int(round(self.model.sfreq))
        eeg = seg[0]
        n_sec = eeg.size // fs
        w = eeg[: n_sec * fs].reshape(n_sec, fs)
        flat = w.std(axis=1) < self.cfg.flat_uv
        art = (w.max(axis=1) - w.min(axis=1)) > self.cfg.artefact_uv
        bad = float(np.mean(flat | art))
        q = {"flat_fraction": float(flat.mean()), "artefact_fraction": float(art.mean()),
             "bad_fraction": bad}
        return bad <= self.cfg.max_bad_fraction, q

    def _posterior(self, seg: np.ndarray, commit: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Posterior of one epoch: ours (pooled over its windows for a sub-epoch model),
        combined with the expert's when there is one; returns ``(posterior, ours)``."""
        ours = self._our_posterior(seg)
        if self.expert is None:
            return ours, ours
        n_in = len(self._in_rows)
        theirs = self.expert.posterior(seg[n_in:], self._epoch_number(), commit)
        post = pool_with_expert(ours, theirs, self.expert.spec.weight,
                                self.model.meta.get("absent_classes", []))
        return post, ours

    def _our_posterior(self, seg: np.ndarray) -> np.ndarray:
        """Our classifier's posterior of one epoch."""
        m = self.model
        n_sub = m.n_sub
        w = seg.shape[1] // n_sub
        rows = np.empty((n_sub, m.mean.size))
        for j in range(n_sub):
            part = seg[:, j * w : (j + 1) * w]
            rows[j] = np.concatenate([epoch_features(part[i], m.sfreq)[c]
                                      for i, c in enumerate(self._cols)])
        post = softmax_linear(rows, m.mean, m.scale, m.coef, m.intercept, m.temperature)
        return pool_sub_epochs(post)

    def _probs_dict(self, p: np.ndarray) -> dict[str, float]:
        d = {s: 0.0 for s in STAGES}
        for cls, v in zip(self.model.classes, p, strict=True):
            d[cls] = float(v)
        return d

    def _score_epoch(self, seg: np.ndarray) -> Decision:
        ok, q = self._quality(seg)
        k = self._epoch_number()
        end_idx = (self._epoch + 1) * self.n_epoch - 1
        details: dict[str, Any] = {"epoch": k, "provisional": False, "quality": q}
        if ok:
            post, ours = self._posterior(seg)
            details["classifier"] = self._probs_dict(ours)
            if self.expert is not None:
                details["expert"] = self.expert.tag
            if self.cfg.hmm:
                self._alpha = forward_step(self._alpha, self.trans,
                                           tempered(post, self.model.prior, self.cfg),
                                           self.model.prior)
                probs = self._alpha
            else:
                probs = post
            if self.gate is not None:
                probs, details["onset_gate"] = self.gate.step(probs)
            label = self.model.classes[int(np.argmax(probs))]
        else:
            # no evidence: the HMM only predicts forward
            self._alpha = self._alpha @ self.trans if self.cfg.hmm else self._alpha
            probs = self._alpha if self.cfg.hmm else self.model.prior / self.model.prior.sum()
            label = UNSCORABLE
        self.history.append(label)
        return Decision(kind="stage", sample=self._last_input_sample(end_idx), label=label,
                        probabilities=self._probs_dict(probs), model=self.model.tag,
                        details=details)

    def _provisional(self, t: int) -> Decision:
        """Provisional decision on the trailing epoch-length window ending at resampled ``t``.

        Uses the HMM prediction from the last final epoch but does not update the HMM.
        """
        seg = self._store.window(t - self.n_epoch, t)
        ok, q = self._quality(seg)
        m = self.model
        probs = self._alpha @ self.trans if self.cfg.hmm else m.prior / m.prior.sum()
        if ok:
            post, _ = self._posterior(seg, commit=False)
            if self.cfg.hmm:
                probs = probs * tempered(post, m.prior, self.cfg) / m.prior
                probs = probs / probs.sum()
            else:
                probs = post
            if self.gate is not None:
                probs = self.gate.step(probs, commit=False)[0]
            label = m.classes[int(np.argmax(probs))]
        else:
            label = UNSCORABLE
        return Decision(kind="stage", sample=self._last_input_sample(t - 1), label=label,
                        probabilities=self._probs_dict(probs), model=m.tag,
                        details={"epoch": self._epoch_number(), "provisional": True,
                                 "quality": q})


def onset_gate_for(model: StagerModel, cfg: StagerConfig) -> SleepOnsetGate | None:
    """The sleep-onset gate of ``cfg`` (``None`` when switched off or the model lacks N3)."""
    if not cfg.onset_gate or "N3" not in model.classes:
        return None
    return SleepOnsetGate(model.classes, cfg.onset_evidence, cfg.wake_evidence)


def build_stager(cfg: StagerConfig, sfreq: float, channel_names: Sequence[str],
                 channel_types: Sequence[str], *, synthetic_source: bool = False) -> SleepStager:
    """Build the stager for a source's channel layout.

    Parameters
    ----------
    cfg
        ``[stager]`` section (``model_path`` '' = shipped default model).
    sfreq
        Source sampling rate (Hz).
    channel_names, channel_types
        The source's channels; ``cfg.eeg_channel`` must be one of them ('' = first EEG).
    synthetic_source
        The source is the synthetic night: ``model_path = "auto"`` then picks the synthetic
        demo model (trained on other seeds of the generator), else the real-EEG model.

    Raises
    ------
    ValueError
        A configured channel is missing (the message lists the available ones).
    """
    path: str | Path = cfg.model_path
    if path == "auto":
        path = "synthetic" if synthetic_source else ""
    model = load_model(path or shipped_model_for(sfreq))
    if abs(model.sfreq - cfg.staging_sfreq) > 1e-9:
        raise ValueError(f"stager.staging_sfreq is {cfg.staging_sfreq} Hz but model {model.tag} "
                         f"was trained at {model.sfreq} Hz")
    names = list(channel_names)
    rows: dict[str, int] = {}
    for role, wanted in (("eeg", cfg.eeg_channel), ("eog", cfg.eog_channel),
                         ("emg", cfg.emg_channel)):
        if wanted:
            if wanted not in names:
                raise ValueError(f"stager.{role}_channel {wanted!r} is not a source channel; "
                                 f"available: {names}")
            rows[role] = names.index(wanted)
        else:
            typed = [i for i, t in enumerate(channel_types) if t == role]
            if typed and (role in model.roles or model.expert):
                rows[role] = typed[0]
    if "eeg" not in rows:
        raise ValueError(f"stager needs an EEG channel; source channels: {names}")
    return SleepStager(cfg, model, sfreq, rows)
