"""YASA's pre-trained sleep-staging trees as a causal second opinion for the stager.

YASA (R. Vallat & M. Walker 2021, eLife 10:e70092; BSD-3-Clause, see
``firmware_host/models/YASA_LICENSE.txt``) stages sleep with LightGBM trees trained by its
authors on ~3 000 NSRR nights. Its inputs are, per 30-s epoch and channel, spectral and
time-domain features of the 0.4–30 Hz signal, plus two *context* versions of each: a 7.5-min
centred triangular rolling mean and a 2-min past rolling mean, both robust-scaled over the
whole recording, plus the time since lights-off and the fraction of the night elapsed.

Offline that is fine; at the bedside only the past is known. This expert keeps YASA's trees
(converted to :mod:`firmware_host.staging.tree_model`, evaluated by :mod:`dsp.trees`) and its
per-epoch features (:mod:`dsp.yasa_features`), and makes the rest causal:

* band-pass: a causal Butterworth IIR instead of MNE's zero-phase FIR;
* ``_c7min``: the trailing half of YASA's triangular window (weights 1/8 … 1, the current
  epoch weighted most) instead of the centred one;
* ``_p2min``: YASA's own past 4-epoch mean (already causal);
* robust scaling: median and 5–95 % range of everything seen so far in the night, blended
  with a population prior that dominates the first ``prior_epochs`` epochs (weight
  ``n / (n + prior_epochs)`` on the night's own statistics);
* ``time_norm``: elapsed time over a nominal ``night_hours`` (the night's length is unknown).

The settings live in the stager model file (``expert`` section), so every decision's model
tag covers them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dsp.filters import StreamingFilter, design_bandpass
from dsp.running_quantile import RunningQuantiles
from dsp.yasa_features import YASA_BROAD, yasa_epoch_features, yasa_feature_names
from firmware_host.staging.tree_model import MODELS_DIR, TreeEnsembleModel, load_tree_model
from firmware_host.vocabulary import STAGES

#: Weights of the trailing half of YASA's 15-epoch triangular window (oldest first).
TRAIL_WEIGHTS = np.array([0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0])
#: Epochs in YASA's past rolling mean (``_p2min``).
PAST_EPOCHS = 4
#: Causal band-pass standing in for YASA's 0.4–30 Hz zero-phase FIR (same band edges).
BAND_HZ = YASA_BROAD
BAND_ORDER = 2
ROLES = ("eeg", "eog", "emg")
#: Robust scaling: YASA's ``robust_scale(quantile_range=(5, 95))`` median and range.
QUANTILES = np.array([0.05, 0.5, 0.95])
SUFFIXES = ("", "_c7min_norm", "_p2min_norm")


@dataclass(frozen=True)
class ExpertSpec:
    """The ``expert`` section of a stager model file.

    Parameters
    ----------
    trees
        ``{"eeg": file, "eeg+eog+emg": file, …}``: tree files (in ``firmware_host/models``)
        by the channel roles they need; the stager uses the richest one it has channels for.
    weight
        Exponent of the expert in the pooled posterior ``ours^(1-w) · expert^w`` (0..1).
    prior_epochs
        Epochs after which the night's own statistics weigh as much as the prior.
    night_hours
        Nominal night length for ``time_norm``.
    prior
        ``{"median": {feature: value}, "range": {feature: value}}`` for the context
        features (names like ``eeg_sigma_c7min``), measured on the training recordings.
    """

    trees: dict[str, str]
    weight: float = 0.5
    prior_epochs: float = 60.0
    night_hours: float = 8.0
    prior: dict[str, dict[str, float]] | None = None

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> ExpertSpec:
        """Parse and check a model file's ``expert`` section (``ValueError`` naming the key)."""
        trees = doc.get("trees")
        if not isinstance(trees, dict) or not trees:
            raise ValueError("expert.trees must map channel roles ('eeg', 'eeg+eog+emg') to "
                             "tree files")
        numbers = {}
        for key, default in (("weight", 0.5), ("prior_epochs", 60.0), ("night_hours", 8.0)):
            value = doc.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not math.isfinite(value):
                raise ValueError(f"expert.{key} = {str(value)[:40]}; allowed: a finite number")
            numbers[key] = float(value)
        prior = doc.get("prior")
        if prior is not None and not (isinstance(prior, dict) and all(
                isinstance(prior.get(part), dict) and all(
                    type(v) in (int, float) for v in prior[part].values())
                for part in ("median", "range"))):
            raise ValueError("expert.prior must be {'median': {feature: number}, "
                             "'range': {feature: number}}")
        spec = cls(trees={str(k): str(v) for k, v in trees.items()}, prior=prior, **numbers)
        if not 0.0 <= spec.weight <= 1.0:
            raise ValueError(f"expert.weight {spec.weight} must be in 0..1")
        if spec.prior_epochs < 0 or spec.night_hours <= 0:
            raise ValueError("expert.prior_epochs must be >= 0 and expert.night_hours > 0")
        for key, roles in ((k, k.split("+")) for k in spec.trees):
            if roles[0] != "eeg" or any(r not in ROLES for r in roles):
                raise ValueError(f"expert.trees key {key!r}: roles must start with 'eeg' and "
                                 f"be among {ROLES}")
        return spec

    def to_json(self) -> dict[str, Any]:
        """The JSON section."""
        return {"trees": dict(self.trees), "weight": self.weight,
                "prior_epochs": self.prior_epochs, "night_hours": self.night_hours,
                "prior": self.prior}

    def roles_for(self, available: Sequence[str]) -> list[str]:
        """The richest tree set's roles that ``available`` channel roles cover."""
        usable = [k.split("+") for k in self.trees if set(k.split("+")) <= set(available)]
        if not usable:
            raise ValueError(f"expert needs an EEG channel; available roles {list(available)}")
        return max(usable, key=len)


