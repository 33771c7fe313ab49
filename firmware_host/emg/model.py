"""The per-user EMG grip model: front end settings, standardisation, classifier layers,
force scaling; saved as a versioned ``.npz`` file (no pickle) that the device loads.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dsp.classify import Layer, check_layers, forward, softmax
from dsp.emg_features import feature_index
from firmware_host.npz import read_npz

#: Version of the model file layout; bump when the layout or feature maths changes.
MODEL_FORMAT_VERSION = 1
_MAGIC = "somnoloop-emg-model"


class ModelFileError(ValueError):
    """A model file is missing, corrupt, or of an unsupported format version."""


@dataclass
class EmgModel:
    """Everything needed to turn raw forearm EMG into grip probabilities and force.

    Parameters
    ----------
    classes
        Class names, index = classifier output.
    channel_names
        Channels the model was trained on, in order.
    sfreq
        Sampling rate in Hz.
    window, increment
        Window and step in samples.
    highpass_hz
        Cut-off of the causal high-pass applied before the features.
    feature_names
        Per-channel features (from :data:`dsp.emg_features.FEATURE_NAMES`) the classifier uses.
    thresholds
        ``(zc, ssc, wamp)`` thresholds of the feature kernels.
    mean, scale
        Standardisation of the selected features.
    layers
        Dense layers ``[(W, b, activation), …]`` giving class scores.
    rest_level, mvc_level
        Mean MAV over channels at rest and at maximum voluntary contraction (force scale).
    name
        Model name stamped into decisions.
    meta
        JSON-serialisable extras (cross-validated accuracy, creation time, …).
    """

    classes: tuple[str, ...]
    channel_names: tuple[str, ...]
    sfreq: float
    window: int
    increment: int
    highpass_hz: float
    feature_names: tuple[str, ...]
    thresholds: tuple[float, float, float]
    mean: np.ndarray
    scale: np.ndarray
    layers: list[Layer]
    rest_level: float = 0.0
    mvc_level: float = 1.0
    name: str = "emg-lda"
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._idx = feature_index(len(self.channel_names), self.feature_names)
        self._mav_idx = feature_index(len(self.channel_names), ("MAV",))
        check_layers(self.layers)
        n_in = self.layers[0][0].shape[0]
        if self._idx.shape[0] != n_in or self.mean.shape != (n_in,) or self.scale.shape != (n_in,):
            raise ValueError(
                f"model expects {self._idx.shape[0]} features; layer input {n_in}, "
                f"mean {self.mean.shape}, scale {self.scale.shape}"
            )
        if self.layers[-1][0].shape[1] != len(self.classes):
            raise ValueError(
                f"last layer gives {self.layers[-1][0].shape[1]} scores for {len(self.classes)} classes"
            )

    @property
    def version(self) -> str:
        """Model version: format version and a digest of what the model computes.

        The same weights, front end and thresholds give the same version whenever they were
        trained (the creation time stays in ``meta["created"]``), so a run that calibrates
        the same model again stamps the same version into its decisions.
        """
        h = hashlib.sha256()
        for part in (self.mean, self.scale, *(p for layer in self.layers for p in layer)):
            if isinstance(part, np.ndarray):
                h.update(np.ascontiguousarray(part, dtype=np.float64).tobytes())
            else:
                h.update(repr(part).encode())
        h.update(repr((self.classes, self.channel_names, self.sfreq, self.window, self.increment,
                       self.highpass_hz, self.feature_names, self.thresholds, self.rest_level,
                       self.mvc_level)).encode())
        return f"v{MODEL_FORMAT_VERSION}-{h.hexdigest()[:12]}"

    @property
    def tag(self) -> str:
        """``name@version`` as stamped into decisions."""
        return f"{self.name}@{self.version}"

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities of full feature vectors ``(n, n_all)`` or ``(n_all,)``."""
        f = np.atleast_2d(features)[:, self._idx]
        return softmax(forward((f - self.mean) / self.scale, self.layers))

    def force(self, features: np.ndarray) -> np.ndarray:
        """Proportional output 0..1 from the mean MAV over channels of each window."""
        mav = np.atleast_2d(features)[:, self._mav_idx].mean(axis=1)
        span = max(self.mvc_level - self.rest_level, 1e-12)
        return np.clip((mav - self.rest_level) / span, 0.0, 1.0)


