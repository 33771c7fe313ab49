"""Whole-night staging in one go (offline), with the live path's numbers.

Same steps as :class:`~firmware_host.staging.stager.SleepStager` — causal resampler,
per-epoch features, quality gate, logistic regression, HMM forward filter, sleep-onset
gate — vectorised over
the night. Still causal (the forward filter only looks back), so its labels equal the live
stager's final decisions. Used by the benchmark and for fast evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dsp.hmm import forward
from dsp.linear import softmax_linear
from dsp.resample import StreamingResampler
from dsp.spectral import night_features
from dsp.yasa_features import yasa_epoch_features
from firmware_host.staging.config import StagerConfig
from firmware_host.staging.model import StagerModel, hmm_view, pool_sub_epochs
from firmware_host.staging.stager import (
    UNSCORABLE,
    effective_transition,
    onset_gate_for,
    tempered,
)
from firmware_host.staging.yasa_expert import ExpertSpec, YasaExpert, pool_with_expert


def stage_night(data: np.ndarray, sfreq: float, model: StagerModel,
                cfg: StagerConfig | None = None,
                roles: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
    """Stage a whole recording.

    Parameters
    ----------
    data
        ``(n_rows, n_samples)`` µV, one row per channel role (``roles``).
    sfreq
        Sampling rate of ``data``.
    model
        The stager model.
    cfg
        Quality thresholds and HMM switch (defaults when ``None``).
    roles
        Role of each row (``eeg``, ``eog``, ``emg``; default: the model's roles). Rows the
        model does not use can still feed its expert (YASA's EEG+EOG+EMG trees).

    Returns
    -------
    labels
        One label per complete epoch (``"unscorable"`` for bad epochs).
    probabilities
        ``(n_epochs, n_classes)`` reported probabilities.
    """
    cfg = cfg or StagerConfig()
    model = hmm_view(model, bool(model.expert and cfg.expert))
    data = np.atleast_2d(np.asarray(data, dtype=np.float64))
    roles = list(roles or model.roles)
    if data.shape[0] != len(roles) or any(r not in roles for r in model.roles):
        raise ValueError(f"data has {data.shape[0]} rows with roles {roles}; model {model.tag} "
                         f"needs roles {model.roles}")
    x = StreamingResampler(sfreq, model.sfreq, data.shape[0]).process(
        np.where(np.isfinite(data), data, 0.0))
    xr = x
    x = x[[roles.index(r) for r in model.roles]]
    n_sub = model.n_sub
    fs = int(round(model.sfreq))
    n = int(round(model.epoch_s * model.sfreq))
    n_ep = x.shape[1] // n
    w = n // n_sub
    # windows of whole epochs only, laid out epoch by epoch (as the live path cuts them)
    win = x[:, : n_ep * n].reshape(x.shape[0], n_ep, n)[:, :, : n_sub * w]
    win = win.reshape(x.shape[0], n_ep * n_sub * w)
    feats = [night_features(win[i], model.sfreq, w / model.sfreq)[:, model.column_index(r)]
             for i, r in enumerate(model.roles)]
    X = np.hstack(feats)
    eeg = x[0, : n_ep * n].reshape(n_ep, n // fs, fs)
    bad = (eeg.std(axis=2) < cfg.flat_uv) | (np.ptp(eeg, axis=2) > cfg.artefact_uv)
    ok = bad.mean(axis=1) <= cfg.max_bad_fraction
    k = len(model.classes)
    post = softmax_linear(X, model.mean, model.scale, model.coef, model.intercept,
                          model.temperature) if n_ep else np.zeros((0, k))
    post = pool_sub_epochs(post.reshape(n_ep, n_sub, k))
    if model.expert and cfg.expert and n_ep:
        post = _pool_expert(xr[:, : n_ep * n], roles, model, ok, post)
    if cfg.hmm:
        # unscorable epochs carry no evidence: posterior = prior → likelihood 1
        post = np.where(ok[:, None], tempered(post, model.prior, cfg), model.prior[None, :])
        probs = forward(post, effective_transition(model, cfg), model.prior,
                        model.prior / model.prior.sum())
    else:
        probs = np.where(ok[:, None], post, (model.prior / model.prior.sum())[None, :])
    gate = onset_gate_for(model, cfg)
    if gate is not None:
        probs = gate.run(probs, ok)
    labels = [model.classes[int(np.argmax(p))] if good else UNSCORABLE
              for p, good in zip(probs, ok, strict=True)]
    return labels, probs


def _pool_expert(x: np.ndarray, roles: list[str], model: StagerModel, ok: np.ndarray,
                 post: np.ndarray) -> np.ndarray:
    """The live stager's expert step over a whole night: same filter, features and context
    updates (scored epochs only, in order), trees evaluated in one batch."""
    expert = YasaExpert(ExpertSpec.from_json(model.expert), roles, model.sfreq)
    rows = [roles.index(r) for r in expert.roles]
    xf = expert.filter(x[rows])
    n_ep = post.shape[0]
    n = xf.shape[1] // n_ep
    base = np.hstack([yasa_epoch_features(xf[i].reshape(n_ep, n), model.sfreq, role)
                      for i, role in enumerate(expert.roles)])
    good = np.flatnonzero(ok)
    tree_rows = np.array([expert.tree_row(base[e], expert.context.push(base[e]), int(e))
                          for e in good]).reshape(len(good), -1)
    theirs = expert.trees.predict_proba(tree_rows)[:, expert.class_index]
    out = post.copy()
    absent = model.meta.get("absent_classes", [])
    for j, e in enumerate(good):
        out[e] = pool_with_expert(post[e], theirs[j], expert.spec.weight, absent)
    return out
