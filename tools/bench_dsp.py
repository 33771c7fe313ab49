#!/usr/bin/env python
"""Print the DSP benchmark as JSON (same as ``somnoloop bench dsp --json``).

Usage: ``python tools/bench_dsp.py [--repeats N] [--night-hours H] [--no-yasa] [--table]``
"""

from __future__ import annotations

import argparse
import sys

from firmware_host.errors import UsageError
from somnoloop_lab.cli import cmd_bench


def main(argv: list[str]) -> int:
    """Run ``bench dsp`` with only the bench command loaded; JSON unless ``--table``."""
    parser = argparse.ArgumentParser(prog="bench_dsp")
    cmd_bench.register(parser.add_subparsers(dest="command"))
    table = "--table" in argv
    rest = [a for a in argv if a != "--table"]
    args = parser.parse_args(["bench", "dsp", *([] if table else ["--json"]), *rest])
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"bench_dsp: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
