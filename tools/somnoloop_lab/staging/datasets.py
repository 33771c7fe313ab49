"""Labelled recordings for evaluation and training: DREAMS text layout, EDF + hypnogram.

Every loader returns :class:`Recording` objects: channel data in µV, the sampling rate,
and the expert stages as one AASM label per 30-s epoch (``W N1 N2 N3 REM`` or ``"?"`` for
movement/unknown epochs, which evaluation skips).
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

#: R&K code (DREAMS hypnograms) → AASM label; S3 and S4 merge into N3.
RK_TO_AASM: dict[int, str] = {5: "W", 4: "REM", 3: "N1", 2: "N2", 1: "N3", 0: "N3"}
#: DREAMS excerpt sampling rates (Hz), from the database README.
DREAMS_SFREQ: dict[int, float] = {1: 100.0, 2: 200.0, 3: 50.0, 4: 200.0, 5: 200.0, 6: 200.0,
                                  7: 200.0, 8: 200.0}


@dataclass
class Recording:
    """One labelled recording.

    Parameters
    ----------
    name
        Identifier (e.g. ``"dreams-1"``), also the subject for leave-one-out splits.
    data
        ``(n_channels, n_samples)`` float64 µV.
    sfreq
        Sampling rate in Hz.
    channel_names, channel_types
        Per row of ``data``.
    stages
        One AASM label per 30-s epoch starting at sample 0 (``"?"`` = not scored).
    subject
        Subject identifier for leave-subject-out splits.
    fine_stages, fine_s
        The expert's own finer labels when the scoring is finer than 30 s (DREAMS: one R&K
        label per 5 s mapped to AASM names, ``fine_s = 5``); empty when not available. Used
        to label sub-epoch training windows.
    """

    name: str
    data: np.ndarray
    sfreq: float
    channel_names: tuple[str, ...]
    channel_types: tuple[str, ...]
    stages: list[str] = field(default_factory=list)
    subject: str = ""
    fine_stages: list[str] = field(default_factory=list)
    fine_s: float = 0.0


def majority_epochs(labels: list[str], per_epoch: int) -> list[str]:
    """Collapse short labels into epochs by majority vote (ties: the first-reached label).

    Parameters
    ----------
    labels
        Labels of consecutive sub-epochs (e.g. 5-s R&K → AASM names).
    per_epoch
        Sub-epochs per epoch (6 for 5-s labels in 30-s epochs).
    """
    out = []
    for j in range(len(labels) // per_epoch):
        chunk = labels[j * per_epoch : (j + 1) * per_epoch]
        counts = Counter(chunk)
        best = max(counts.values())
        out.append(next(lab for lab in chunk if counts[lab] == best))
    return out


def read_dreams_hypnogram(path: str | Path) -> list[str]:
    """5-s R&K hypnogram file → AASM label per 5 s (movement/unknown → ``"?"``)."""
    lines = Path(path).read_text().split()
    if not lines or not lines[0].startswith("["):
        raise ValueError(f"{path}: not a DREAMS hypnogram (first line should be '[Hypnogram]')")
    return [RK_TO_AASM.get(int(v), "?") for v in lines[1:]]


def load_dreams_excerpt(root: str | Path, k: int) -> Recording:
    """Load DREAMS spindle excerpt ``k`` (its central EEG channel and 30-s stages).

    Parameters
    ----------
    root
        Folder with ``excerptK.txt`` and ``Hypnogram_excerptK.txt``.
    k
        Excerpt number (1–8).
    """
    root = Path(root)
    if k not in DREAMS_SFREQ:
        raise ValueError(f"DREAMS excerpt {k} does not exist; allowed: 1..8")
    f = root / f"excerpt{k}.txt"
    h = root / f"Hypnogram_excerpt{k}.txt"
    for p in (f, h):
        if not p.is_file():
            raise FileNotFoundError(f"DREAMS file missing: {p}")
    sfreq = DREAMS_SFREQ[k]
    with f.open() as fh:
        chan = fh.readline().strip().strip("[]")
        # only the first 30 min (excerpt 6 has stray lines after them)
        x = np.loadtxt(fh, max_rows=int(sfreq * 1800), dtype=np.float64)
    labels5 = read_dreams_hypnogram(h)
    stages = majority_epochs(labels5, 6)
    return Recording(name=f"dreams-{k}", data=x[None, :], sfreq=sfreq, channel_names=(chan,),
                     channel_types=("eeg",), stages=stages, subject=f"dreams-{k}",
                     fine_stages=labels5, fine_s=5.0)


def _to_microvolts(raw, name: str) -> float:  # noqa: ANN001
    """Factor from MNE's returned values to µV for one channel.

    MNE multiplies a channel by a unit factor (1e-6 for a recognised µV, 1e-3 for mV) and
    returns volts; a unit it does not recognise (e.g. DREAMS' ``UV``) gets factor 1 and is
    returned as written in the file, which we take as µV. ``_orig_units`` cannot tell the
    two apart (it reports µV for both), so the factor itself is read.
    """
    try:
        factor = float(raw._raw_extras[0]["units"][raw.ch_names.index(name)])
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        return 1e6
    if factor == 1.0:
        unit = (getattr(raw, "_orig_units", {}) or {}).get(name, "")
        return 1e6 if unit == "V" else 1.0
    return 1e6


HYPNOGRAM_ALLOWED = ("allowed: an annotation file (EDF+, or MNE's CSV/TXT) with "
                     "'Sleep stage W/1/2/3/4/R' or W/N1/N2/N3/REM descriptions")


def read_hypnogram_annotations(path: str, epoch_s: float = 30.0) -> list[str]:
    """EDF+ hypnogram (Sleep-EDF style ``Sleep stage W/1/2/3/4/R/?`` annotations) → epochs."""
    import mne

    try:
        with warnings.catch_warnings():  # MNE warns on odd rows before it fails or reads none
            warnings.simplefilter("ignore")
            ann = mne.read_annotations(path)
    except (OSError, ValueError, TypeError, IndexError, KeyError) as exc:
        raise ValueError(f"{path}: not a hypnogram ({type(exc).__name__}: {exc}); {HYPNOGRAM_ALLOWED}"
                         ) from None
    mapping = {"W": "W", "1": "N1", "2": "N2", "3": "N3", "4": "N3", "R": "REM",
               "N1": "N1", "N2": "N2", "N3": "N3", "REM": "REM"}
    out: list[str] = []
    for onset, dur, desc in zip(ann.onset, ann.duration, ann.description, strict=True):
        d = str(desc).replace("Sleep stage ", "").strip()
        lab = mapping.get(d, "?")
        start = int(round(onset / epoch_s))
        n = int(round(dur / epoch_s))
        if len(out) < start:
            out.extend(["?"] * (start - len(out)))
        out[start : start + n] = [lab] * n
    if not any(lab != "?" for lab in out):
        raise ValueError(f"{path}: no sleep-stage annotation in it; {HYPNOGRAM_ALLOWED}")
    return out


def load_edf_recording(path: str | Path, hypnogram: str | Path | None = None, *,
                       eeg: str = "", eog: str = "", emg: str = "",
                       hypnogram_channel: str = "", epoch_s: float = 30.0) -> Recording:
    """An EDF/EDF+ recording (Sleep-EDF PSG, exported sessions, …) with its stages.

    Parameters
    ----------
    path
        The EDF file with the signals.
    hypnogram
        EDF+ file with ``Sleep stage …`` annotations (Sleep-EDF ``*-Hypnogram.edf``);
        ``None`` = use stage annotations inside ``path`` if any.
    eeg, eog, emg
        Channel names ('' for EEG = the first channel; '' for EOG/EMG = not used).
    hypnogram_channel
        A signal channel holding R&K stage codes (5 W, 4 REM, 3 S1, 2 S2, 1 S3, 0 S4), as in
        the DREAMS PSG files; read once per second, majority per epoch. Used when no
        ``hypnogram`` file is given.
    epoch_s
        Epoch length of the stages.

    Notes
    -----
    Values come back in µV. MNE scales recognised units (uV, mV) to volts; a unit it does
    not recognise (e.g. DREAMS' ``UV``) is returned unscaled and is taken as µV already.
    """
    import mne

    from firmware_host.sources.replay import edf_truncation

    damage = edf_truncation(Path(path))
    if damage:
        raise ValueError(f"{path}: {damage}; allowed: a complete EDF/EDF+ file")
    try:
        raw = mne.io.read_raw_edf(str(path), preload=False, verbose="error")
    except (OSError, ValueError, NotImplementedError, IndexError, KeyError) as exc:
        raise ValueError(f"{path}: not a readable EDF/EDF+ file ({type(exc).__name__}: {exc})") from None
    names = list(raw.ch_names)
    wanted = [(eeg or names[0], "eeg")] + [(n, t) for n, t in ((eog, "eog"), (emg, "emg")) if n]
    missing = [n for n, _ in wanted if n not in names]
    if missing:
        raise ValueError(f"{path}: channels {missing} not found; available: {names}")
    picks = [n for n, _ in wanted]
    sfreqs = {raw.info["sfreq"]}
    data = raw.get_data(picks=picks)
    for i, n in enumerate(picks):
        data[i] *= _to_microvolts(raw, n)
    stages: list[str] = []
    if hypnogram:
        stages = read_hypnogram_annotations(str(hypnogram), epoch_s)
    elif hypnogram_channel:
        if hypnogram_channel not in names:
            raise ValueError(f"{path}: hypnogram channel {hypnogram_channel!r} not found; "
                             f"available: {names}")
        codes = raw.get_data(picks=[hypnogram_channel])[0]
        step = int(round(raw.info["sfreq"]))
        per_s = [RK_TO_AASM.get(int(round(v)), "?") for v in codes[::step]]
        stages = majority_epochs(per_s, int(round(epoch_s)))
    elif any("Sleep stage" in d for d in raw.annotations.description):
        stages = read_hypnogram_annotations(str(path), epoch_s)
    # Sleep-EDF hypnograms start at the recording start; trim to the signal length
    n_ep = int(data.shape[1] // (epoch_s * raw.info["sfreq"]))
    stages = (stages + ["?"] * n_ep)[:n_ep] if stages else []
    return Recording(name=Path(path).stem, data=np.ascontiguousarray(data),
                     sfreq=float(sfreqs.pop()), channel_names=tuple(picks),
                     channel_types=tuple(t for _, t in wanted), stages=stages,
                     subject=Path(path).stem[:5])


def trim_to_sleep(rec: Recording, wake_epochs: int = 60, epoch_s: float = 30.0) -> Recording:
    """The recording from ``wake_epochs`` before its first sleep epoch to as many after its last.

    Sleep-EDF recordings run for about a day with a hypnogram scored throughout; the usual
    whole-night evaluation keeps 30 min (60 epochs) of wake on either side of sleep. The
    start then plays lights-off for a causal stager. A recording without sleep is returned
    unchanged.
    """
    sleep = [i for i, s in enumerate(rec.stages) if s in ("N1", "N2", "N3", "REM")]
    if not sleep:
        return rec
    a = max(sleep[0] - wake_epochs, 0)
    b = min(sleep[-1] + wake_epochs + 1, len(rec.stages))
    n = int(round(epoch_s * rec.sfreq))
    return replace(rec, data=np.ascontiguousarray(rec.data[:, a * n : b * n]),
                   stages=list(rec.stages[a:b]), fine_stages=[], fine_s=0.0)


def find_sleep_edf_pairs(folder: str | Path) -> list[tuple[Path, Path]]:
    """PSG / hypnogram pairs in a Sleep-EDF folder (``mne.datasets.sleep_physionet`` layout).

    ``SC4ssNE0-PSG.edf`` pairs with ``SC4ssN??-Hypnogram.edf`` (same first six characters:
    study, subject ``ss``, night ``N``); ST* telemetry files likewise. Unpaired files are
    skipped. Sorted by name.
    """
    folder = Path(folder)
    hyps = {h.name[:6]: h for h in folder.glob("*-Hypnogram.edf")}
    pairs = []
    for psg in sorted(folder.glob("*-PSG.edf")):
        hyp = hyps.get(psg.name[:6])
        if hyp is not None:
            pairs.append((psg, hyp))
    return pairs
