"""What the report says, as plain rows: shared by the HTML and the PDF writers."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from firmware_host.report.agreement import agreement
from firmware_host.report.metrics import DEFINITIONS, STAGES
from firmware_host.report.night import Mark, Night

#: Columns of the neurofeedback table.
NF_HEAD = ("Block", "Rewarded (clean updates)", "Feature (mean)", "Baseline (mean)", "Gated")
#: Most rows of one timeline row (e.g. ``mattress.set_vibration``) in the interventions table.
MAX_PER_ROW = 40
#: Most rows of the interventions table (the rest is summarised by count).
MAX_LISTED = 150


@dataclass
class Content:
    """The report's text, tables and warnings, in reading order."""

    title: str
    header: list[tuple[str, str]]
    warnings: list[str]
    metrics: list[tuple[str, str, str]]
    stages: list[tuple[str, str, str]]
    quality: list[tuple[str, str, str]]
    interventions: list[tuple[str, str, str]]
    intervention_counts: list[tuple[str, str]]
    n_unlisted: int
    agreement: dict[str, Any] | None
    micro: list[tuple[str, str, str]] = field(default_factory=list)
    neurofeedback: list[tuple[str, ...]] = field(default_factory=list)


def _fmt(value: float | int | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return str(value)
    return f"{value:.1f}" + (f" {unit}" if unit and unit != "%" else unit)


def _clock(night: Night, t_s: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(night.start_unix + t_s))


def build_content(night: Night, *, min_usable_pct: float = 80.0) -> Content:
    """The report's rows and warnings for ``night``.

    Parameters
    ----------
    night
        The night, from :func:`~firmware_host.report.night.load_night`.
    min_usable_pct
        Below this % of usable time on the staging EEG channel, or of scored epochs, the
        report warns that the staging should not be trusted.
    """
    m = night.metrics
    staged = bool(night.models) or night.stager_enabled   # a session without staging has no sleep summary
    metrics = [(abbr, _fmt(getattr(m, key), unit), text)
               for key, (abbr, unit, text) in DEFINITIONS.items()]
    stages = [(st, _fmt(m.stage_min[st], "min"),
               "—" if st == "W" else _fmt(m.stage_pct_tst[st], "%")) for st in STAGES]
    listed = _listed(night)
    usable = night.quality["usable_pct"]
    quality = [(name, f"{usable[name]:.1f}%", f"{night.quality['artefact_s'][name] / 60:.1f} min")
               for name in night.channel_names]
    return Content(
        title=f"{'Night' if staged else 'Session'} report — {night.header.get('Recording start', '')[:10]}",
        header=list(night.header.items()),
        warnings=_warnings(night, min_usable_pct),
        metrics=metrics if staged else [],
        stages=stages if staged else [],
        quality=quality,
        interventions=listed,
        intervention_counts=[(k, str(v)) for k, v in night.counts.items()],
        n_unlisted=sum(1 for mk in night.marks if _listed_mark(mk)) - len(listed),
        agreement=_agreement(night),
        micro=[(k, str(v["count"]), _fmt(v["per_h_n2n3"], "/h"))
               for k, v in (night.micro or {}).get("events", {}).items()]
        + ([("stimuli delivered", str(night.micro["stimuli"]), "")] if night.micro else []),
        neurofeedback=_neurofeedback_rows(night.neurofeedback),
    )


def _neurofeedback_rows(nf: dict[str, Any] | None) -> list[tuple[str, ...]]:
    """Per training and transfer block: rewarded % of clean updates, feature, baseline, gated %."""
    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{100 * v:.0f}%"

    def num(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.3g}"

    rows = []
    for kind, key in (("training", "blocks"), ("transfer", "transfer_blocks")):
        for b in (nf or {}).get(key) or []:
            rows.append((f"{b['block']} ({kind})", pct(b["reward_rate"]), num(b["feature_mean"]),
                         num(b["baseline_mean"]), pct(b["gated_fraction"])))
    return rows


def _warnings(night: Night, min_usable_pct: float) -> list[str]:
    out = []
    m = night.metrics
    eeg = night.eeg_channel
    staged = bool(night.models) or night.stager_enabled
    if eeg is None:
        out.append("No EEG channel: the night could not be staged.")
    elif night.quality["usable_pct"][eeg] < min_usable_pct and staged:
        out.append(f"Signal quality too low to trust the staging: the staging channel {eeg} was usable "
                   f"{night.quality['usable_pct'][eeg]:.0f}% of the night (threshold {min_usable_pct:g}%).")
    if staged and m.n_epochs and 100 * m.unscored_min / m.tib_min > 100 - min_usable_pct:
        out.append(f"{m.unscored_min:.1f} of {m.tib_min:.1f} min are unscored "
                   f"({100 * m.unscored_min / m.tib_min:.0f}%): sleep times are underestimated.")
    if not night.models and night.stager_enabled:
        out.append("The session has no sleep-stage decisions (stager disabled or run too short).")
    if night.gaps:
        total = sum(d for _, d in night.gaps)
        out.append(f"{len(night.gaps)} recording gap(s), {total:.0f} s missing in total "
                   "(shaded in the figures).")
    faults = sum(1 for mk in night.marks if mk.status == "fault")
    safe = sum(1 for mk in night.marks if mk.status == "safe" and "(shutdown)" not in mk.text)
    alarms = sum(1 for mk in night.marks if mk.status == "alarm")
    happened = [f"{n} {what}" for n, what in ((alarms, "alarm(s)"), (faults, "device fault(s)"),
                                               (safe, "safe state(s) before the end of the night")) if n]
    if happened:
        out.append(f"During the night: {', '.join(happened)} (see Interventions).")
    if "interrupted" in night.header.get("Recording end", ""):
        out.append("The run was interrupted (no stop event): the end of the night may be missing.")
    return out


def _listed_mark(mk: Mark) -> bool:
    """Whether a timeline mark gets its own row: everything the patient did not drive, and
    refused commands."""
    return not mk.patient or mk.status == "refused"


def _listed(night: Night) -> list[tuple[str, str, str]]:
    """Timeline events worth one row each: commands to the sleeping patient's devices, programme
    actions and suppressions, refusals, alarms, safe states, faults — at most
    :data:`MAX_PER_ROW` of each timeline row (a rhythmic feedback would drown the rest) and
    :data:`MAX_LISTED` in all; the counts table has every one."""
    per_row: dict[str, int] = {}
    rows = []
    for mk in night.marks:
        if not _listed_mark(mk) or per_row.get(mk.row, 0) >= MAX_PER_ROW:
            continue
        per_row[mk.row] = per_row.get(mk.row, 0) + 1
        rows.append((_clock(night, mk.t_s), mk.row, mk.text))
    return rows[:MAX_LISTED]


def _agreement(night: Night) -> dict[str, Any] | None:
    if night.expert is None:
        return None
    return agreement(night.expert, night.labels, STAGES)

