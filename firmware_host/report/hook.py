"""The end-of-night report as a run observer: attach it, and the night ends with a report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from firmware_host.report.config import ReportConfig
from firmware_host.report.writer import write_report
from firmware_host.runtime.hooks import RunObserver


class ReportObserver(RunObserver):
    """Writes the session's report when the run is ``closed`` (session closed, devices safe).

    Parameters
    ----------
    session_dir
        The run's session directory.
    cfg
        The ``[report]`` section; nothing is written when ``enabled`` is false.
    on_written
        Called with the files written (empty when rendering failed; the failure is in the
        session's journal), e.g. to print their paths.
    """

    name = "report"

    def __init__(self, session_dir: str | Path, cfg: ReportConfig,
                 on_written: Callable[[list[Path]], None] | None = None) -> None:
        self.session_dir = Path(session_dir)
        self.cfg = cfg
        self.on_written = on_written
        self.paths: list[Path] = []

    def on_closed(self, run: Any, summary: Any) -> None:
        """Render the report (never raises; see :func:`~firmware_host.report.writer.write_report`)."""
        if not self.cfg.enabled:
            return
        out = Path(self.cfg.out) if self.cfg.out else None
        self.paths = write_report(self.session_dir, out, self.cfg.formats, self.cfg)
        if self.on_written is not None:
            self.on_written(self.paths)
