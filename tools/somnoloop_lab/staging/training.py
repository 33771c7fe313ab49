"""Model fitting for the stager (used by ``tools/train_stager.py`` and ``stage-eval --loo``).

Features are computed exactly as the live path computes them: the same causal
:class:`dsp.resample.StreamingResampler`, then :func:`dsp.spectral.night_features`
(equal, row by row, to the per-epoch :func:`dsp.spectral.epoch_features` the stager calls).
Fitting needs scikit-learn (a dev extra); inference does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from dsp.resample import StreamingResampler
from dsp.spectral import feature_names, night_features
from firmware_host.staging.model import StagerModel
from firmware_host.vocabulary import STAGES
from somnoloop_lab.staging.datasets import Recording, majority_epochs
from somnoloop_lab.staging.metrics import transition_counts

#: Scale-free EEG features of the default model: relative powers, ratios, spectral shape,
#: Hjorth mobility/complexity, zero-crossings, kurtosis/skewness. Absolute amplitudes are
#: left out on purpose: they depend on the amplifier, electrode and patient.
SCALE_FREE = tuple(
    n for n in feature_names()
    if not n.startswith(("logabs_", "log_")) and n != "hjorth_logact"
)
MODEL_NAME = "somnoloop-logreg"
#: Window length (s) of the default recipe: the classifier is trained on 10-s windows, each
#: labelled by its own expert label (DREAMS' 5-s R&K labels, two per window; 3× the
#: labelled examples of 30-s epochs) and an epoch pools its three windows' posteriors.
DEFAULT_SUB_EPOCH_S = 10.0
#: Rate (Hz) training recordings are brought down to for the band-limited variant.
LOWRATE_SFREQ = 50.0
#: Floor probability of a class with no training epochs (REM in DREAMS 1-5).
ABSENT_CLASS_PROB = 0.01


def band_limited(rec: Recording, input_sfreq: float) -> Recording:
    """The recording as if it had been recorded at ``input_sfreq`` (unchanged if not faster).

    Uses the live path's causal polyphase resampler (its anti-alias low-pass); labels and
    channels are kept.
    """
    if input_sfreq <= 0 or rec.sfreq <= input_sfreq:
        return rec
    r = StreamingResampler(rec.sfreq, input_sfreq, rec.data.shape[0])
    return replace(rec, data=r.process(rec.data), sfreq=float(input_sfreq))


def resampled(rec: Recording, rows: Sequence[int], sfreq: float) -> np.ndarray:
    """Rows of a recording through the live path's causal resampler."""
    r = StreamingResampler(rec.sfreq, sfreq, len(rows))
    return r.process(rec.data[list(rows)])


def recording_features(rec: Recording, rows: dict[str, int], features: dict[str, list[str]],
                       sfreq: float = 100.0, epoch_s: float = 30.0) -> np.ndarray:
    """``(n_epochs, n_model_features)`` for a recording, columns in role order eeg, eog, emg."""
    names = feature_names()
    roles = [r for r in ("eeg", "eog", "emg") if features.get(r)]
    x = resampled(rec, [rows[r] for r in roles], sfreq)
    blocks = []
    for i, role in enumerate(roles):
        cols = [names.index(n) for n in features[role]]
        blocks.append(night_features(x[i], sfreq, epoch_s)[:, cols])
    n = min(b.shape[0] for b in blocks)
    return np.hstack([b[:n] for b in blocks])


def window_labels(rec: Recording, n_epochs: int, n_sub: int, epoch_s: float = 30.0) -> list[str]:
    """One label per sub-epoch window (``n_sub`` per 30-s epoch) of the first ``n_epochs``.

    A window takes the majority of the expert's own finer labels inside it
    (:attr:`Recording.fine_stages`, ties → the first reached) when they tile the window;
    otherwise (no finer scoring, e.g. Sleep-EDF's 30-s hypnograms) its epoch's label.
    """
    window_s = epoch_s / n_sub
    per = window_s / rec.fine_s if rec.fine_s > 0 else 0.0
    if n_sub > 1 and rec.fine_stages and per >= 1 and abs(per - round(per)) < 1e-9:
        fine = majority_epochs(list(rec.fine_stages), int(round(per)))
        if len(fine) >= n_epochs * n_sub:
            return fine[: n_epochs * n_sub]
    return [s for s in rec.stages[:n_epochs] for _ in range(n_sub)]


