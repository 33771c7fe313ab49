"""One night read from a session: hypnogram, hypnodensity, quality, interventions, header.

Everything the report shows is gathered here, through the public
:class:`~firmware_host.session.Session` reader only, into plain arrays and dicts that the
figures, the HTML/PDF writers and the EDF+ export share.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from firmware_host.neurofeedback.summary import neurofeedback_summary
from firmware_host.report.metrics import STAGES, SleepMetrics, sleep_metrics
from firmware_host.session import Session

#: Epoch length of the stager and of the AASM hypnogram (seconds).
EPOCH_S = 30.0
#: Stage labels of expert EDF+ annotations (R&K and AASM spellings) mapped to ours.
EXPERT_LABELS = {
    "Sleep stage W": "W", "Sleep stage 1": "N1", "Sleep stage 2": "N2", "Sleep stage 3": "N3",
    "Sleep stage 4": "N3", "Sleep stage R": "REM", "Sleep stage N1": "N1",
    "Sleep stage N2": "N2", "Sleep stage N3": "N3",
}
#: Journal kinds drawn on the intervention timeline, besides commands.
TIMELINE_KINDS = ("action", "suppressed", "alarm", "safe_state", "fault")
#: Devices the patient drives (forearm EMG → prosthetic hand), as opposed to devices acting on
#: the sleeping patient (the bed, vibration, stimulation).
PATIENT_TARGETS = ("hand", "servo_hand")
#: Decision kinds counted as microstructure events.
MICRO_KINDS = ("spindle", "slow_oscillation", "k_complex")


@dataclass(frozen=True)
class Mark:
    """One point on the intervention timeline.

    Parameters
    ----------
    t_s
        Seconds from the start of the recording.
    row
        Timeline row, e.g. ``"mattress.set_elevation"``, ``"alarm"``.
    status
        ``"ok"``, ``"clamped"``, ``"refused"``, ``"suppressed"``, ``"alarm"``, ``"fault"`` …
    text
        One line for the table.
    patient
        Driven by the patient (the forearm-EMG prosthetic hand and the programme rules that
        only command it): drawn, counted, but not listed one by one in the report.
    """

    t_s: float
    row: str
    status: str
    text: str
    patient: bool = False


@dataclass
class Night:
    """Everything the report needs from one session (see :func:`load_night`)."""

    path: Path
    header: dict[str, str]
    sfreq: float
    channel_names: list[str]
    channel_types: list[str]
    first_sample: int
    span_s: float
    start_unix: float
    lights_off_s: float
    lights_on_s: float
    epoch_s: float
    labels: list[str | None]
    probabilities: np.ndarray
    models: list[str]
    eeg_channel: str | None
    stager_enabled: bool
    metrics: SleepMetrics
    quality: dict[str, Any]
    gaps: list[tuple[float, float]]
    marks: list[Mark]
    counts: dict[str, int]
    expert: list[str | None] | None
    micro: dict[str, Any] | None
    neurofeedback: dict[str, Any] | None

    def staged(self) -> list[str | None]:
        """The hypnogram between lights off and lights on (what the metrics use)."""
        lo = int(round(self.lights_off_s / self.epoch_s))
        hi = int(np.ceil(self.lights_on_s / self.epoch_s - 1e-9))
        return self.labels[lo:hi]


def load_night(path: str | Path, *, persistent_sleep_min: float = 10.0,
               min_awakening_s: float = 30.0, pseudonym: str = "") -> Night:
    """Read a session directory into a :class:`Night`.

    Parameters
    ----------
    path
        Session directory.
    persistent_sleep_min, min_awakening_s
        Rules of the latency to persistent sleep and of awakenings (see
        :mod:`firmware_host.report.metrics`).
    pseudonym
        Pseudonymous patient/device id for the header; when empty, the session's own
        ``[report] pseudonym`` setting is used, if it has one.

    Raises
    ------
    firmware_host.session.SessionError
        If the directory is not a readable session.
    """
    s = Session(path)
    sfreq = s.sfreq
    first, end = s.first_sample, s.end_sample
    span_s = (end - first) / sfreq
    events = s.events()
    by_kind: dict[str, list[Any]] = {}
    for ev in events:
        by_kind.setdefault(ev.kind, []).append(ev)
    t0 = by_kind["start"][0].t if by_kind.get("start") else 0.0

    def when(ev: Any) -> float:
        if ev.sample is not None:
            return (ev.sample - first) / sfreq
        return float(ev.payload.get("t", ev.t)) - t0

    config = next((e.payload for e in by_kind.get("config", []) if "name" in e.payload), {})
    decisions = [e.payload for e in by_kind.get("decision", [])]
    n_epoch = int(round(EPOCH_S * sfreq))
    n_epochs = (end - first) // n_epoch
    labels, probs, models = _hypnogram(decisions, first, n_epoch, n_epochs)
    lights_off, lights_on = _lights(by_kind.get("annotation", []) + by_kind.get("marker", []),
                                    when, span_s)
    night = Night(
        path=Path(path), header={}, sfreq=sfreq, channel_names=s.channel_names,
        channel_types=s.channel_types, first_sample=first, span_s=span_s,
        start_unix=float(s.meta.get("created_unix", 0.0)), lights_off_s=lights_off,
        lights_on_s=lights_on, epoch_s=EPOCH_S, labels=labels, probabilities=probs,
        models=models, eeg_channel=_main_eeg(config, s.channel_names, s.channel_types),
        stager_enabled=bool((config.get("stager") or {}).get("enabled", True)),
        metrics=sleep_metrics([]), quality=_quality(decisions, s.channel_names, span_s, sfreq, first),
        gaps=[((g.start - first) / sfreq, g.n_missing / sfreq) for g in s.gaps()],
        marks=_marks(by_kind, when), counts=_counts(by_kind),
        expert=_expert(by_kind.get("annotation", []), when, n_epochs), micro=None,
        neurofeedback=neurofeedback_summary(s),
    )
    night.metrics = sleep_metrics(night.staged(), EPOCH_S,
                                  persistent_epochs=max(1, int(round(persistent_sleep_min * 60 / EPOCH_S))),
                                  min_awakening_s=min_awakening_s)
    night.micro = _micro(decisions, by_kind.get("command", []), night.metrics)
    night.header = _header(s, night, config, pseudonym, events_complete=bool(by_kind.get("stop")))
    return night


def _hypnogram(decisions: list[dict[str, Any]], first: int, n_epoch: int, n_epochs: int
               ) -> tuple[list[str | None], np.ndarray, list[str]]:
    """Final stage decisions placed on the epoch grid; ``None`` where no decision exists."""
    labels: list[str | None] = [None] * n_epochs
    probs = np.full((n_epochs, len(STAGES)), np.nan)
    models: list[str] = []
    for d in decisions:
        if d.get("kind") != "stage" or (d.get("details") or {}).get("provisional"):
            continue
        k = (int(d["sample"]) - first) // n_epoch
        if not 0 <= k < n_epochs:
            continue
        labels[k] = str(d["label"])
        p = d.get("probabilities") or {}
        probs[k] = [float(p.get(st, 0.0)) for st in STAGES]
        tag = d.get("model") or ""
        expert = (d.get("details") or {}).get("expert")
        tag = f"{tag} + {expert}" if expert else tag
        if tag and tag not in models:
            models.append(tag)
    return labels, probs, models


def _lights(events: list[Any], when: Any, span_s: float) -> tuple[float, float]:
    """Lights off/on from annotations or markers saying so; else the recording's ends."""
    off, on = 0.0, span_s
    for ev in events:
        text = str(ev.payload.get("text", ev.payload.get("description", ""))).lower()
        if "lights off" in text or "lights out" in text:
            off = min(max(when(ev), 0.0), span_s)
        elif "lights on" in text:
            on = min(max(when(ev), 0.0), span_s)
    return (off, on) if on > off else (0.0, span_s)


