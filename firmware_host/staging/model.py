"""Stager model files: a JSON document holding a standardised multinomial logistic regression
over :mod:`dsp.spectral` epoch features, the class prior and the HMM transition matrix.

The file is small (a few kB), human-readable and versioned: ``format`` and
``format_version`` are checked on load (clear error on mismatch), and ``name@version`` is
stamped into every decision.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from dsp.spectral import feature_names

FORMAT = "somnoloop-stager"
FORMAT_VERSION = 3
#: Format versions this somnoloop reads (1: no ``sub_epoch_s``, i.e. whole-epoch features;
#: 2: no ``input_sfreq`` and no ``expert``).
SUPPORTED_FORMAT_VERSIONS = (1, 2, 3)
#: The model shipped with the package (made by ``tools/train_stager.py``).
DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "models" / "stager_default.json"


class ModelFormatError(ValueError):
    """A model file is missing, malformed, or written for another format version."""


@dataclass(frozen=True)
class StagerModel:
    """A loaded stager model.

    Parameters
    ----------
    name, version
        Identify the model; ``tag`` = ``"name@version"``.
    sfreq, epoch_s
        Staging rate (Hz) and epoch length (s) the features were computed at.
    features
        ``{role: [feature names]}`` with roles ``eeg``, ``eog``, ``emg``; columns are the
        concatenation in role order ``eeg, eog, emg``.
    classes
        Class names in probability order.
    mean, scale, coef, intercept
        Standardisation and linear weights.
    prior
        Training class prior (for the HMM's posterior → likelihood step).
    transition
        ``(k, k)`` row-stochastic stage transition matrix.
    temperature
        Softmax temperature (calibration).
    sub_epoch_s
        0 (whole-epoch model): one feature vector per epoch. ``> 0`` (sub-epoch model): the
        classifier was trained on ``sub_epoch_s``-long windows labelled by their own expert
        label; an epoch's posterior is the normalised geometric mean of its
        ``epoch_s / sub_epoch_s`` window posteriors (:func:`pool_sub_epochs`).
    input_sfreq
        0: training recordings went through the live path at their own rates. ``> 0``: every
        training recording recorded faster than this was first brought down to this rate —
        a *band-limited* variant for sources that cannot deliver more bandwidth
        (:func:`shipped_model_for`).
    expert
        Optional second opinion pooled with the logistic regression (``{}`` = none): the
        settings of :class:`firmware_host.staging.yasa_expert.YasaExpert` (tree file, weight,
        normalisation prior).
    meta
        Provenance: training data, script, metrics.
    """

    name: str
    version: str
    sfreq: float
    epoch_s: float
    features: dict[str, list[str]]
    classes: list[str]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    prior: np.ndarray
    transition: np.ndarray
    temperature: float = 1.0
    meta: dict[str, Any] = field(default_factory=dict)
    sub_epoch_s: float = 0.0
    input_sfreq: float = 0.0
    expert: dict[str, Any] = field(default_factory=dict)

    @property
    def n_sub(self) -> int:
        """Windows per epoch the classifier scores (1 for a whole-epoch model)."""
        if self.sub_epoch_s <= 0:
            return 1
        return int(round(self.epoch_s / self.sub_epoch_s))

    @property
    def window_s(self) -> float:
        """Length (s) of the windows the classifier's features are computed on."""
        return self.epoch_s / self.n_sub

    @property
    def tag(self) -> str:
        """``name@version`` as stamped into decisions."""
        return f"{self.name}@{self.version}"

    def column_index(self, role: str) -> np.ndarray:
        """Indices into :func:`dsp.spectral.feature_names` of the features used for a role."""
        all_names = feature_names()
        return np.array([all_names.index(n) for n in self.features.get(role, [])], dtype=np.intp)

    @property
    def roles(self) -> list[str]:
        """Channel roles the model needs, in column order."""
        return [r for r in ("eeg", "eog", "emg") if self.features.get(r)]

    def to_json(self) -> dict[str, Any]:
        """The JSON document of this model."""
        return {
            "format": FORMAT, "format_version": FORMAT_VERSION, "name": self.name,
            "version": self.version, "sfreq": self.sfreq, "epoch_s": self.epoch_s,
            "features": self.features, "classes": self.classes,
            "mean": self.mean.tolist(), "scale": self.scale.tolist(), "coef": self.coef.tolist(),
            "intercept": self.intercept.tolist(), "prior": self.prior.tolist(),
            "transition": self.transition.tolist(), "temperature": self.temperature,
            "sub_epoch_s": self.sub_epoch_s, "input_sfreq": self.input_sfreq,
            "expert": self.expert, "meta": self.meta,
        }


#: Sources recorded below this rate (Hz) get the band-limited variant of the default model.
LOWRATE_BELOW_HZ = 100.0
#: The band-limited default variant (trained on recordings brought down to 50 Hz).
LOWRATE_MODEL = DEFAULT_MODEL.parent / "stager_lowrate.json"


def shipped_model_for(sfreq: float) -> Path:
    """The shipped real-EEG model for a source sampling rate.

    A 50-Hz recording has nothing above 25 Hz, so its relative powers and spectral shape
    differ from those of the 100–200 Hz recordings the default model mostly saw; below
    :data:`LOWRATE_BELOW_HZ` the stager uses the variant trained on every recording brought
    down to 50 Hz (DREAMS excerpt 3, leave-one-out: κ 0.03 → 0.16).
    """
    if sfreq < LOWRATE_BELOW_HZ and LOWRATE_MODEL.is_file():
        return LOWRATE_MODEL
    return DEFAULT_MODEL


def resolve_model_path(path: str | Path | None) -> Path:
    """``None``/'' → the default model; a bare shipped name (``"synthetic"``) →
    ``firmware_host/models/stager_<name>.json``; anything else is a file path."""
    if not path:
        return DEFAULT_MODEL
    p = Path(path)
    shipped = DEFAULT_MODEL.parent / f"stager_{path}.json"
    if p.suffix == "" and len(p.parts) == 1 and shipped.is_file():
        return shipped
    return p


def save_model(model: StagerModel, path: str | Path) -> None:
    """Write a model as JSON."""
    Path(path).write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")


def load_model(path: str | Path | None = None) -> StagerModel:
    """Load and validate a model file (``None`` or ``""`` = the shipped default).

    Raises
    ------
    ModelFormatError
        File missing/unreadable, not a stager model, another ``format_version``, or
        inconsistent array shapes / unknown feature names.
    """
    p = resolve_model_path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelFormatError(f"stager model {p}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ModelFormatError(f"stager model {p}: not a model file (not UTF-8 JSON)") from None
    except (ValueError, RecursionError) as exc:  # bad JSON, over-long integers
        raise ModelFormatError(f"stager model {p}: not valid JSON ({str(exc)[:200]})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelFormatError(f"stager model {p}: not a '{FORMAT}' file")
    if doc.get("format_version") not in SUPPORTED_FORMAT_VERSIONS:
        raise ModelFormatError(
            f"stager model {p}: format_version {doc.get('format_version')!r} is not supported; "
            f"this somnoloop reads format_version {list(SUPPORTED_FORMAT_VERSIONS)} (re-export "
            "the model with tools/train_stager.py)"
        )
    try:
        m = StagerModel(
            name=str(doc["name"]), version=str(doc["version"]), sfreq=float(doc["sfreq"]),
            epoch_s=float(doc["epoch_s"]),
            features={k: list(v) for k, v in doc["features"].items()},
            classes=list(doc["classes"]), mean=np.asarray(doc["mean"], float),
            scale=np.asarray(doc["scale"], float), coef=np.asarray(doc["coef"], float),
            intercept=np.asarray(doc["intercept"], float), prior=np.asarray(doc["prior"], float),
            transition=np.asarray(doc["transition"], float),
            temperature=float(doc.get("temperature", 1.0)), meta=dict(doc.get("meta", {})),
            sub_epoch_s=float(doc.get("sub_epoch_s", 0.0)),
            input_sfreq=float(doc.get("input_sfreq", 0.0)),
            expert=dict(doc.get("expert") or {}),
        )
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as exc:
        raise ModelFormatError(f"stager model {p}: missing or bad field ({str(exc)[:200]})") from None
    _validate(m, p)
    return m


def _validate(m: StagerModel, p: Path) -> None:
    arrays = (m.mean, m.scale, m.coef, m.intercept, m.prior, m.transition)
    numbers = (m.sfreq, m.epoch_s, m.temperature, m.sub_epoch_s, m.input_sfreq)
    if not all(np.all(np.isfinite(a)) for a in arrays) or not np.all(np.isfinite(numbers)):
        raise ModelFormatError(f"stager model {p}: every weight and number must be finite (no "
                               "NaN or infinity)")
    if m.sfreq <= 0 or m.epoch_s <= 0 or np.any(m.transition < 0):
        raise ModelFormatError(f"stager model {p}: sfreq and epoch_s must be > 0 and transitions "
                               ">= 0")
    strings = [*m.classes, *(n for names in m.features.values() for n in names)]
    absent = m.meta.get("absent_classes", [])
    if not all(isinstance(v, str) for v in strings) or len(set(m.classes)) != len(m.classes) \
            or not isinstance(absent, list) or not all(isinstance(c, str) for c in absent):
        raise ModelFormatError(f"stager model {p}: classes, feature names and "
                               "meta.absent_classes must be distinct strings")
    known = set(feature_names())
    unknown = [n for names in m.features.values() for n in names if n not in known]
    bad_roles = sorted(set(m.features) - {"eeg", "eog", "emg"})
    if unknown or bad_roles or not m.features.get("eeg"):
        raise ModelFormatError(
            f"stager model {p}: needs 'eeg' features; unknown roles {bad_roles}, "
            f"unknown features {unknown}"
        )
    n_f = sum(len(v) for v in m.features.values())
    k = len(m.classes)
    shapes = {"mean": (m.mean.shape, (n_f,)), "scale": (m.scale.shape, (n_f,)),
              "coef": (m.coef.shape, (k, n_f)), "intercept": (m.intercept.shape, (k,)),
              "prior": (m.prior.shape, (k,)), "transition": (m.transition.shape, (k, k))}
    for name, (got, want) in shapes.items():
        if got != want:
            raise ModelFormatError(f"stager model {p}: {name} has shape {got}, expected {want}")
    if np.any(m.scale <= 0) or np.any(m.prior <= 0) or m.temperature <= 0:
        raise ModelFormatError(f"stager model {p}: scale, prior and temperature must be > 0")
    if m.sub_epoch_s < 0 or (m.sub_epoch_s > 0 and (
            abs(m.n_sub * m.sub_epoch_s - m.epoch_s) > 1e-9 or m.sub_epoch_s * m.sfreq < 64)):
        raise ModelFormatError(
            f"stager model {p}: sub_epoch_s {m.sub_epoch_s} must be 0 (whole epoch) or divide "
            f"epoch_s {m.epoch_s} into windows of at least 64 samples at {m.sfreq} Hz")
    if m.input_sfreq < 0 or (0 < m.input_sfreq < 40):
        raise ModelFormatError(f"stager model {p}: input_sfreq {m.input_sfreq} must be 0 (as "
                               "recorded) or at least 40 Hz")


def hmm_view(model: StagerModel, expert_active: bool) -> StagerModel:
    """The model with the prior and transitions its HMM should use.

    Stages the classifier never saw in training (``meta["absent_classes"]``, e.g. REM for a
    DREAMS-trained model) have no evidence of their own. Without an expert the HMM is kept out
    of them (with uninformative emissions a sticky stage would otherwise trap the filter):
    their transition columns are set to 1e-6. With an expert they do have evidence (the
    expert's), so the transitions stay as learnt and their prior becomes their long-run share
    under those transitions (the stationary distribution), instead of the classifier's floor.
    """
    absent = [model.classes.index(c) for c in model.meta.get("absent_classes", [])
              if c in model.classes]
    if not absent:
        return model
    t = np.array(model.transition, dtype=float)
    prior = np.array(model.prior, dtype=float)
    if expert_active:
        vals, vecs = np.linalg.eig(t.T)
        pi = np.abs(np.real(vecs[:, np.argmin(np.abs(vals - 1.0))]))
        pi /= pi.sum()
        share = np.maximum(pi[absent], 1e-6)
        present = [i for i in range(len(prior)) if i not in absent]
        prior = prior / prior[present].sum() * (1.0 - share.sum())
        prior[absent] = share
    else:
        t[:, absent] = 1e-6
        t /= t.sum(axis=1, keepdims=True)
    return replace(model, prior=prior, transition=t)


def pool_sub_epochs(post: np.ndarray) -> np.ndarray:
    """Epoch posteriors from the posteriors of its sub-epoch windows.

    The normalised geometric mean (mean log-probability) of the windows: each window is
    scored as if it were alone, and an epoch is the stage its windows agree on best.

    Parameters
    ----------
    post
        ``(..., n_sub, k)`` window posteriors.

    Returns
    -------
    numpy.ndarray
        ``(..., k)`` epoch posteriors (rows sum to 1). ``n_sub == 1`` returns the input row.
    """
    post = np.asarray(post, dtype=np.float64)
    if post.shape[-2] == 1:
        return post[..., 0, :]
    lp = np.log(np.maximum(post, 1e-300)).mean(axis=-2)
    lp -= lp.max(axis=-1, keepdims=True)
    q = np.exp(lp)
    return q / q.sum(axis=-1, keepdims=True)