def trim_wake(hypnogram: Sequence[str], keep_epochs: int = 60) -> list[str]:
    """Drop wake beyond ``keep_epochs`` before the first / after the last sleep epoch.

    Sleep-EDF nights carry hours of in-bed wake before lights-off and after waking; left in,
    they make the W→W transition unrealistically sticky (the usual practice trims to 30 min).
    """
    h = list(hypnogram)
    sleep = [i for i, s in enumerate(h) if s in ("N1", "N2", "N3", "REM")]
    if not sleep:
        return h
    return h[max(sleep[0] - keep_epochs, 0) : sleep[-1] + keep_epochs + 1]


def transition_matrix(hypnograms: Sequence[Sequence[str]], pseudo: float = 1.0,
                      min_stay: float = 0.0) -> np.ndarray:
    """Row-stochastic transition matrix from hypnograms with additive smoothing."""
    c = transition_counts(hypnograms) + pseudo
    t = c / c.sum(axis=1, keepdims=True)
    if min_stay > 0:
        d = np.maximum(np.diag(t), min_stay)
        off = t.copy()
        np.fill_diagonal(off, 0.0)
        off *= ((1.0 - d) / off.sum(axis=1))[:, None]
        t = off + np.diag(d)
    return t


def fit_model(X: np.ndarray, y: Sequence[str], features: dict[str, list[str]],
              transition: np.ndarray, *, C: float = 0.1, version: str = "1.0.0",
              sfreq: float = 100.0, epoch_s: float = 30.0, sub_epoch_s: float = 0.0,
              input_sfreq: float = 0.0, meta: dict[str, Any] | None = None) -> StagerModel:
    """Fit a standardised multinomial logistic regression over all five stages.

    ``X``/``y`` are one row per classified window: whole epochs (``sub_epoch_s = 0``) or
    ``sub_epoch_s``-long windows with their own labels (the model then pools them per epoch).

    Stages with no training epochs get zero weights and an intercept that gives them
    :data:`ABSENT_CLASS_PROB` on average; they are listed in ``meta["absent_classes"]`` (the
    stager keeps its HMM out of them unless an expert supplies their evidence,
    :func:`~firmware_host.staging.model.hmm_view`).
    """
    from sklearn.linear_model import LogisticRegression  # dev extra, training only

    y_arr = np.asarray(list(y))
    keep = np.isin(y_arr, STAGES)
    X, y_arr = np.asarray(X, float)[keep], y_arr[keep]
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale <= 1e-12] = 1.0
    clf = LogisticRegression(C=C, max_iter=5000)
    clf.fit((X - mean) / scale, y_arr)
    k, f = len(STAGES), X.shape[1]
    coef = np.zeros((k, f))
    intercept = np.full(k, 0.0)
    present = list(clf.classes_)
    for j, cls in enumerate(present):
        i = STAGES.index(cls)
        coef[i] = clf.coef_[j] if len(present) > 2 else (clf.coef_[0] * (1 if j else -1))
        intercept[i] = clf.intercept_[j] if len(present) > 2 else 0.0
    absent = [i for i, s in enumerate(STAGES) if s not in present]
    if absent:
        ref = np.log(np.mean(np.exp(intercept[[STAGES.index(c) for c in present]])))
        intercept[absent] = ref + np.log(ABSENT_CLASS_PROB)
    counts = np.array([np.sum(y_arr == s) for s in STAGES], float)
    prior = np.where(counts > 0, counts, ABSENT_CLASS_PROB * counts.sum())
    prior = prior / prior.sum()
    meta = dict(meta or {})
    meta.update({"n_train_epochs": int(len(y_arr)),
                 "train_counts": {s: int(c) for s, c in zip(STAGES, counts, strict=True)},
                 "C": C, "absent_classes": [STAGES[i] for i in absent],
                 "sub_epoch_s": sub_epoch_s})
    return StagerModel(name=MODEL_NAME, version=version, sfreq=sfreq, epoch_s=epoch_s,
                       features={r: list(v) for r, v in features.items() if v},
                       classes=list(STAGES), mean=mean, scale=scale, coef=coef,
                       intercept=intercept, prior=prior, transition=transition, meta=meta,
                       sub_epoch_s=float(sub_epoch_s), input_sfreq=float(input_sfreq))