def _main_eeg(config: dict[str, Any], names: list[str], types: list[str]) -> str | None:
    """The stager's EEG channel, or the first EEG channel of the session."""
    wanted = (config.get("stager") or {}).get("eeg_channel")
    if wanted in names:
        return str(wanted)
    return next((n for n, t in zip(names, types, strict=True) if t == "eeg"), None)


def _quality(decisions: list[dict[str, Any]], names: list[str], span_s: float, sfreq: float,
             first: int) -> dict[str, Any]:
    """Per-channel usable and artefact seconds from the quality decisions.

    Reads both forms the journal holds: one decision per quality window, or (the recorder's
    retention policy) one per 30-s epoch with per-channel counts of bad and flagged windows
    (``details.aggregated == "epoch"``; a window then lasts the epoch over the most windows
    any epoch holds). A channel's window is usable when the quality meter assessed it and did
    not flag the channel bad; time never assessed (gaps, the end of the run) is not usable.
    """
    quality = [d for d in decisions if d.get("kind") == "quality"]
    epochs = [d["details"] for d in quality if (d.get("details") or {}).get("aggregated") == "epoch"]
    window_s = (max(e["epoch_samples"] for e in epochs) / sfreq
                / max(1, max(e.get("n_windows", 0) for e in epochs))) if epochs else 1.0
    n_min = max(1, int(np.ceil(span_s / 60.0)))
    bad_per_min = np.zeros((len(names), n_min))
    assessed_per_min = np.zeros(n_min)
    usable = dict.fromkeys(names, 0.0)
    artefact = dict.fromkeys(names, 0.0)
    for d in quality:
        det = d.get("details") or {}
        channels = det.get("channels") or {}
        if det.get("aggregated") == "epoch":
            start_s = (float(det["epoch_start"]) - first) / sfreq
            seconds = det.get("n_windows", 0) * window_s
            bad_s = {n: (channels.get(n) or {}).get("n_bad", 0) * window_s for n in names}
            art_s = {n: (channels.get(n) or {}).get("artefact", 0) * window_s for n in names}
        else:
            start_s = (float(det.get("start", d["sample"])) - first) / sfreq
            seconds = float(det.get("window", sfreq)) / sfreq
            bad = set(names) if det.get("non_finite") else set(det.get("bad_channels") or [])
            bad_s = {n: seconds * (n in bad) for n in names}
            art_s = {n: seconds * bool((channels.get(n) or {}).get("artefact")) for n in names}
        minute = min(n_min - 1, max(0, int(start_s / 60.0)))
        assessed_per_min[minute] += seconds
        for i, name in enumerate(names):
            bad_per_min[i, minute] += bad_s[name]
            usable[name] += seconds - bad_s[name]
            artefact[name] += art_s[name]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(assessed_per_min > 0, bad_per_min / assessed_per_min, np.nan)
    return {
        "usable_pct": {n: (100.0 * usable[n] / span_s if span_s else 0.0) for n in names},
        "artefact_s": artefact,
        "bad_fraction_per_min": frac,
    }


