"""The device runs without lab code: ``somnoloop run`` and ``somnoloop --help`` in a fresh
interpreter where scikit-learn, YASA, LightGBM, pandas and :mod:`somnoloop_lab` cannot be
imported (a ``sys.meta_path`` finder refuses them, as if they were not installed).

``somnoloop_lab`` stays on ``PYTHONPATH``, so only the blocker keeps it out: the test proves
the device never reaches for it, not merely that it was missing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: What a device install (``pip install .`` without extras) must run without.
BLOCKED = ("sklearn", "yasa", "lightgbm", "pandas", "somnoloop_lab")
#: Sub-commands that need lab code (``somnoloop_lab.cli``).
LAB_COMMANDS = ("stage-eval", "emg-eval", "bench", "stage")

_BLOCKER = """
import runpy, sys

BLOCKED = {blocked!r}
tried = []


class NoLabCode:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            tried.append(name)
            raise ImportError(f"{{name}} is blocked (device install)", name=name)
        return None


sys.meta_path.insert(0, NoLabCode())
sys.argv = ["somnoloop", *sys.argv[1:]]
try:
    runpy.run_module("firmware_host", run_name="__main__", alter_sys=True)
finally:
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    print(f"BLOCKED-TRIED {{sorted(set(tried))}} LOADED {{loaded}}", file=sys.stderr)
"""


def _somnoloop(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tools")])}
    code = _BLOCKER.format(blocked=BLOCKED)
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=600, check=False)


def _report(stderr: str) -> str:
    return next(line for line in stderr.splitlines() if line.startswith("BLOCKED-TRIED"))


def test_run_needs_no_lab_code(tmp_path: Path) -> None:
    session = tmp_path / "session"
    res = _somnoloop("run", "--duration", "2m", "--quiet", "--session-dir", str(session))
    assert res.returncode == 0, res.stderr[-3000:]
    assert (session / "meta.json").is_file() and (session / "samples.bin").stat().st_size > 0
    assert _report(res.stderr).endswith("LOADED []")


def test_help_lists_no_lab_command_without_lab_code() -> None:
    res = _somnoloop("--help")
    assert res.returncode == 0, res.stderr[-3000:]
    commands = {line.split()[0] for line in res.stdout.splitlines() if line.startswith("    ")}
    assert {"run", "info", "check-config", "sim", "calibrate-emg"} <= commands
    assert not commands & set(LAB_COMMANDS), commands
    # the blocker was asked for somnoloop_lab (so it is what kept the commands out) and --help
    # says why they are missing
    assert "somnoloop_lab" in _report(res.stderr)
    assert "Lab commands are not installed" in res.stdout
    assert _report(res.stderr).endswith("LOADED []")


def test_help_lists_the_lab_commands_with_lab_code() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tools")])}
    res = subprocess.run([sys.executable, "-m", "firmware_host", "--help"], capture_output=True,
                         text=True, env=env, cwd=REPO, timeout=300, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    commands = {line.split()[0] for line in res.stdout.splitlines() if line.startswith("    ")}
    assert set(LAB_COMMANDS) <= commands
    assert "Lab commands are not installed" not in res.stdout
