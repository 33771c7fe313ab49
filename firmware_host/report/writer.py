"""Writing a night's report: :func:`render_report` (raises) and :func:`write_report` (never raises).

:func:`write_report` is what the end-of-night hook calls: a failure to render is journalled
as a ``fault`` event (``where = "report"``) in the session and the session is left as it was.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from firmware_host.neurofeedback.summary import learning_curve_figure
from firmware_host.report.config import FORMATS, ReportConfig
from firmware_host.report.content import build_content
from firmware_host.report.figures import confusion_figure, image_figure, night_figure, to_png
from firmware_host.report.files import private_dir, private_temp, publish, write_private
from firmware_host.report.html import render_html
from firmware_host.report.night import load_night
from firmware_host.report.pdf import write_pdf
from firmware_host.report.spectrum import night_spectrogram
from firmware_host.session import Session
from firmware_host.session.journal import Journal
from firmware_host.session.recorder import EVENTS

log = logging.getLogger(__name__)


def check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """``formats`` validated against :data:`~firmware_host.report.config.FORMATS`.

    Raises
    ------
    ValueError
        Naming the bad format and the allowed ones.
    """
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ValueError(f"report format {bad or list(formats)!r} is not allowed; allowed: "
                         f"{', '.join(FORMATS)} (one or more, comma-separated)")
    return tuple(dict.fromkeys(formats))


def render_report(session_dir: str | Path, out: str | Path | None = None,
                  formats: Sequence[str] = FORMATS, cfg: ReportConfig | None = None) -> list[Path]:
    """Render the night's report; returns the files written.

    Parameters
    ----------
    session_dir
        The session directory.
    out
        Output folder (created 0700); default ``<session_dir>/report``.
    formats
        Any of ``"html"``, ``"pdf"``.
    cfg
        Report settings (thresholds and rules); when ``None``, the ``[report]`` section the
        session was recorded with (defaults for what it lacks).

    Raises
    ------
    ValueError
        For an unknown format; :class:`~firmware_host.session.SessionError` for a directory
        that is not a session; anything the rendering raises.
    """
    formats = check_formats(formats)
    session_dir = Path(session_dir)
    cfg = cfg or session_report_config(session_dir)
    night = load_night(session_dir, persistent_sleep_min=cfg.persistent_sleep_min,
                       min_awakening_s=cfg.min_awakening_s, pseudonym=cfg.pseudonym)
    spec = night_spectrogram(session_dir, night.eeg_channel) if night.eeg_channel else None
    content = build_content(night, min_usable_pct=cfg.min_usable_pct)
    figures = {"night": night_figure(night, spec)}
    learning = _learning_curve_png(night.neurofeedback)
    if learning is not None:
        figures["learning"] = image_figure(learning)
    if content.agreement is not None:
        figures["confusion"] = confusion_figure(content.agreement["confusion"], content.agreement["labels"])
    folder = private_dir(Path(out) if out else session_dir / "report")
    stem = f"{session_dir.resolve().name}-report"
    written = []
    if "html" in formats:
        pngs = {name: to_png(fig) for name, fig in figures.items() if name != "learning"}
        if learning is not None:
            pngs["learning"] = learning
        written.append(write_private(folder / f"{stem}.html", render_html(content, pngs).encode()))
    if "pdf" in formats:
        path = folder / f"{stem}.pdf"
        tmp = private_temp(path)
        write_pdf(tmp, content, figures)
        written.append(publish(tmp, path))
    return written


def _learning_curve_png(summary: dict[str, Any] | None) -> bytes | None:
    """The neurofeedback learning curve (the neurofeedback room's own figure) as PNG bytes."""
    if not summary or not summary.get("blocks"):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        return learning_curve_figure([summary], Path(tmp) / "learning.png").read_bytes()


def session_report_config(session_dir: Path) -> ReportConfig:
    """The ``[report]`` settings journalled in the session's ``config`` event (defaults if none)."""
    names = {f.name for f in dataclasses.fields(ReportConfig)}
    for ev in Session(session_dir).events("config"):
        section = ev.payload.get("report")
        if isinstance(section, dict):
            kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in section.items() if k in names}
            return ReportConfig(**kw)
    return ReportConfig()


def write_report(session_dir: Path, out: Path | None = None, formats: Sequence[str] = FORMATS,
                 cfg: ReportConfig | None = None) -> list[Path]:
    """:func:`render_report` for the end-of-night hook: never raises.

    A failure is journalled in the session as ``fault`` ``{"where": "report", "error": …}``
    (and logged); the session's recording is not touched otherwise.

    Returns
    -------
    list of Path
        The files written; empty when the report failed.
    """
    try:
        return render_report(session_dir, out, formats, cfg)
    except Exception as exc:  # noqa: BLE001 - the night is over; a report failure must not raise
        error = f"{type(exc).__name__}: {exc}"
        log.warning("report of %s not written: %s", session_dir, error)  # one line, no traceback
        _journal_failure(Path(session_dir), error)
        return []


def _journal_failure(session_dir: Path, error: str) -> None:
    """Append a ``fault`` event to the (closed) session's journal; logs when even that fails."""
    try:
        stops = Session(session_dir).events("stop")
        t = stops[-1].t if stops else 0.0
        journal = Journal(session_dir / EVENTS)
        journal.add(t, "fault", {"where": "report", "error": error}, None)
        journal.close()
    except Exception as exc:  # noqa: BLE001 - last resort: the log
        log.warning("could not journal the report failure in %s: %s", session_dir, exc)
