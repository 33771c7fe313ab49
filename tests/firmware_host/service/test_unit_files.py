"""The files the install guide copies: systemd unit, sysusers entry, udev rules."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CONFIGS = Path(__file__).resolve().parents[3] / "configs"
UNIT = CONFIGS / "systemd" / "somnoloop.service"
SYSUSERS = CONFIGS / "systemd" / "somnoloop.sysusers"
RULES = CONFIGS / "udev" / "99-somnoloop.rules"

needs_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze not installed (Debian package 'systemd')",
)


def unit_settings() -> dict[str, list[str]]:
    """``key -> [values]`` of the unit file (repeated keys kept in order)."""
    out: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def installed_unit(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at an executable that exists on this machine.

    ``systemd-analyze verify`` refuses a unit whose ExecStart binary is missing; the unit
    names the Pi's venv (/opt/somnoloop/venv), so the copy names the ``somnoloop`` script of
    this interpreter's environment, or the interpreter itself with ``-m firmware_host``.
    """
    script = shutil.which("somnoloop", path=str(Path(sys.executable).parent)) or shutil.which("somnoloop")
    command = f"{script} run" if script else f"{sys.executable} -m firmware_host run"
    text = re.sub(r"^ExecStart=\S+ run", f"ExecStart={command}", UNIT.read_text(), flags=re.M)
    path = tmp_path / "somnoloop.service"
    path.write_text(text)
    return path


@needs_analyze
def test_systemd_analyze_verify_accepts_the_unit(tmp_path) -> None:
    unit = installed_unit(tmp_path)
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                            text=True, timeout=120, cwd=tmp_path)
    # verify only warns (exit 0) about unknown keys: any line about our unit is a failure.
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if unit.name in line]
    assert result.returncode == 0, result.stderr
    assert complaints == []


@needs_analyze
def test_verify_catches_a_broken_unit(tmp_path) -> None:
    """The check above can fail: a missing ExecStart binary is refused."""
    unit = tmp_path / "somnoloop.service"
    unit.write_text(re.sub(r"^ExecStart=\S+", "ExecStart=/nonexistent/somnoloop",
                           UNIT.read_text(), flags=re.M))
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                            text=True, timeout=120, cwd=tmp_path)
    assert result.returncode != 0 and "not executable" in result.stderr


@needs_analyze
def test_hardening_exposure_is_low(tmp_path) -> None:
    unit = installed_unit(tmp_path)
    result = subprocess.run(["systemd-analyze", "security", "--offline=true", str(unit)],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    if result.returncode != 0 and "offline" in result.stderr:
        pytest.skip(f"this systemd-analyze has no offline security scan: {result.stderr.strip()}")
    match = re.search(r"Overall exposure level for \S+: ([0-9.]+)", result.stdout)
    assert match, result.stdout[-500:]
    assert float(match.group(1)) <= 2.0  # "OK" band of systemd's 0–10 scale


def test_unit_declares_what_the_issue_asks() -> None:
    s = unit_settings()
    assert s["Type"] == ["notify"]
    assert s["Restart"] == ["on-failure"]
    assert "WatchdogSec" in s and "StartLimitIntervalSec" in s and "StartLimitBurst" in s
    assert s["User"] == ["somnoloop"]
    assert set(s["SupplementaryGroups"][0].split()) == {"dialout", "gpio"}
    assert s["StateDirectory"] == ["somnoloop"] and s["CacheDirectory"] == ["somnoloop"]
    assert "NUMBA_CACHE_DIR=/var/cache/somnoloop" in s["Environment"]
    for key in ("ProtectSystem", "ProtectHome", "NoNewPrivileges", "PrivateTmp"):
        assert key in s
    assert s["DevicePolicy"] == ["closed"]
    assert {d.split()[0] for d in s["DeviceAllow"]} == {"char-ttyUSB", "char-ttyACM", "char-gpiochip"}
    assert "MemoryDenyWriteExecute" not in s  # numba's JIT needs W+X pages
    # The config the unit runs is the one the install guide copies.
    assert "--config /etc/somnoloop/bedside.toml" in s["ExecStart"][0]


@pytest.mark.skipif(shutil.which("systemd-sysusers") is None,
                    reason="systemd-sysusers not installed (Debian package 'systemd')")
def test_sysusers_entry_creates_the_user_in_its_groups(tmp_path) -> None:
    result = subprocess.run(["systemd-sysusers", f"--root={tmp_path}", "--dry-run", str(SYSUSERS)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout + result.stderr
    assert "Creating user 'somnoloop'" in out
    assert "Creating group 'dialout'" in out and "Creating group 'gpio'" in out


# One udev assignment or match: KEY, optional {attribute}, operator, "value".
_TOKEN = re.compile(r'^\s*([A-Z_]+)(\{[^}]+\})?\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*$')
_MATCH_KEYS = {"ACTION", "SUBSYSTEM", "SUBSYSTEMS", "DRIVERS", "DRIVER", "KERNEL", "ATTRS", "ATTR",
               "ENV"}
_ASSIGN_KEYS = {"ATTR", "GROUP", "MODE", "SYMLINK", "OWNER", "ENV"}


def udev_rules() -> list[list[tuple[str, str, str, str]]]:
    rules = []
    for line in RULES.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        tokens = []
        for part in line.split(", "):
            m = _TOKEN.match(part)
            assert m, f"not a udev key/operator/value: {part!r} in {line!r}"
            key, attr, op, value = m.groups()
            tokens.append((key, attr or "", op, value))
        rules.append(tokens)
    return rules


def test_udev_rules_are_well_formed_and_cover_the_devices() -> None:
    rules = udev_rules()
    for tokens in rules:
        matches = [t for t in tokens if t[2] in ("==", "!=")]
        assigns = [t for t in tokens if t[2] in ("=", "+=", ":=")]
        assert matches and assigns, tokens
        assert {t[0] for t in matches} <= _MATCH_KEYS and {t[0] for t in assigns} <= _ASSIGN_KEYS
    flat = [set(tokens) for tokens in rules]
    latency = [r for r in flat if ("ATTR", "{latency_timer}", "=", "1") in r]
    assert latency and ("ATTRS", "{idVendor}", "==", "0403") in latency[0]
    links = {t[3] for tokens in rules for t in tokens if t[0] == "SYMLINK"}
    assert links == {"somnoloop/openbci", "somnoloop/mattress", "somnoloop/hand"}
    assert any(("GROUP", "", "=", "gpio") in r for r in flat)