def save_model(model: EmgModel, path: str | Path) -> Path:
    """Write ``model`` to ``path`` (``.npz``; written to a temp file then renamed)."""
    path = Path(path)
    header = {
        "magic": _MAGIC,
        "format_version": MODEL_FORMAT_VERSION,
        "classes": list(model.classes),
        "channel_names": list(model.channel_names),
        "sfreq": model.sfreq,
        "window": model.window,
        "increment": model.increment,
        "highpass_hz": model.highpass_hz,
        "feature_names": list(model.feature_names),
        "thresholds": list(model.thresholds),
        "activations": [act for _, _, act in model.layers],
        "rest_level": model.rest_level,
        "mvc_level": model.mvc_level,
        "name": model.name,
        "meta": model.meta,
    }
    arrays = {"mean": model.mean, "scale": model.scale}
    for i, (w, b, _) in enumerate(model.layers):
        arrays[f"W{i}"] = w
        arrays[f"b{i}"] = b
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        np.savez(fh, header=np.array(json.dumps(header)), **arrays)
    tmp.replace(path)
    return path


def load_model(path: str | Path) -> EmgModel:
    """Read a model file written by :func:`save_model`.

    Raises
    ------
    ModelFileError
        Missing file, not a model file, corrupt content, or another format version.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"EMG model file {path} does not exist")
    try:
        arrays = read_npz(path)
        header = json.loads(str(arrays.pop("header")))
    except KeyError:
        raise ModelFileError(f"{path} is not a somnoloop EMG model file (no header)") from None
    except (ValueError, RecursionError) as exc:  # NpzError, JSON errors, over-long integers
        raise ModelFileError(f"EMG model file {path} is corrupt or not a model file: "
                             f"{str(exc)[:200]}") from None
    if not isinstance(header, dict) or header.get("magic") != _MAGIC:
        raise ModelFileError(f"{path} is not a somnoloop EMG model file")
    version = header.get("format_version")
    if version != MODEL_FORMAT_VERSION:
        raise ModelFileError(
            f"EMG model file {path} has format version {version}; this somnoloop reads version "
            f"{MODEL_FORMAT_VERSION}: recalibrate with 'somnoloop calibrate-emg'"
        )
    try:
        return _model_from(header, arrays)
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise ModelFileError(f"EMG model file {path} is corrupt: {str(exc)[:300]}") from None


def _model_from(header: dict[str, Any], arrays: dict[str, np.ndarray]) -> EmgModel:
    """The model a file's header and arrays describe; ValueError/KeyError/TypeError naming the problem."""
    activations = list(header["activations"])
    wanted = {"mean", "scale"} | {f"{p}{i}" for i in range(len(activations)) for p in "Wb"}
    if set(arrays) != wanted:
        raise ValueError(f"arrays {sorted(arrays)}; expected {sorted(wanted)}")
    bad = [k for k, a in arrays.items() if a.dtype.kind not in "biuf" or not np.all(np.isfinite(a))]
    if bad:
        raise ValueError(f"arrays {sorted(bad)} must be real and finite")
    arrays = {k: a.astype(np.float64) for k, a in arrays.items()}
    if np.any(arrays["scale"] <= 0):
        raise ValueError("scale must be > 0")
    numbers = {k: float(header[k]) for k in ("sfreq", "highpass_hz", "rest_level", "mvc_level")}
    thresholds = tuple(float(t) for t in header["thresholds"])
    window, increment = int(header["window"]), int(header["increment"])
    if not all(np.isfinite([*numbers.values(), *thresholds])) or len(thresholds) != 3:
        raise ValueError("sfreq, highpass_hz, rest_level, mvc_level and 3 thresholds must be finite")
    if numbers["sfreq"] <= 0 or window <= 0 or increment <= 0:
        raise ValueError(f"need sfreq > 0, window > 0 and increment > 0; got {numbers['sfreq']}, "
                         f"{window}, {increment}")
    names = {k: header[k] for k in ("classes", "channel_names", "feature_names")}
    if not all(isinstance(seq, list) and all(isinstance(v, str) for v in seq)
               for seq in names.values()):
        raise ValueError("classes, channel_names and feature_names must be lists of strings")
    if not isinstance(header.get("meta", {}), dict):
        raise ValueError("meta must be an object")
    return EmgModel(
        **{k: tuple(v) for k, v in names.items()}, **numbers, window=window, increment=increment,
        thresholds=thresholds,  # type: ignore[arg-type]
        mean=arrays["mean"], scale=arrays["scale"],
        layers=[(arrays[f"W{i}"], arrays[f"b{i}"], act) for i, act in enumerate(activations)],
        name=str(header["name"]), meta=dict(header.get("meta", {})),
    )
