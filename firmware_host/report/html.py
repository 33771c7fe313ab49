"""The self-contained HTML report: inline CSS and base64 PNG figures, no network resource."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from html import escape

from firmware_host.report.content import NF_HEAD, Content

CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 1.5em auto; max-width: 1150px;
       color: #1a1a1a; font-size: 14px; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; border-bottom: 2px solid #1c7ed6; padding-bottom: 2px; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ced4da; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f1f3f5; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
table.header { width: 100%; }
table.header th { width: 11em; font-weight: normal; }
.warn { background: #fff3bf; border-left: 6px solid #f08c00; padding: 6px 10px; margin: 6px 0;
        font-weight: bold; }
.ok { background: #ebfbee; border-left: 6px solid #2f9e44; padding: 6px 10px; }
img { max-width: 100%; }
.small { font-size: 12px; color: #495057; }
.cols { display: flex; gap: 2em; flex-wrap: wrap; align-items: flex-start; }
@media print { h2 { break-after: avoid; } img, table { break-inside: avoid; } }
"""


def _table(head: Sequence[str] | None, rows: Sequence[Sequence[str]], num_cols: Sequence[int] = (),
           cls: str = "") -> str:
    """A table; ``head=None`` makes the first column of every row a row header."""
    out = [f'<table class="{cls}">' if cls else "<table>"]
    if head is not None:
        out.append("<tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>")
    for row in rows:
        cells = [f'<td class="num">{escape(c)}</td>' if i in num_cols
                 else f"<th>{escape(c)}</th>" if head is None and i == 0 else f"<td>{escape(c)}</td>"
                 for i, c in enumerate(row)]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def render_html(c: Content, figures: dict[str, bytes]) -> str:
    """The whole HTML page.

    Parameters
    ----------
    c
        The report content.
    figures
        PNG bytes by name: ``"night"``, ``"learning"`` (neurofeedback), ``"confusion"``.
    """
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(c.title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(c.title)}</h1>",
        _table(None, c.header, cls="header"),
    ]
    if c.warnings:
        parts += [f'<div class="warn">⚠ {escape(w)}</div>' for w in c.warnings]
    else:
        parts.append('<div class="ok">Signal quality sufficient; no recording gaps, alarms or faults.</div>')
    if c.metrics:
        parts += [
            "<h2>Sleep summary (AASM)</h2>",
            '<div class="cols">',
            _table(("Metric", "Value", "Definition"), c.metrics, num_cols=(1,)),
            _table(("Stage", "Time", "% of TST"), c.stages, num_cols=(1, 2)),
            "</div>",
            '<p class="small">Staged automatically by the device in 30-s epochs; not reviewed by a '
            "sleep technologist. Lights off/on as in the header.</p>",
        ]
    parts.append("<h2>Overview</h2>")
    if "night" in figures:
        parts.append(_img(figures["night"], "hypnogram, hypnodensity, spectrogram, interventions, quality"))
    parts += ["<h2>Interventions</h2>"]
    if c.intervention_counts:
        parts.append(_table(("Programme rules and commands asked (ramp steps not counted)", "Count"),
                            c.intervention_counts, num_cols=(1,)))
    else:
        parts.append("<p>No command was sent to any device.</p>")
    if c.interventions:
        parts += ["<p>Commands to the bed and other devices acting on the sleeping patient, programme "
                  "actions and suppressions, refused commands, alarms, safe states and faults (the "
                  "prosthetic hand the patient drives is only counted above):</p>",
                  _table(("Time", "What", "Detail"), c.interventions)]
        if c.n_unlisted:
            parts.append(f'<p class="small">… and {c.n_unlisted} more, in the counts above and the '
                         "session journal.</p>")
    else:
        parts.append("<p>No command to the sleeping patient's devices, programme action, refusal, alarm, "
                     "safe state or fault.</p>")
    parts += ["<h2>Signal quality</h2>",
              _table(("Channel", "Usable", "Artefact time"), c.quality, num_cols=(1, 2))]
    if c.micro:
        parts += ["<h2>Microstructure</h2>",
                  _table(("Event", "Count", "Per hour of N2+N3"), c.micro, num_cols=(1, 2))]
    if c.neurofeedback:
        parts += ["<h2>Neurofeedback learning curve</h2>",
                  _table(NF_HEAD, c.neurofeedback, num_cols=(1, 2, 3, 4))]
        if "learning" in figures:
            parts.append(_img(figures["learning"], "neurofeedback learning curve"))
    if c.agreement is not None:
        a = c.agreement
        parts += ["<h2>Agreement with the expert hypnogram</h2>",
                  f"<p>{a['n_epochs']} epochs scored by the expert: accuracy {100 * a['accuracy']:.1f}%, "
                  f"Cohen's κ {a['kappa']:.3f}, macro-F1 {a['macro_f1']:.3f}; "
                  f"{a['n_unscored']} of them unscored by somnoloop.</p>"]
        if "confusion" in figures:
            parts.append(_img(figures["confusion"], "confusion matrix"))
    parts.append("</body></html>")
    return "\n".join(parts)
