"""The end-of-night report as a run observer: attach it, and the night ends with a report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from firmware_host.runtime.hooks import RunObserver

if TYPE_CHECKING:  # pragma: no cover - typing only
    from firmware_host.runtime.run import Run


class ReportObserver(RunObserver):
    """Writes the session's report when the run is ``closed`` (session closed, devices safe).

    Follows the run's ``[report]`` section: nothing is written when ``enabled`` is false;
    ``out`` ('' = ``<session>/report``) and ``formats`` choose where and what.

    Parameters
    ----------
    on_written
        Called with the files written (empty when rendering failed; the failure is then in
        the session's journal as a ``fault`` with ``where = "report"``), e.g. to print them.
    """

    name = "report"

    def __init__(self, on_written: Callable[[list[Path]], None] | None = None) -> None:
        self.on_written = on_written
        self.paths: list[Path] = []

    def on_closed(self, run: Run, summary: Any) -> None:
        """Render the report (never raises; see :func:`~firmware_host.report.writer.write_report`)."""
        cfg = run.config.report
        if not cfg.enabled:
            return
        # Imported here: rendering needs matplotlib and scipy (≈ 90 MB resident), which the
        # device process must not hold all night for a report written once, at its end.
        from firmware_host.report.writer import write_report

        out = Path(cfg.out) if cfg.out else None
        self.paths = write_report(run.session_dir, out, cfg.formats, cfg)
        if self.on_written is not None:
            self.on_written(self.paths)
