"""``somnoloop report SESSION [--out DIR] [--format html,pdf]`` and ``report --trend SESSION...``."""

from __future__ import annotations

import argparse
from pathlib import Path

from firmware_host.errors import UsageError
from firmware_host.session import SessionError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``report`` sub-command."""
    p = sub.add_parser("report", help="the clinician's nightly report (HTML/PDF), or trends over nights")
    p.add_argument("sessions", nargs="+", metavar="SESSION",
                   help="session directory (with --trend: several, or a folder of sessions)")
    p.add_argument("--out", help="output folder (default: SESSION/report; with --trend: the folder "
                                 "of the first night's parent)")
    p.add_argument("--format", default="html,pdf", help="html, pdf or html,pdf (default)")
    p.add_argument("--trend", action="store_true", help="one page of night-by-night trends")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the report and print the paths of the files."""
    # Imported here, not at the top: every command's module is imported to build the parser,
    # and rendering pulls matplotlib and scipy, which `somnoloop run` must not hold all night.
    from firmware_host.report.trend import expand_sessions, write_trend
    from firmware_host.report.writer import check_formats, render_report

    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        raise UsageError(f"--out {args.out!r} is a file; allowed: a folder (created if missing)")
    try:
        formats = check_formats([f.strip() for f in args.format.split(",") if f.strip()])
    except ValueError as exc:
        raise UsageError(f"--format {args.format!r}: {exc}") from None
    try:
        if args.trend:
            try:
                sessions = expand_sessions(args.sessions)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
            out = Path(args.out) if args.out else sessions[0].resolve().parent
            written = write_trend(sessions, out, formats)
        else:
            if len(args.sessions) != 1:
                raise UsageError(f"one SESSION without --trend, got {len(args.sessions)}; "
                                 "allowed: one session, or --trend with several")
            written = render_report(args.sessions[0], args.out, formats)
    except SessionError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:  # the session was read: what failed is writing the report
        where = exc.filename or args.out or "the report folder"
        raise UsageError(f"cannot write the report to {where} ({exc.strerror or exc}); allowed: "
                         "a writable folder (--out DIR)") from None
    for path in written:
        print(path)
    return 0
