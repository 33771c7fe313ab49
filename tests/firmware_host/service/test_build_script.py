"""tools/build_brainflow_aarch64.sh: valid bash, documented options, clear refusals (no compile here)."""

from __future__ import annotations

import platform
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "tools" / "build_brainflow_aarch64.sh"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


def test_script_parses() -> None:
    assert subprocess.run(["bash", "-n", str(SCRIPT)], timeout=60).returncode == 0


def test_help_lists_every_option() -> None:
    result = run("--help")
    assert result.returncode == 0
    for option in ("--venv", "--version", "--src", "--jobs", "--force"):
        assert option in result.stdout
    assert "set -euo" not in result.stdout


def test_unknown_option_is_refused() -> None:
    result = run("--bogus")
    assert result.returncode == 2 and "allowed: --venv" in result.stderr


@pytest.mark.skipif(platform.machine() == "aarch64", reason="this machine is aarch64")
def test_refuses_to_build_off_the_pi_without_force() -> None:
    result = run()
    assert result.returncode == 2 and "not aarch64" in result.stderr and "--force" in result.stderr


def test_missing_venv_is_named(tmp_path) -> None:
    result = run("--force", "--venv", str(tmp_path / "venv"))
    assert result.returncode == 2 and f"no Python at {tmp_path / 'venv'}/bin/python" in result.stderr
