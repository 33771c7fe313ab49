"""Night-to-night trends: one page with TST, SE, SOL, WASO, stage %, interventions and quality."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

from matplotlib.backends.backend_pdf import PdfPages

from firmware_host.report.config import ReportConfig
from firmware_host.report.figures import to_png, trend_figure
from firmware_host.report.files import private_dir, private_temp, publish, write_private
from firmware_host.report.html import CSS
from firmware_host.report.metrics import SLEEP_STAGES
from firmware_host.report.night import Night, load_night
from firmware_host.report.pdf import TextFlow
from firmware_host.session.recorder import META

COLUMNS = ("Night", "TST min", "SE %", "SOL min", "WASO min", "N1 %", "N2 %", "N3 %", "REM %",
           "Interventions", "Alarms", "Faults", "EEG usable %")


@dataclass(frozen=True)
class NightRow:
    """The figures of one night in the trend."""

    label: str
    tst: float
    se: float | None
    sol: float | None
    waso: float | None
    stage_pct: dict[str, float | None]
    interventions: int
    alarms: int
    faults: int
    eeg_usable: float | None

    def cells(self) -> list[str]:
        """Table cells in :data:`COLUMNS` order."""
        def f(v: float | None) -> str:
            return "n/a" if v is None else f"{v:.1f}"
        return [self.label, f(self.tst), f(self.se), f(self.sol), f(self.waso),
                *(f(self.stage_pct[s]) for s in SLEEP_STAGES), str(self.interventions),
                str(self.alarms), str(self.faults), f(self.eeg_usable)]


def expand_sessions(paths: Sequence[str | Path]) -> list[Path]:
    """Session directories: each path is a session, or a folder whose sub-folders are sessions.

    Raises
    ------
    ValueError
        If a path is neither, naming it.
    """
    out: list[Path] = []
    for p in map(Path, paths):
        if (p / META).is_file():
            out.append(p)
        elif p.is_dir() and (subs := sorted(d for d in p.iterdir() if (d / META).is_file())):
            out.extend(subs)
        else:
            raise ValueError(f"{p} is neither a session (no {META}) nor a folder of sessions")
    return out


def night_row(night: Night) -> NightRow:
    """A night's trend figures; interventions = commands asked of the devices (a programme
    action's commands included), the prosthetic hand the patient drives excluded."""
    m = night.metrics
    interventions = sum(1 for mk in night.marks
                        if "." in mk.row and not mk.patient)
    alarms = sum(1 for mk in night.marks if mk.row == "alarm" and mk.status == "alarm")
    eeg = night.quality["usable_pct"].get(night.eeg_channel) if night.eeg_channel else None
    return NightRow(label=night.header["Recording start"][:16] + f" ({night.path.name})",
                    tst=m.tst_min, se=m.se_pct, sol=m.sol_min, waso=m.waso_min,
                    stage_pct=m.stage_pct_tst, interventions=interventions, alarms=alarms,
                    faults=sum(1 for mk in night.marks if mk.status == "fault"), eeg_usable=eeg)


def write_trend(sessions: Sequence[str | Path], out: str | Path, formats: Sequence[str],
                cfg: ReportConfig | None = None) -> list[Path]:
    """Write ``trend-report.html`` / ``.pdf`` (0600) into ``out`` (0700) for ``sessions``."""
    cfg = cfg or ReportConfig()
    nights = [load_night(p, persistent_sleep_min=cfg.persistent_sleep_min,
                         min_awakening_s=cfg.min_awakening_s) for p in sessions]
    rows = [night_row(n) for n in sorted(nights, key=lambda n: n.start_unix)]  # in date order
    fig = trend_figure(
        [r.label.split(" (")[0] for r in rows],
        {"TST (min)": [r.tst for r in rows], "SE (%)": [r.se for r in rows],
         "SOL (min)": [r.sol for r in rows], "WASO (min)": [r.waso for r in rows],
         "Interventions": [r.interventions for r in rows], "EEG usable (%)": [r.eeg_usable for r in rows]},
        {s: [r.stage_pct[s] for r in rows] for s in SLEEP_STAGES},
    )
    folder = private_dir(Path(out))
    written = []
    title = f"Sleep trend — {len(rows)} night(s)"
    if "html" in formats:
        table = "<table><tr>" + "".join(f"<th>{escape(c)}</th>" for c in COLUMNS) + "</tr>" + "".join(
            "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r.cells()) + "</tr>" for r in rows) + "</table>"
        png = base64.b64encode(to_png(fig)).decode()
        page = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
                f"<style>{CSS}</style></head><body><h1>{escape(title)}</h1>{table}"
                f'<p class="small">Interventions: commands asked of the bed and other devices acting on the '
                f"sleeping patient (the prosthetic hand the patient drives excluded). Metric "
                f"definitions as in the nightly report.</p>"
                f'<img alt="trend" src="data:image/png;base64,{png}"></body></html>')
        written.append(write_private(folder / "trend-report.html", page.encode()))
    if "pdf" in formats:
        path = folder / "trend-report.pdf"
        tmp = private_temp(path)
        with PdfPages(tmp, metadata={"Title": title, "Creator": "somnoloop report --trend"}) as pdf:
            flow = TextFlow(pdf, title)
            flow.heading(title, 14)
            flow.table(COLUMNS, [r.cells() for r in rows], (0.21, *([0.79 / 12] * 12)))
            flow.figure(fig)
        written.append(publish(tmp, path))
    return written