def _marks(by_kind: dict[str, list[Any]], when: Any) -> list[Mark]:
    """Timeline points: asked commands (not ramp steps), actions, suppressions, alarms …"""
    marks = []
    for ev in by_kind.get("command", []):
        p = ev.payload
        outcome = str(p.get("outcome", ""))
        if outcome == "ramp":
            continue
        status = {"clamped": "clamped", "refused": "refused"}.get(outcome, "ok")
        row = f"{p.get('target', '?')}.{p.get('action', '?')}"
        text = f"{row} {_brief(p.get('asked'))} → {outcome}"
        text += f" ({p['reason']})" if p.get("reason") else ""
        marks.append(Mark(when(ev), row, status, text, p.get("target") in PATIENT_TARGETS))
    for kind in TIMELINE_KINDS:
        for ev in by_kind.get(kind, []):
            marks.append(_timeline_mark(kind, ev.payload, when(ev)))
    for ev in by_kind.get("annotation", []):
        text = str(ev.payload.get("text", ""))
        if "e-stop" in text.lower():
            marks.append(Mark(when(ev), "E-stop", "ok" if "reset" in text.lower() else "alarm", text))
    return sorted(marks, key=lambda m: m.t_s)


def _timeline_mark(kind: str, p: dict[str, Any], t_s: float) -> Mark:
    if kind == "action":
        commands = p.get("commands") or []
        cmds = ", ".join(f"{c.get('target', '?')}.{c.get('action', '?')}" for c in commands)
        patient = p.get("trigger") == "intent" or (  # the forearm-EMG intent trigger
            bool(commands) and all(c.get("target") in PATIENT_TARGETS for c in commands))
        return Mark(t_s, "programme action", "ok",
                    f"rule {p.get('rule', '?')} fired on {_brief(p.get('trigger'))}"
                    + (f": {cmds}" if cmds else ""), patient)
    if kind == "suppressed":
        return Mark(t_s, "programme suppressed", "suppressed",
                    f"rule {p.get('rule', '?')} held back by {p.get('guard', '?')}: {p.get('reason', '')}")
    if kind == "alarm":
        return Mark(t_s, "alarm", "alarm" if p.get("state") != "cleared" else "ok",
                    f"{p.get('priority', '?')} alarm {p.get('code', '?')} {p.get('state', '')}: "
                    f"{p.get('message', '')}")
    if kind == "safe_state":
        return Mark(t_s, "safe state", "safe",
                    f"{p.get('target', '?')} safe ({p.get('reason', '?')})"
                    + ("" if p.get("ok", True) else " FAILED"))
    return Mark(t_s, "fault", "fault",
                f"fault {p.get('target', p.get('where', '?'))}: {p.get('kind', '')} "
                f"{p.get('error', p.get('message', ''))}".strip())


