"""``somnoloop export SESSION --edf FILE [--csv FILE]``: EDF+ and the hypnogram as CSV."""

from __future__ import annotations

import argparse
from pathlib import Path

from firmware_host.errors import UsageError
from firmware_host.report.files import write_private
from firmware_host.report.night import load_night
from firmware_host.session import SessionError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``export`` sub-command."""
    p = sub.add_parser("export", help="export a session to EDF+ with stage and event annotations")
    p.add_argument("session", help="session directory")
    p.add_argument("--edf", required=True, help="EDF+ file to write")
    p.add_argument("--csv", help="hypnogram CSV (YASA layout); default: beside the EDF, "
                                 "<name>.hypnogram.csv")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the EDF+ file and the hypnogram CSV; print both paths."""
    # Imported here: every command's module is imported to build the parser, and
    # `somnoloop run` must not hold the EDF library all night.
    from firmware_host.report.export import export_edf, hypnogram_csv

    edf = Path(args.edf)
    if edf.suffix.lower() != ".edf":
        raise UsageError(f"--edf {args.edf!r}: the file name must end in .edf")
    if not edf.parent.is_dir():
        raise UsageError(f"--edf {args.edf!r}: folder {edf.parent} does not exist")
    if edf.is_dir():
        raise UsageError(f"--edf {args.edf!r} is a folder; allowed: a file name ending in .edf")
    csv_path = Path(args.csv) if args.csv else edf.with_suffix(".hypnogram.csv")
    if not csv_path.parent.is_dir() or csv_path.is_dir():
        raise UsageError(f"--csv {str(csv_path)!r}: allowed: a file in an existing folder")
    try:
        night = load_night(args.session)
        export_edf(args.session, edf, night)
    except SessionError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"--edf {args.edf!r}: cannot write {exc.filename or args.edf} "
                         f"({exc.strerror})") from None
    try:
        write_private(csv_path, hypnogram_csv(night).encode())
    except OSError as exc:
        raise UsageError(f"--csv {str(csv_path)!r}: cannot write it ({exc.strerror})") from None
    print(edf)
    print(csv_path)
    return 0
