"""The PDF report, written by matplotlib's ``PdfPages``: text pages and the figures.

Text pages are laid out top to bottom on A4 figures: headings, wrapped paragraphs and
ruled tables, with a new page whenever the next line would not fit.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from firmware_host.report.content import NF_HEAD, Content  # noqa: E402

A4 = (8.27, 11.69)
MARGIN = 0.06
LINE = 0.0145  # figure fraction per text line at 8 pt


class TextFlow:
    """Writes lines of text down A4 pages, starting a new page when one is full."""

    def __init__(self, pdf: PdfPages, title: str) -> None:
        self.pdf, self.title = pdf, title
        self.fig: Figure | None = None
        self.y = 0.0
        self.page = 0

    def _new_page(self) -> Figure:
        self.close_page()
        fig = Figure(figsize=A4)
        self.page += 1
        fig.text(MARGIN, 0.975, self.title, fontsize=8, color="#495057")
        fig.text(1 - MARGIN, 0.975, f"page {self.page}", fontsize=8, color="#495057", ha="right")
        self.y = 0.95
        return fig

    def need(self, height: float) -> Figure:
        """The current page, or a new one when ``height`` does not fit."""
        if self.fig is None or self.y - height < MARGIN:
            self.fig = self._new_page()
        return self.fig

    def heading(self, text: str, size: int = 12) -> None:
        """A bold heading."""
        fig = self.need(LINE * 4)
        self.y -= LINE * 1.2
        fig.text(MARGIN, self.y, text, fontsize=size, weight="bold", va="top")
        self.y -= LINE * (size / 8 + 0.4)

    def paragraph(self, text: str, *, colour: str = "black", weight: str = "normal",
                  width: int = 110) -> None:
        """Text wrapped at ``width`` characters."""
        for line in textwrap.wrap(text, width):
            fig = self.need(LINE)
            fig.text(MARGIN, self.y, line, fontsize=8, color=colour, weight=weight, va="top")
            self.y -= LINE
        self.y -= LINE * 0.4

    def table(self, head: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float]) -> None:
        """Columns at fractions ``widths`` of the text width; long cells wrap."""
        span = 1 - 2 * MARGIN
        xs = [MARGIN + span * sum(widths[:i]) for i in range(len(widths))]
        chars = [max(4, int(w * span * 8.27 * 72 / 4.6)) for w in widths]
        def repeat_head() -> None:
            self._row(head, xs, chars, bold=True)

        repeat = repeat_head if any(head) else None
        if repeat is not None:
            repeat()
        for row in rows:
            self._row(row, xs, chars, before_new_page=repeat)

    def _row(self, cells: Sequence[str], xs: list[float], chars: list[int], *, bold: bool = False,
             before_new_page: Callable[[], None] | None = None) -> None:
        """One table row; on a new page, ``before_new_page`` first repeats the table head."""
        wrapped = [textwrap.wrap(str(c), n) or [""] for c, n in zip(cells, chars, strict=True)]
        n = max(len(w) for w in wrapped)
        if before_new_page is not None and (self.fig is None or self.y - LINE * (n + 0.3) < MARGIN):
            self.fig = self._new_page()
            before_new_page()
        fig = self.need(LINE * (n + 0.3))
        for x, lines in zip(xs, wrapped, strict=True):
            for i, line in enumerate(lines):
                fig.text(x, self.y - i * LINE, line, fontsize=8, va="top",
                         weight="bold" if bold else "normal")
        self.y -= LINE * (n + 0.3)
        fig.add_artist(Line2D([MARGIN, 1 - MARGIN], [self.y + LINE * 0.15] * 2, lw=0.4, color="#adb5bd"))

    def figure(self, fig: Figure) -> None:
        """The current text page, then ``fig`` on its own page."""
        self.close_page()
        self.pdf.savefig(fig)
        self.page += 1

    def close_page(self) -> None:
        """Write the current text page, if any."""
        if self.fig is not None:
            self.pdf.savefig(self.fig)
            self.fig = None


def write_pdf(path: Path, c: Content, figures: dict[str, Figure]) -> None:
    """Write the report's PDF to ``path``.

    Parameters
    ----------
    path
        Output file.
    c
        The report content.
    figures
        Figures by name: ``"night"``; ``"learning"`` for neurofeedback sessions; ``"confusion"``
        when there is an expert hypnogram.
    """
    with PdfPages(path, metadata={"Title": c.title, "Creator": "somnoloop report"}) as pdf:
        flow = TextFlow(pdf, c.title)
        flow.heading(c.title, 14)
        flow.table(("", ""), c.header, (0.25, 0.75))
        for w in c.warnings:
            flow.paragraph("WARNING: " + w, colour="#c92a2a", weight="bold")
        if c.metrics:
            flow.heading("Sleep summary (AASM)")
            flow.table(("Metric", "Value", "Definition"), c.metrics, (0.16, 0.14, 0.70))
            flow.heading("Time per stage")
            flow.table(("Stage", "Time", "% of TST"), c.stages, (0.16, 0.14, 0.70))
            flow.paragraph("Staged automatically by the device in 30-s epochs; "
                           "not reviewed by a sleep technologist.")
        flow.close_page()
        if "night" in figures:
            flow.figure(figures["night"])
        flow.heading("Interventions")
        if c.intervention_counts:
            flow.table(("Programme rules and commands asked (ramp steps not counted)", "Count"),
                       c.intervention_counts, (0.6, 0.4))
        else:
            flow.paragraph("No command was sent to any device.")
        if c.interventions:
            flow.paragraph("Commands to the bed and other devices acting on the sleeping patient, programme "
                           "actions and suppressions, refused commands, alarms, safe states and faults (the "
                           "prosthetic hand the patient drives is only counted above):")
            flow.table(("Time", "What", "Detail"), c.interventions, (0.12, 0.22, 0.66))
            if c.n_unlisted:
                flow.paragraph(f"… and {c.n_unlisted} more, in the counts above and the session journal.")
        flow.heading("Signal quality")
        flow.table(("Channel", "Usable", "Artefact time"), c.quality, (0.3, 0.2, 0.5))
        if c.micro:
            flow.heading("Microstructure")
            flow.table(("Event", "Count", "Per hour of N2+N3"), c.micro, (0.4, 0.2, 0.4))
        if c.neurofeedback:
            flow.heading("Neurofeedback learning curve")
            flow.table(NF_HEAD, c.neurofeedback, (0.2, 0.25, 0.2, 0.2, 0.15))
        if c.agreement is not None:
            a = c.agreement
            flow.heading("Agreement with the expert hypnogram")
            flow.paragraph(f"{a['n_epochs']} epochs scored by the expert: "
                           f"accuracy {100 * a['accuracy']:.1f}%, "
                           f"Cohen's kappa {a['kappa']:.3f}, macro-F1 {a['macro_f1']:.3f}; "
                           f"{a['n_unscored']} of them unscored by somnoloop.")
        flow.close_page()
        for name in ("learning", "confusion"):
            if name in figures:
                flow.figure(figures[name])
