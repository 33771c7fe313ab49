"""Load expert hypnograms into one AASM stage per epoch.

Supported files
---------------
* **EDF+ annotations** (e.g. Sleep-EDF ``*-Hypnogram.edf``), read with
  :func:`mne.read_annotations`: ``Sleep stage W/1/2/3/4/R``; stages 3 and 4 merge into N3.
* **DREAMS** ``Hypnogram_excerptN.txt``: first line ``[Hypnogram]``, then one R&K code per
  5 s (5=W, 4=REM, 3=S1, 2=S2, 1=S3, 0=S4, -1=movement, -2/-3=unknown).
* **Plain text**: one stage per line (``W N1 N2 N3 REM``; ``R``, ``S1``–``S4`` and ``N4``
  accepted; ``?`` = unscored; blank lines and ``#`` comments ignored), each line lasting
  ``entry_s`` seconds.

Choices for labels that are not a sleep stage
---------------------------------------------
* Movement time (``Sleep stage Movement time``, DREAMS ``-1``) becomes ``W``: a body movement
  big enough to obscure the epoch is an arousal, and the conservative label for a
  closed-loop controller is "awake" (it suppresses stimulation).
* Unscored (``?``, DREAMS ``-2``/``-3``) epochs are removed at the start and the end and,
  inside the night, take the previous epoch's stage.

Entries are aggregated to ``epoch_s`` by a duration-weighted majority vote; a tie goes to the
stage listed first in :data:`STAGES` (``W, N1, N2, N3, REM``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from firmware_host.vocabulary import STAGES

EDF_LABELS = {
    "Sleep stage W": "W",
    "Sleep stage 1": "N1",
    "Sleep stage 2": "N2",
    "Sleep stage 3": "N3",
    "Sleep stage 4": "N3",
    "Sleep stage R": "REM",
    "Sleep stage Movement time": "W",
    "Movement time": "W",
    "Sleep stage ?": None,
}
DREAMS_CODES = {5: "W", 4: "REM", 3: "N1", 2: "N2", 1: "N3", 0: "N3", -1: "W", -2: None, -3: None}
TEXT_LABELS = {
    "W": "W", "WAKE": "W", "N1": "N1", "S1": "N1", "N2": "N2", "S2": "N2", "N3": "N3",
    "S3": "N3", "S4": "N3", "N4": "N3", "REM": "REM", "R": "REM", "?": None, "UNSCORED": None,
}
DREAMS_ENTRY_S = 5.0
#: Longest span of stages a hypnogram may cover (s): a week.
MAX_SPAN_S = 7 * 24 * 3600.0


class HypnogramError(ValueError):
    """A hypnogram file could not be read; the message names the file, line and allowed labels."""


def load_hypnogram(
    path: str | Path,
    epoch_s: float = 30.0,
    *,
    entry_s: float | None = None,
    max_edge_wake_s: float | None = None,
) -> list[str]:
    """Read a hypnogram file as one stage of :data:`STAGES` per ``epoch_s`` seconds.

    Parameters
    ----------
    path
        EDF+ annotation file, DREAMS ``Hypnogram_*.txt`` or a plain text file.
    epoch_s
        Length of each returned epoch.
    entry_s
        Seconds per line of a plain text file (default ``epoch_s``); ignored otherwise.
    max_edge_wake_s
        Keep at most this much wake before the first and after the last sleep epoch (whole-day
        Sleep-EDF recordings start and end with hours of wake); ``None`` keeps everything.

    Raises
    ------
    HypnogramError
        Missing file, unknown label or nothing scored.
    """
    path = Path(path)
    if epoch_s <= 0:
        raise HypnogramError(f"epoch_s must be > 0, got {epoch_s}")
    if not path.is_file():
        raise HypnogramError(f"hypnogram file {str(path)!r} does not exist")
    with path.open("rb") as fh:
        head = fh.read(256)
    if path.suffix.lower() in (".edf", ".bdf") or head.startswith(b"0       "):
        spans = _edf_spans(path)
    else:
        text = path.read_text(encoding="utf-8", errors="replace")
        lines = text.splitlines()
        if lines and lines[0].strip().lower() == "[hypnogram]":
            spans = _dreams_spans(path, lines[1:])
        else:
            spans = _text_spans(path, lines, entry_s or epoch_s)
    span_s = max((e for _, e, _ in spans), default=0.0) - min((b for b, _, _ in spans), default=0.0)
    if not span_s <= MAX_SPAN_S:
        raise HypnogramError(f"{path}: the stages span {span_s:g} s; a hypnogram covers at most "
                             f"{MAX_SPAN_S:g} s (a week)")
    stages = _aggregate(spans, epoch_s)
    stages = _fill_unscored(stages)
    if not stages:
        raise HypnogramError(f"{path}: no scored sleep stage found")
    if max_edge_wake_s is not None:
        stages = _trim_wake(stages, int(max_edge_wake_s // epoch_s))
    return stages


def _edf_spans(path: Path) -> list[tuple[float, float, str | None]]:
    import mne

    try:
        ann = mne.read_annotations(path)
    except Exception as exc:  # MNE raises several types for bad files
        raise HypnogramError(f"{path}: cannot read EDF+ annotations ({exc})") from None
    spans = []
    for onset, duration, desc in zip(ann.onset, ann.duration, ann.description, strict=True):
        if desc not in EDF_LABELS:
            if desc.startswith("Sleep stage"):
                raise HypnogramError(
                    f"{path}: unknown stage annotation {desc!r}; known: {sorted(EDF_LABELS)}"
                )
            continue  # lights off, arousals... are not stages
        spans.append((float(onset), float(onset + duration), EDF_LABELS[desc]))
    return spans


def _dreams_spans(path: Path, lines: Sequence[str]) -> list[tuple[float, float, str | None]]:
    spans = []
    for i, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        try:
            code = int(float(line.strip()))
            stage = DREAMS_CODES[code]
        except (ValueError, KeyError, OverflowError):  # OverflowError: "inf"
            raise HypnogramError(
                f"{path}:{i}: bad DREAMS code {line.strip()!r}; allowed: {sorted(DREAMS_CODES)}"
            ) from None
        k = len(spans)
        spans.append((k * DREAMS_ENTRY_S, (k + 1) * DREAMS_ENTRY_S, stage))
    return spans


def _text_spans(path: Path, lines: Sequence[str], entry_s: float) -> list[tuple[float, float, str | None]]:
    spans = []
    for i, line in enumerate(lines, start=1):
        label = line.split("#", 1)[0].strip().upper()
        if not label:
            continue
        if label not in TEXT_LABELS:
            raise HypnogramError(
                f"{path}:{i}: unknown stage {line.strip()!r}; allowed: {sorted(TEXT_LABELS)}"
            )
        k = len(spans)
        spans.append((k * entry_s, (k + 1) * entry_s, TEXT_LABELS[label]))
    return spans


def _aggregate(spans: list[tuple[float, float, str | None]], epoch_s: float) -> list[str | None]:
    """Duration-weighted majority of the scored labels overlapping each epoch."""
    if not spans:
        return []
    start = min(s for s, _, _ in spans)
    end = max(e for _, e, _ in spans)
    n = int(np.ceil((end - start) / epoch_s - 1e-9))
    votes = np.zeros((n, len(STAGES)))
    for s, e, stage in spans:
        if stage is None or e <= s:
            continue
        col = STAGES.index(stage)
        first, last = int((s - start) // epoch_s), int(np.ceil((e - start) / epoch_s - 1e-9))
        for j in range(first, min(last, n)):
            lo, hi = start + j * epoch_s, start + (j + 1) * epoch_s
            votes[j, col] += max(0.0, min(e, hi) - max(s, lo))
    return [STAGES[int(np.argmax(v))] if v.max() > 0 else None for v in votes]


def _fill_unscored(stages: list[str | None]) -> list[str]:
    known = [i for i, s in enumerate(stages) if s is not None]
    if not known:
        return []
    out: list[str] = []
    for s in stages[known[0]:known[-1] + 1]:
        out.append(s if s is not None else out[-1])
    return out


def _trim_wake(stages: list[str], keep: int) -> list[str]:
    asleep = [i for i, s in enumerate(stages) if s != "W"]
    if not asleep:
        return stages
    return stages[max(0, asleep[0] - keep):asleep[-1] + 1 + keep]
