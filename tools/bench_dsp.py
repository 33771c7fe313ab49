#!/usr/bin/env python
"""Print the DSP benchmark as JSON (same as ``somnoloop bench dsp --json``).

Usage: ``python tools/bench_dsp.py [--repeats N] [--night-hours H] [--no-yasa]``
"""

from __future__ import annotations

import sys

from firmware_host.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "dsp", "--json", *sys.argv[1:]]))
