"""``somnoloop doctor``: what a bedside install needs, one small check each, with the fix.

Each check returns a :class:`Check`; ``ok`` is ``True`` (passes), ``False`` (fails: the
``fix`` says what to do) or ``None`` (not applicable to this config, or cannot be known on
this machine — said so honestly, never reported as passing). Everything that touches
hardware, libraries or other programs goes through :class:`Probes`, so every check is tested
passing and failing without a Pi.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firmware_host.config.schema import Config
from firmware_host.service.diskroom import Usage, check_disk
from firmware_host.session.paths import default_root

BUILD_SCRIPT = "tools/build_brainflow_aarch64.sh"
SERVICE = "somnoloop"


@dataclass(frozen=True)
class Check:
    """The outcome of one check.

    Parameters
    ----------
    name
        Stable identifier (``brainflow``, ``serial_port:hand``, ``clock_sync``…).
    ok
        ``True`` passes, ``False`` fails, ``None`` not applicable or unknown.
    detail
        What was found.
    fix
        What to do when it fails (or how to find out, when unknown).
    """

    name: str
    ok: bool | None
    detail: str
    fix: str = ""

    @property
    def status(self) -> str:
        """``"ok"``, ``"FAIL"`` or ``"n/a"``."""
        return {True: "ok", False: "FAIL", None: "n/a"}[self.ok]

    def to_json(self) -> dict[str, Any]:
        """``{"name", "ok", "fix", "detail", "status"}``."""
        return {"name": self.name, "ok": self.ok, "fix": self.fix, "detail": self.detail,
                "status": self.status}


def run_command(argv: list[str]) -> tuple[int, str]:
    """Run a short command; ``(exit code, stdout + stderr)``; 127 when it is not installed."""
    if shutil.which(argv[0]) is None:
        return 127, f"{argv[0]}: not installed"
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except subprocess.TimeoutExpired:
        return 124, f"{' '.join(argv)}: no answer within 10 s"
    return done.returncode, " ".join((done.stdout + done.stderr).split())  # one line


def load_brainflow() -> str:
    """Load BrainFlow's native libraries (board controller, data handler); return their version."""
    from brainflow.board_shim import BoardShim
    from brainflow.data_filter import DataFilter

    DataFilter.get_version()
    return BoardShim.get_version()


def probe_board(cfg: Config, wait_s: float = 5.0) -> str:
    """Open the configured BrainFlow board, wait for samples, close it; say what came."""
    from brainflow.board_shim import BoardShim

    from firmware_host.clock import RealClock
    from firmware_host.sources.brainflow_board import BrainFlowSource

    BoardShim.set_log_file(os.devnull)  # its errors reach the check's detail, not stderr
    source = BrainFlowSource(cfg.source.brainflow, RealClock())
    source.open()
    try:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            chunk = source.read()
            if chunk is not None and chunk.n_samples:
                return f"{chunk.n_samples} samples at {source.sfreq:g} Hz"
            time.sleep(0.1)
    finally:
        source.close()
    raise TimeoutError(f"the board opened but sent no samples within {wait_s:g} s")


def load_pin_factory(name: str) -> Any:
    """The gpiozero pin factory the run would use (``default``: gpiozero's own choice)."""
    if name == "default":
        from gpiozero.devices import Device

        with warnings.catch_warnings():  # gpiozero warns for each factory it falls back from
            warnings.simplefilter("ignore")
            return Device._default_pin_factory()  # the choice gpiozero makes for the first device
    from actuators.gpio_devices import make_pin_factory

    return make_pin_factory(name)


@dataclass
class Probes:
    """What the checks may touch; tests replace any of these."""

    load_brainflow: Callable[[], str] = load_brainflow
    probe_board: Callable[[Config], str] = probe_board
    load_pin_factory: Callable[[str], Any] = load_pin_factory
    run_command: Callable[[list[str]], tuple[int, str]] = run_command
    disk_usage: Callable[[str | Path], Usage] = shutil.disk_usage
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    machine: str = field(default_factory=platform.machine)


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def check_brainflow(probes: Probes) -> Check:
    """BrainFlow's native libraries load on this CPU."""
    try:
        version = probes.load_brainflow()
    except Exception as exc:  # noqa: BLE001 - ctypes/OSError/ImportError all mean "not usable"
        fix = "reinstall brainflow (pip install --force-reinstall brainflow)"
        if probes.machine in ("aarch64", "arm64", "armv7l"):
            fix = (f"the PyPI wheel has no Linux {probes.machine} library: build it with "
                   f"{BUILD_SCRIPT} (see 'Raspberry Pi install' in the README)")
        return Check("brainflow", False, f"native library does not load on {probes.machine}: "
                     f"{_error(exc)}", fix)
    return Check("brainflow", True, f"BrainFlow {version} native libraries load on {probes.machine}")


