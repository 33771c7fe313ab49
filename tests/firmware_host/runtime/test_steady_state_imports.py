"""What the device process holds all night: no module it only needs at the end or elsewhere.

``somnoloop run`` keeps its resident memory down (issue 17: ≤ 200 MB at steady state) by not
importing, while the night runs, what it does not use then: scipy.signal and scipy.fft
(≈ 65 MB; the device's designs live in :mod:`dsp.design`), matplotlib and the report
(≈ 30 MB; imported at the night's end to write the report), EDF export and the console.
A fresh interpreter builds the CLI's parser (every sub-command's module, as ``somnoloop run``
does) and runs a short default night; the modules are listed as the loop stops.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
#: Modules (and their sub-modules) the running night must not hold.
NOT_WHILE_RUNNING = ("scipy.signal", "scipy.fft", "matplotlib", "PIL", "edfio", "textual",
                     "firmware_host.report.writer", "firmware_host.report.export")

_CHILD = """
import json, sys
from firmware_host.cli import build_parser
from firmware_host.config import load_config
from firmware_host.runtime.hooks import RunObserver
from firmware_host.runtime.run import Run

class Modules(RunObserver):
    def on_stopping(self, run, reason):
        self.names = sorted(sys.modules)

build_parser()
seen = Modules()
Run(load_config(None), duration="2m", speed="max", session_dir=sys.argv[1], observers=[seen]).run()
print(json.dumps(seen.names))
"""


def test_a_running_night_holds_no_report_plotting_or_scipy_signal(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tools")])}
    res = subprocess.run([sys.executable, "-c", _CHILD, str(tmp_path / "s")], capture_output=True,
                         text=True, env=env, cwd=REPO, timeout=600, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    names = json.loads(res.stdout.strip().splitlines()[-1])
    assert "firmware_host.runtime.loop" in names and "dsp.design" in names  # it did run the loop
    held = [n for n in names if any(n == m or n.startswith(m + ".") for m in NOT_WHILE_RUNNING)]
    assert held == []
