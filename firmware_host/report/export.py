"""EDF+ export of a session (edfio) and the hypnogram as CSV in YASA's ``Hypnogram`` layout.

Stage annotations use the Sleep-EDF labels ``Sleep stage W/1/2/3/R`` (``Sleep stage ?`` for
unscored epochs): MNE's Sleep-EDF reader and tutorials and our own replay source map them as
they are, so an exported night opens as a staged night like any Sleep-EDF night and replays
back through somnoloop unchanged. AASM N3 is written
``Sleep stage 3`` (AASM merges R&K 3 and 4; no ``Sleep stage 4`` is ever written).
Runs of equal stages are one annotation, as in Sleep-EDF hypnograms.

Samples missing in a gap are written as 0 µV (EDF+C is continuous) under a
``somnoloop gap`` annotation that spans them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from pathlib import Path

import numpy as np
from edfio import Edf, EdfAnnotation, EdfSignal, Patient, Recording

from firmware_host.errors import UsageError
from firmware_host.report.files import FILE_MODE
from firmware_host.report.metrics import STAGES
from firmware_host.report.night import Night, load_night
from firmware_host.session import Session

#: Our stage → EDF+ annotation text (Sleep-EDF spelling).
EDF_STAGE_LABELS = {"W": "Sleep stage W", "N1": "Sleep stage 1", "N2": "Sleep stage 2",
                    "N3": "Sleep stage 3", "REM": "Sleep stage R"}
UNSCORED_LABEL = "Sleep stage ?"
#: Our stage → YASA's canonical stage names and integer codes (``Hypnogram.as_events``).
YASA_LABELS = {"W": ("WAKE", 0), "N1": ("N1", 1), "N2": ("N2", 2), "N3": ("N3", 3), "REM": ("REM", 4)}
YASA_UNSCORED = ("UNS", -2)
CSV_COLUMNS = ("epoch", "onset", "duration", "value", "description",
               *(YASA_LABELS[s][0] for s in STAGES))
#: Seconds of samples read per call while exporting.
READ_SECONDS = 1800.0


def stage_annotations(night: Night) -> list[EdfAnnotation]:
    """One annotation per run of equal stages (unscored runs as ``Sleep stage ?``)."""
    out: list[EdfAnnotation] = []
    run_start, run_label = 0, None
    labels = [EDF_STAGE_LABELS.get(lab or "", UNSCORED_LABEL) for lab in night.labels]
    for k, lab in enumerate([*labels, None]):
        if lab != run_label:
            if run_label is not None:
                out.append(EdfAnnotation(run_start * night.epoch_s, (k - run_start) * night.epoch_s,
                                         run_label))
            run_start, run_label = k, lab
    return out


def event_annotations(night: Night) -> list[EdfAnnotation]:
    """Interventions, programme actions, alarms, safe states, faults and gaps."""
    out = [EdfAnnotation(g0, dur, f"somnoloop gap: {dur:g} s missing (written as 0 uV)")
           for g0, dur in night.gaps]
    for mk in night.marks:
        text = f"somnoloop {mk.text}".replace("→", "->")
        out.append(EdfAnnotation(max(0.0, min(mk.t_s, night.span_s)), None, text))
    return out


def _physical_ranges(s: Session) -> np.ndarray:
    """``(n_channels, 2)`` rounded-out min/max of every channel over the whole night."""
    lo = np.full(len(s.channel_names), np.inf)
    hi = np.full(len(s.channel_names), -np.inf)
    step = int(READ_SECONDS * s.sfreq)
    for a in range(s.first_sample, s.end_sample, step):
        data, _, _ = s.read(a, a + step)
        if data.shape[1]:
            lo = np.minimum(lo, data.min(axis=1))
            hi = np.maximum(hi, data.max(axis=1))
    lo = np.where(np.isfinite(lo), np.floor(np.minimum(lo, 0.0)), -1.0)
    hi = np.where(np.isfinite(hi), np.ceil(np.maximum(hi, 0.0)), 1.0)
    hi = np.where(hi <= lo, lo + 1.0, hi)
    return np.stack([lo, hi], axis=1)


def export_edf(session_dir: str | Path, path: str | Path, night: Night | None = None) -> Path:
    """Write the session as EDF+ (0600) to ``path``.

    Channels keep their names, in µV, with a physical range of the channel's own
    min/max (rounded out to whole µV, including 0) over the 16-bit digital range.

    Parameters
    ----------
    session_dir
        The session directory.
    path
        EDF+ file to write.
    night
        The night already loaded (loaded here when ``None``).
    """
    s = Session(session_dir)
    if not float(s.sfreq).is_integer():
        raise UsageError(f"EDF+ needs a whole number of samples per 1-s data record; the session's "
                         f"rate is {s.sfreq:g} Hz (allowed: whole-number rates)")
    night = night or load_night(session_dir)
    # whole 1-s data records: a last partial second (< 1 s, only after a killed run) is dropped
    n = (s.end_sample - s.first_sample) // int(s.sfreq) * int(s.sfreq)
    ranges = _physical_ranges(s)
    data = np.zeros((len(s.channel_names), n), dtype=np.float32)
    step = int(READ_SECONDS * s.sfreq)
    for a in range(s.first_sample, s.first_sample + n, step):
        block, idx, _ = s.read(a, min(a + step, s.first_sample + n))
        data[:, idx - s.first_sample] = block
    signals = []
    for i, name in enumerate(s.channel_names):
        signals.append(EdfSignal(data[i].astype(np.float64), s.sfreq, label=name[:16],
                                 transducer_type=f"{s.channel_types[i]} electrode"[:80],
                                 physical_dimension="uV", physical_range=tuple(ranges[i])))
        data[i] = 0.0
    del data
    start = dt.datetime.fromtimestamp(int(night.start_unix))
    pseud = night.header.get("Patient / device", "X")
    code = pseud.replace(" ", "_") if not pseud.startswith("not set") else "X"
    edf = Edf(signals, patient=Patient(code=code[:40]),
              recording=Recording(startdate=start.date(), equipment_code="somnoloop"),
              starttime=start.time(), data_record_duration=1.0,
              annotations=[*stage_annotations(night), *event_annotations(night)])
    out = Path(path)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        edf.write(fh)
    return out


def hypnogram_csv(night: Night) -> str:
    """The hypnogram as CSV: YASA's ``Hypnogram.as_events`` columns plus stage probabilities.

    Columns ``epoch, onset, duration, value, description, WAKE, N1, N2, N3, REM``: onset in
    seconds from the start of the recording, YASA's stage names and codes (``UNS``/-2 for
    unscored epochs), probabilities empty for epochs without a decision. Read it back with
    ``yasa.Hypnogram(df["description"].tolist(), freq="30s", proba=df[["WAKE", …]])``.
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for k, lab in enumerate(night.labels):
        name, code = YASA_LABELS.get(lab or "", YASA_UNSCORED)
        p = night.probabilities[k]
        w.writerow([k, f"{k * night.epoch_s:g}", f"{night.epoch_s:g}", code, name,
                    *("" if not np.isfinite(v) else f"{v:.6f}" for v in p)])
    return buf.getvalue()