def check_board(cfg: Config, probes: Probes) -> Check:
    """The configured board answers on its serial port (only when one is configured)."""
    bf = cfg.source.brainflow
    if cfg.source.kind != "brainflow" or not bf.serial_port:
        return Check("board", None, "no BrainFlow board on a serial port in this config")
    try:
        answer = probes.probe_board(cfg)
    except Exception as exc:  # noqa: BLE001 - any failure means "does not answer"
        return Check("board", False, f"{bf.board} on {bf.serial_port} does not answer: {_error(exc)}",
                     "switch the board on, check the dongle's switch (PC) and channel; stop the "
                     "service first (systemctl stop somnoloop): only one process can hold the port")
    return Check("board", True, f"{bf.board} on {bf.serial_port} answers: {answer}")


def serial_ports(cfg: Config) -> dict[str, str]:
    """``role -> port`` of every serial port the config uses."""
    ports = {}
    if cfg.source.kind == "brainflow" and cfg.source.brainflow.serial_port:
        ports["board"] = cfg.source.brainflow.serial_port
    for role in ("mattress", "hand"):
        port_cfg = getattr(cfg.actuators, role)
        if port_cfg.enabled and port_cfg.port:
            ports[role] = port_cfg.port
    return ports


def check_serial_port(role: str, port: str,
                      access: Callable[[Path, int], bool] = os.access) -> Check:
    """The port exists and this user may read and write it (``access`` injected in tests)."""
    name = f"serial_port:{role}"
    path = Path(port)
    if not path.exists():
        return Check(name, False, f"{port} does not exist",
                     "plug the device in; name it by /dev/serial/by-id/… or the udev symlink "
                     "(configs/udev/99-somnoloop.rules); list candidates with ls -l /dev/serial/by-id")
    if not access(path, os.R_OK | os.W_OK):
        user = _user()
        return Check(name, False, f"{port} is not readable and writable by user {user}",
                     f"add {user} to the port's group (usermod -aG dialout {user}) and log in again, "
                     "or install configs/udev/99-somnoloop.rules")
    return Check(name, True, f"{port} ({path.resolve()}) is readable and writable")


def check_pin_factory(cfg: Config, probes: Probes) -> Check:
    """The configured GPIO pin factory loads (on a Pi 5 gpiozero needs lgpio)."""
    g = cfg.actuators.gpio
    used = bool(g.status_led_pins) or g.estop_pin >= 0 or g.vibration_pin >= 0 or bool(g.servo_hand_pins)
    if g.pin_factory == "mock" or not used:
        return Check("gpio", None, "no hardware GPIO in this config (mock pin factory or no GPIO device)")
    fix = ("install lgpio (Raspberry Pi OS: apt install python3-lgpio, or pip install lgpio in the "
           "venv) and set [actuators.gpio] pin_factory = \"lgpio\"; the service user needs the gpio group")
    try:
        factory = probes.load_pin_factory(g.pin_factory)
    except Exception as exc:  # noqa: BLE001 - gpiozero raises many types for a missing chip/library
        return Check("gpio", False, f"pin factory {g.pin_factory!r} does not load: {_error(exc)}", fix)
    kind = type(factory).__name__
    with contextlib.suppress(Exception):
        factory.close()
    if kind == "NativeFactory":  # gpiozero's last resort: no PWM, does not drive a Pi 5's RP1
        return Check("gpio", False, "only gpiozero's native fallback factory loads", fix)
    return Check("gpio", True, f"pin factory {g.pin_factory!r} loads ({kind})")