def _brief(obj: Any) -> str:
    """A short one-line rendering of a JSON value."""
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{k}={_brief(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, float):
        return f"{obj:.3g}"
    return str(obj)


def _counts(by_kind: dict[str, list[Any]]) -> dict[str, int]:
    """Programme rules fired and held back, and commands asked (ramp steps excluded)."""
    counts: dict[str, int] = {}
    for ev in by_kind.get("action", []):
        key = f"rule {ev.payload.get('rule', '?')} fired"
        counts[key] = counts.get(key, 0) + 1
    for ev in by_kind.get("suppressed", []):
        key = f"rule {ev.payload.get('rule', '?')} held back by {ev.payload.get('guard', '?')}"
        counts[key] = counts.get(key, 0) + 1
    for ev in by_kind.get("command", []):
        p = ev.payload
        if p.get("outcome") == "ramp":
            continue
        key = f"command {p.get('target', '?')}.{p.get('action', '?')} {p.get('outcome', '?')}"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def _expert(annotations: list[Any], when: Any, n_epochs: int) -> list[str | None] | None:
    """The expert hypnogram carried by a replayed EDF's annotations, on our epoch grid."""
    spans = []
    for ev in annotations:
        label = EXPERT_LABELS.get(str(ev.payload.get("description", "")).strip())
        if label is not None:
            spans.append((when(ev), float(ev.payload.get("duration", EPOCH_S)) or EPOCH_S, label))
    if not spans:
        return None
    out: list[str | None] = [None] * n_epochs
    for onset, dur, label in spans:
        lo = max(0, int(np.ceil(onset / EPOCH_S - 0.5)))
        hi = min(n_epochs, int(np.floor((onset + dur) / EPOCH_S - 0.5)) + 1)
        for k in range(lo, hi):
            out[k] = label
    return out


def _micro(decisions: list[dict[str, Any]], commands: list[Any], metrics: SleepMetrics
           ) -> dict[str, Any] | None:
    """Counts and densities of microstructure events and stimuli; ``None`` when there are none."""
    counts = dict.fromkeys(MICRO_KINDS, 0)
    for d in decisions:
        if d.get("kind") in counts:
            counts[d["kind"]] += 1
    stimuli = sum(1 for ev in commands if ev.payload.get("action") == "stimulus"
                  and ev.payload.get("outcome") in ("sent", "clamped"))
    if not any(counts.values()) and not stimuli:
        return None
    nrem_h = sum(metrics.stage_min[s] for s in ("N2", "N3")) / 60.0
    rows = {k: {"count": v, "per_h_n2n3": (v / nrem_h if nrem_h else None)}
            for k, v in counts.items() if v}
    return {"events": rows, "stimuli": stimuli}


def config_digest(config: dict[str, Any]) -> str:
    """First 12 hex digits of the SHA-256 of the config as canonical JSON."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def local_time(unix: float) -> str:
    """``YYYY-MM-DD HH:MM:SS ±HHMM`` in the machine's local time zone."""
    return time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(unix))


def _programme(section: Any) -> str:
    """The programme line of the header: its name when it has one, its rules and their digest."""
    if not isinstance(section, dict):
        return "none"
    if not section.get("enabled", True):
        return "disabled (record only, nothing moves)"
    rules = section.get("rules") or []
    names = [str(r.get("name", "?")) for r in rules if isinstance(r, dict)]
    head = f"{section['name']}: " if section.get("name") else ""
    return (f"{head}{len(rules)} rules (sha256 {config_digest({'rules': rules})}): "
            + ", ".join(names)) if rules else f"{head}no rules"


def _header(s: Session, night: Night, config: dict[str, Any], pseudonym: str, *,
            events_complete: bool) -> dict[str, str]:
    """The report header, in reading order."""
    pseud = pseudonym or str((config.get("report") or {}).get("pseudonym", "")) or \
        "not set (config [report] pseudonym)"
    programme = _programme(config.get("programme"))
    marked = night.lights_off_s > 0 or night.lights_on_s < night.span_s
    rule = "" if marked else " (not marked: recording start/end)"
    return {
        "Patient / device": pseud,
        "Recording start": local_time(night.start_unix),
        "Recording end": local_time(night.start_unix + night.span_s)
        + ("" if events_complete else " (run interrupted)"),
        "Lights off": local_time(night.start_unix + night.lights_off_s) + rule,
        "Lights on": local_time(night.start_unix + night.lights_on_s) + rule,
        "Software": f"somnoloop {s.meta.get('software_version', '?')}",
        "Staging model": ", ".join(night.models) or "none (no stage decisions)",
        "Config": f"{config.get('name', s.meta.get('config_name', '?'))} "
                  f"(sha256 {config_digest(config)})",
        "Programme": str(programme),
        "Source": f"{s.meta.get('source', '?')}, {len(s.channel_names)} channels at {s.sfreq:g} Hz",
    }
