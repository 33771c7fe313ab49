"""Loader for the 3DC forearm-EMG data set (10 channels, 1 kHz, 11 classes, train/test split).

Layout: ``ROOT/Participant{p}/{train,test}/EMG/3dc_EMG_gesture_{rep}_{class}.txt``, headerless
CSV, one row per sample, one column per channel, integer ADC counts with DC offsets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Class index → grip/gesture name (3DC README order).
CLASSES_3DC: tuple[str, ...] = (
    "rest",
    "radial_deviation",
    "wrist_flexion",
    "ulnar_deviation",
    "wrist_extension",
    "supination",
    "pronation",
    "power",
    "open",
    "tripod",
    "pinch",
)
SFREQ_3DC = 1000.0
N_CHANNELS_3DC = 10
_NAME = re.compile(r"3dc_EMG_gesture_(\d+)_(\d+)\.txt$")


@dataclass(frozen=True)
class Recording:
    """One gesture repetition: ``data`` is ``(n_channels, n_samples)`` float64 counts."""

    participant: int
    split: str
    rep: int
    label: int
    data: np.ndarray


def default_root() -> Path:
    """``$SOMNOLOOP_DATA/emg/3dc`` or ``<repo>/../shared/data/emg/3dc``."""
    import os

    env = os.environ.get("SOMNOLOOP_DATA")
    base = Path(env) if env else Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
    return (base / "emg" / "3dc").resolve()


def list_participants(root: str | Path) -> list[int]:
    """Participant numbers present under ``root`` (sorted)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"3DC root {root} is not a directory")
    out = []
    for p in root.iterdir():
        m = re.fullmatch(r"Participant(\d+)", p.name)
        if m and p.is_dir():
            out.append(int(m.group(1)))
    return sorted(out)


def _read_txt(path: Path) -> np.ndarray:
    try:
        import pandas as pd  # fast CSV parser when present (dev machines)

        arr = pd.read_csv(path, header=None, dtype=np.float64).to_numpy()
    except ImportError:  # pragma: no cover - the device has no pandas
        arr = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    if arr.ndim != 2 or arr.shape[1] != N_CHANNELS_3DC:
        raise ValueError(f"{path}: expected {N_CHANNELS_3DC} columns, got shape {arr.shape}")
    return np.ascontiguousarray(arr.T)


def load_participant(root: str | Path, participant: int, split: str) -> list[Recording]:
    """All recordings of one participant and split (``"train"`` or ``"test"``).

    Raises
    ------
    FileNotFoundError
        When the participant's folder is missing.
    ValueError
        For a bad split name or a malformed file.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folder = Path(root) / f"Participant{participant}" / split / "EMG"
    if not folder.is_dir():
        raise FileNotFoundError(f"3DC participant {participant}: no folder {folder}")
    recs = []
    for f in sorted(folder.iterdir()):
        m = _NAME.match(f.name)
        if not m:
            continue
        rep, label = int(m.group(1)), int(m.group(2))
        if not 0 <= label < len(CLASSES_3DC):
            raise ValueError(f"{f}: class {label} outside 0..{len(CLASSES_3DC) - 1}")
        recs.append(Recording(participant, split, rep, label, _read_txt(f)))
    if not recs:
        raise FileNotFoundError(f"3DC participant {participant}: no gesture files in {folder}")
    recs.sort(key=lambda r: (r.rep, r.label))
    return recs