def check_writable_dir(name: str, path: Path, fix: str) -> Check:
    """A file can be written in ``path`` — or, when it does not exist yet, in the nearest
    existing parent, which is where the run will create it. Nothing is created here: a
    doctor run as root must not leave root-owned directories behind.
    """
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    where = "" if existing == path else f" (does not exist yet; checked its parent {existing})"
    try:
        if existing is None or not existing.is_dir():
            raise NotADirectoryError(f"{existing or path} is not a directory")
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Check(name, False, f"{path} is not writable by user {_user()}{where}: {_error(exc)}", fix)
    return Check(name, True, f"{path} is writable{where}")


def check_numba_cache(probes: Probes) -> Check:
    """numba can write its compiled-kernel cache (else every start compiles for minutes)."""
    configured = probes.environ.get("NUMBA_CACHE_DIR", "")
    fix = ("set NUMBA_CACHE_DIR to a writable directory on persistent storage (the systemd unit "
           "uses /var/cache/somnoloop with CacheDirectory=somnoloop)")
    if configured:
        return check_writable_dir("numba_cache", Path(configured), fix)
    import dsp  # numba's default cache is __pycache__ next to the kernels' sources

    check = check_writable_dir("numba_cache", Path(dsp.__file__).parent / "__pycache__", fix)
    return Check(check.name, check.ok, "NUMBA_CACHE_DIR unset; " + check.detail, check.fix)


def check_data_dir(cfg: Config) -> Check:
    """The sessions root is writable (or can be created)."""
    root = default_root(cfg)
    return check_writable_dir(
        "data_dir", root,
        f"create it and give it to the service user (install -d -o somnoloop {root}), "
        "or set [recorder] root to a directory under /var/lib/somnoloop (StateDirectory)")


def check_disk_room(cfg: Config, probes: Probes) -> Check:
    """The data partition has more free space than ``[service] disk_low_mb``."""
    root = default_root(cfg)
    existing = next((p for p in (root, *root.parents) if p.exists()), Path("/"))
    low = int(cfg.service.disk_low_mb * 1e6)
    room = check_disk(existing, low_free_bytes=low, critical_free_bytes=min(low, int(
        cfg.service.disk_critical_mb * 1e6)), usage=probes.disk_usage)
    if room.level != "ok":
        return Check("disk_room", False, f"{existing}: {room.message}",
                     "export and report old sessions, then let retention delete them "
                     "([service] retention_budget_gb), or move [recorder] root to a larger disk")
    return Check("disk_room", True, f"{existing}: {room.message}")


def check_clock(probes: Probes) -> Check:
    """The system clock is NTP-synchronised (a Pi has no real-time clock)."""
    code, out = probes.run_command(["timedatectl", "show", "-p", "NTPSynchronized", "--value"])
    if code != 0 or out not in ("yes", "no"):
        return Check("clock_sync", None, f"unknown: timedatectl gives no answer ({out or code})",
                     "on the Pi, check with: timedatectl status")
    if out == "no":
        return Check("clock_sync", False, "the clock is not NTP-synchronised",
                     "connect to a network and enable NTP: timedatectl set-ntp true "
                     "(sessions started before the sync are re-dated by clock_jump events)")
    return Check("clock_sync", True, "NTP-synchronised")


def check_service(probes: Probes) -> Check:
    """The systemd service is enabled (starts at boot)."""
    code, out = probes.run_command(["systemctl", "is-enabled", SERVICE])
    state = out.splitlines()[-1] if out else ""
    if code == 127:
        return Check("service", None, "unknown: systemctl is not installed here")
    if code == 0 and state in ("enabled", "enabled-runtime", "static", "alias"):
        return Check("service", True, f"{SERVICE}.service is {state}")
    return Check("service", False, f"{SERVICE}.service is not enabled ({state or f'exit {code}'})",
                 "install configs/systemd/somnoloop.service to /etc/systemd/system/, then "
                 "systemctl daemon-reload && systemctl enable --now somnoloop")


def run_checks(cfg: Config, probes: Probes | None = None) -> list[Check]:
    """Every check, in the order an install proceeds."""
    p = Probes() if probes is None else probes
    checks = [check_brainflow(p)]
    checks += [check_serial_port(role, port) for role, port in serial_ports(cfg).items()]
    checks += [check_board(cfg, p), check_pin_factory(cfg, p), check_numba_cache(p),
               check_data_dir(cfg), check_disk_room(cfg, p), check_clock(p), check_service(p)]
    return checks


def _user() -> str:
    import pwd

    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())