#: EOG / chin-EMG features of multi-channel models: slow-eye-movement power and amplitude
#: (EOG), muscle tone (EMG). Absolute on purpose: REM atonia *is* an amplitude.
EOG_FEATURES = ("logabs_so", "logabs_delta", "rel_so", "log_p90")
EMG_FEATURES = ("logabs_beta", "logabs_gamma", "log_total", "log_iqr")


def train_model(recs: Sequence[Recording], extra_hypnograms: Sequence[Sequence[str]] = (),
                *, roles: Sequence[str] = ("eeg",), C: float = 0.1, version: str = "1.0.0",
                name: str = MODEL_NAME, knowledge: str = "",
                sub_epoch_s: float = 0.0, input_sfreq: float = 0.0) -> StagerModel:
    """Fit a model on labelled recordings (each must have one channel of every role).

    Parameters
    ----------
    recs
        Training recordings; the first channel of each type in ``roles`` is used.
    extra_hypnograms
        More expert hypnograms for the transition matrix only.
    roles
        ``("eeg",)``, ``("eeg", "eog", "emg")``, …
    sub_epoch_s
        0: one example per 30-s epoch. ``> 0`` (must divide 30 s): train on windows of this
        length labelled by :func:`window_labels`; the model pools them per epoch.
    input_sfreq
        ``> 0``: bring every faster training recording down to this rate first
        (:func:`band_limited`) — the band-limited variant for slow sources.
    """
    per_role = {"eeg": list(SCALE_FREE), "eog": list(EOG_FEATURES), "emg": list(EMG_FEATURES)}
    feats = {r: per_role[r] for r in ("eeg", "eog", "emg") if r in roles}
    X, y = [], []
    for r in (band_limited(rec, input_sfreq) for rec in recs):
        missing = [role for role in feats if role not in r.channel_types]
        if missing:
            raise ValueError(f"recording {r.name} has no {missing} channel for this model")
        rows = {role: list(r.channel_types).index(role) for role in feats}
        n_sub = int(round(30.0 / sub_epoch_s)) if sub_epoch_s > 0 else 1
        if n_sub * (sub_epoch_s if sub_epoch_s > 0 else 30.0) != 30.0:
            raise ValueError(f"sub_epoch_s {sub_epoch_s} must be 0 or divide 30 s")
        F = recording_features(r, rows, feats, epoch_s=30.0 / n_sub)
        n = min(len(F) // n_sub, len(r.stages))
        X.append(F[: n * n_sub])
        y += window_labels(r, n, n_sub)
    trans = transition_matrix([r.stages for r in recs] + list(extra_hypnograms), pseudo=1.0)
    model = fit_model(np.vstack(X), y, feats, trans, C=C, version=version,
                      sub_epoch_s=sub_epoch_s, input_sfreq=input_sfreq,
                      meta={"trained_on": [r.name for r in recs],
                            "script": "tools/train_stager.py",
                            "knowledge": knowledge or "own logistic regression on dsp.spectral "
                            "features + HMM transitions from expert hypnograms"})
    # a band-limited variant says so in its name (and so in every decision it makes)
    return replace(model, name=f"{name}-{input_sfreq:g}hz" if input_sfreq > 0 else name)


def train_eeg_model(recs: Sequence[Recording], extra_hypnograms: Sequence[Sequence[str]] = (),
                    C: float = 0.1, version: str = "3.1.0",
                    sub_epoch_s: float = DEFAULT_SUB_EPOCH_S,
                    input_sfreq: float = 0.0, expert: bool = True) -> StagerModel:
    """The default recipe: scale-free EEG features of 10-s windows labelled by their own
    expert labels, logistic regression, epoch = pooled windows; transitions from the
    recordings' stages plus extra hypnograms (first EEG channel of each recording); with
    ``expert``, pooled with YASA's trees on causal features (:func:`with_expert`)."""
    model = train_model(recs, extra_hypnograms, roles=("eeg",), C=C, version=version,
                        sub_epoch_s=sub_epoch_s, input_sfreq=input_sfreq)
    return with_expert(model, recs) if expert else model


#: The expert the default recipe attaches: YASA's EEG trees, or its EEG+EOG, EEG+EMG or
#: EEG+EOG+EMG trees when those channels are configured (the richest set they cover), equal
#: weight in the pooled posterior, a prior worth 30 min.
DEFAULT_EXPERT = {"trees": {"eeg": "yasa_eeg_0.5.0.npz", "eeg+eog": "yasa_eeg+eog_0.5.0.npz",
                            "eeg+emg": "yasa_eeg+emg_0.5.0.npz",
                            "eeg+eog+emg": "yasa_eeg+eog+emg_0.5.0.npz"},
                  "weight": 0.5, "prior_epochs": 60.0, "night_hours": 8.0}


def expert_base_rows(rec: Recording, roles: Sequence[str], sfreq: float = 100.0,
                     epoch_s: float = 30.0) -> np.ndarray:
    """Per-epoch YASA features of a recording through the live path (resampler, causal
    band-pass), ``(n_epochs, n_features)``; rows = the expert's roles (first channel each)."""
    from dsp.filters import StreamingFilter, design_bandpass
    from dsp.yasa_features import yasa_epoch_features
    from firmware_host.staging.yasa_expert import BAND_HZ, BAND_ORDER

    idx = [list(rec.channel_types).index(r) for r in roles]
    x = resampled(rec, idx, sfreq)
    x = StreamingFilter(design_bandpass(*BAND_HZ, sfreq, order=BAND_ORDER), len(idx)).process(x)
    n = int(round(epoch_s * sfreq))
    n_ep = x.shape[1] // n
    return np.hstack([yasa_epoch_features(x[i, : n_ep * n].reshape(n_ep, n), sfreq, role)
                      for i, role in enumerate(roles)])


def with_expert(model: StagerModel, recs: Sequence[Recording],
                spec: dict[str, Any] | None = None) -> StagerModel:
    """Attach an expert section; its normalisation prior is measured on ``recs`` (brought
    to the model's ``input_sfreq`` first, like the classifier's training data)."""
    from firmware_host.staging.yasa_expert import base_names, measure_prior

    spec = dict(spec or DEFAULT_EXPERT)
    names = base_names(["eeg"])
    rows = [expert_base_rows(band_limited(r, model.input_sfreq), ["eeg"]) for r in recs]
    spec["prior"] = measure_prior(rows, names)
    return replace(model, expert=spec,
                   meta={**model.meta, "expert_prior_from": [r.name for r in recs]})


def input_sfreq_for(sfreq: float) -> float:
    """Training ``input_sfreq`` of the shipped variant a source of ``sfreq`` Hz would get
    (50 Hz below :data:`~firmware_host.staging.model.LOWRATE_BELOW_HZ`, else 0 = as recorded)."""
    from firmware_host.staging.model import LOWRATE_BELOW_HZ

    return LOWRATE_SFREQ if sfreq < LOWRATE_BELOW_HZ else 0.0