def base_names(roles: Sequence[str]) -> list[str]:
    """Per-epoch feature names (``eeg_abspow`` …) of the roles, role by role."""
    return [f"{r}_{n}" for r in roles for n in yasa_feature_names(r)]


class CausalContext:
    """Causal stand-ins for YASA's smoothed, normalised context features, epoch by epoch.

    Parameters
    ----------
    names
        Per-epoch feature names (:func:`base_names`).
    prior_median, prior_range
        Population statistics of the trailing-smoothed (``c7``) and past-mean (``p2``)
        features, ``{"c7": array, "p2": array}`` each; ``None`` (or NaN for a feature) = no
        prior (the night's expanding statistics alone).
    prior_epochs
        Prior weight in epochs.
    """

    def __init__(self, names: Sequence[str], prior_median: dict[str, np.ndarray] | None = None,
                 prior_range: dict[str, np.ndarray] | None = None,
                 prior_epochs: float = 60.0) -> None:
        self.names = list(names)
        self.prior_median = prior_median
        self.prior_range = prior_range
        self.prior_epochs = float(prior_epochs)
        self.reset()

    def reset(self) -> None:
        """Start a new night."""
        f = len(self.names)
        self._recent = np.zeros((len(TRAIL_WEIGHTS), f))
        self._n = 0  # epochs pushed
        self._hist = {"c7": RunningQuantiles(f), "p2": RunningQuantiles(f)}

    def smoothed(self, base: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Trailing triangular mean and past-4 mean if ``base`` joined the window.

        Returns ``(c7, p2, window)``; nothing is committed (see :meth:`push`).
        """
        window = np.vstack([self._recent[1:], np.asarray(base, dtype=np.float64)[None, :]])
        k = min(self._n + 1, len(TRAIL_WEIGHTS))
        w = TRAIL_WEIGHTS[-k:]
        c7 = (w[:, None] * window[-k:]).sum(axis=0) / w.sum()
        p2 = window[-min(k, PAST_EPOCHS):].mean(axis=0)
        return c7, p2, window

    def push(self, base: np.ndarray, commit: bool = True) -> dict[str, np.ndarray]:
        """One scored epoch's per-epoch features → its normalised context.

        Parameters
        ----------
        base
            Per-epoch features (:attr:`names` order).
        commit
            ``False`` for a provisional look: the night's state is left unchanged.

        Returns
        -------
        dict
            ``{"c7": …, "p2": …}`` robust-scaled context features of this epoch.
        """
        c7, p2, window = self.smoothed(base)
        out = {}
        for key, v in (("c7", c7), ("p2", p2)):
            q05, med, q95 = self._hist[key].quantiles(QUANTILES, with_row=v)
            rng = q95 - q05
            if self.prior_median is not None and self.prior_range is not None:
                a = (self._n + 1) / (self._n + 1 + self.prior_epochs)
                pm, pr = self.prior_median[key], self.prior_range[key]
                has = np.isfinite(pm) & np.isfinite(pr)
                med = np.where(has, a * med + (1 - a) * np.where(has, pm, 0.0), med)
                rng = np.where(has, a * rng + (1 - a) * np.where(has, pr, 0.0), rng)
            rng = np.where(rng > 0, rng, 1.0)
            out[key] = (v - med) / rng
            if commit:
                self._hist[key].add(v)
        if commit:
            self._recent = window
            self._n += 1
        return out

    def raw(self, base_rows: np.ndarray) -> dict[str, np.ndarray]:
        """Un-normalised ``c7``/``p2`` rows of a sequence of epochs (for priors), fresh state."""
        self.reset()
        c7s, p2s = [], []
        for b in np.asarray(base_rows, dtype=np.float64):
            c7, p2, self._recent = self.smoothed(b)
            self._n += 1
            c7s.append(c7)
            p2s.append(p2)
        self.reset()
        return {"c7": np.array(c7s), "p2": np.array(p2s)}


def measure_prior(base_rows: Sequence[np.ndarray], names: Sequence[str]) -> dict[str, Any]:
    """Population prior of the context features from per-epoch features of training nights.

    Parameters
    ----------
    base_rows
        One ``(n_epochs, n_features)`` array per recording (scored epochs, in order).
    names
        Feature names (:func:`base_names`).

    Returns
    -------
    dict
        ``{"median": {"<name>_c7": …, "<name>_p2": …}, "range": {…}}`` (5–95 % range),
        pooled over every epoch of every recording.
    """
    ctx = CausalContext(names)
    raws = [ctx.raw(b) for b in base_rows]
    out: dict[str, Any] = {"median": {}, "range": {}}
    for key in ("c7", "p2"):
        v = np.vstack([r[key] for r in raws])
        q05, med, q95 = np.quantile(v, [0.05, 0.5, 0.95], axis=0)
        for i, n in enumerate(names):
            out["median"][f"{n}_{key}"] = float(med[i])
            out["range"][f"{n}_{key}"] = float(q95[i] - q05[i])
    return out


class YasaExpert:
    """YASA's trees on causal features; one posterior per scored epoch.

    Parameters
    ----------
    spec
        The model file's ``expert`` section.
    available_roles
        Channel roles the stager has (``eeg`` at least).
    sfreq
        Staging rate (Hz) of the segments it is given (100 Hz, YASA's own rate).
    """

    def __init__(self, spec: ExpertSpec, available_roles: Sequence[str], sfreq: float) -> None:
        self.spec = spec
        self.roles = spec.roles_for(available_roles)
        self.trees: TreeEnsembleModel = load_tree_model(MODELS_DIR / spec.trees["+".join(self.roles)])
        self.sfreq = float(sfreq)
        self.names = base_names(self.roles)
        self._sos = design_bandpass(BAND_HZ[0], BAND_HZ[1], self.sfreq, order=BAND_ORDER)
        self._columns = self._tree_columns()
        med = rng = None
        if spec.prior:  # features without a prior (NaN) use the night's statistics alone
            med = {k: np.array([spec.prior["median"].get(f"{n}_{k}", np.nan) for n in self.names])
                   for k in ("c7", "p2")}
            rng = {k: np.array([spec.prior["range"].get(f"{n}_{k}", np.nan) for n in self.names])
                   for k in ("c7", "p2")}
        self.context = CausalContext(self.names, med, rng, spec.prior_epochs)
        self.class_index = np.array([self.trees.classes.index(s) for s in STAGES])
        self.reset()

    @property
    def tag(self) -> str:
        """The trees' ``name@version``."""
        return self.trees.tag

    def _tree_columns(self) -> np.ndarray:
        """For each tree input column, its index in ``[base, c7, p2, time_hour, time_norm]``."""
        f = len(self.names)
        where = {}
        for j, suffix in enumerate(SUFFIXES):
            for i, n in enumerate(self.names):
                where[n + suffix] = j * f + i
        where["time_hour"], where["time_norm"] = 3 * f, 3 * f + 1
        missing = [n for n in self.trees.feature_names if n not in where]
        if missing:
            raise ValueError(f"tree model {self.trees.tag} needs features this expert does not "
                             f"compute: {missing[:5]}")
        return np.array([where[n] for n in self.trees.feature_names])

    def reset(self) -> None:
        """Start a new night (filter state and context)."""
        self.reset_filter()
        self.context.reset()

    def reset_filter(self) -> None:
        """Restart the band-pass (after lost samples); the night's context is kept."""
        self._filter = StreamingFilter(self._sos, len(self.roles))

    def filter(self, block: np.ndarray) -> np.ndarray:
        """Band-pass a ``(n_roles, m)`` block of the staging-rate stream (stateful, causal)."""
        return self._filter.process(block)

    def features(self, segment: np.ndarray) -> np.ndarray:
        """Per-epoch features of one band-passed ``(n_roles, n)`` epoch, role by role."""
        return np.concatenate([yasa_epoch_features(segment[i][None, :], self.sfreq, role)[0]
                               for i, role in enumerate(self.roles)])

    def tree_row(self, base: np.ndarray, ctx: dict[str, np.ndarray], epoch: int) -> np.ndarray:
        """The trees' input row of an epoch (``epoch`` = its index since the night began)."""
        hours = epoch * 30.0 / 3600.0
        full = np.concatenate([base, ctx["c7"], ctx["p2"],
                               [hours, min(hours / self.spec.night_hours, 1.0)]])
        return full[self._columns]

    def posterior(self, segment: np.ndarray, epoch: int, commit: bool = True) -> np.ndarray:
        """Scored epoch → YASA's posterior over :data:`STAGES`.

        ``commit`` adds the epoch to the night's context (final decisions); ``False`` for a
        provisional look.
        """
        base = self.features(segment)
        row = self.tree_row(base, self.context.push(base, commit), epoch)
        return self.trees.predict_proba(row[None, :])[0][self.class_index]


def pool_with_expert(ours: np.ndarray, expert: np.ndarray, weight: float,
                     absent: Sequence[str] = ()) -> np.ndarray:
    """Combine our posterior with the expert's (both over :data:`STAGES`).

    Stages our model never saw in training (``absent``, e.g. REM for a model trained on
    DREAMS) take the expert's probability; the rest of the mass is shared by the weighted
    geometric mean ``ours^(1-w) · expert^w`` of the two over the stages both know.
    """
    ours = np.asarray(ours, dtype=np.float64)
    expert = np.asarray(expert, dtype=np.float64)
    known = np.array([s not in absent for s in STAGES])
    out = np.where(known, 0.0, expert)
    lp = ((1 - weight) * np.log(np.maximum(ours[known], 1e-300))
          + weight * np.log(np.maximum(expert[known], 1e-300)))
    g = np.exp(lp - lp.max())
    out[known] = g / g.sum() * max(1.0 - out[~known].sum(), 0.0)
    return out / out.sum()
