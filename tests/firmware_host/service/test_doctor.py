"""``somnoloop doctor``: every check passing and failing, one line each, JSON, exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from firmware_host.cli import cmd_doctor, main
from firmware_host.config import parse_config
from firmware_host.service import doctor as d
from firmware_host.service.diskroom import Usage

GB = 10**9


def cfg(**sections):
    return parse_config(sections)


def hardware_cfg(port: str, *, factory: str = "lgpio", root: str = "/tmp"):
    """A bedside-like config: Cyton on ``port``, no serial actuators, GPIO E-stop."""
    return cfg(source={"kind": "brainflow", "brainflow": {"board": "CYTON_BOARD", "serial_port": port}},
               actuators={"mattress": {"enabled": False}, "hand": {"enabled": False},
                          "gpio": {"pin_factory": factory, "estop_pin": 26}},
               recorder={"root": root})


def commands(answers: dict[str, tuple[int, str]]):
    return lambda argv: answers[argv[0]]


def fail(exc: BaseException):
    def raiser(*_args):
        raise exc
    return raiser


class FakeFactory:
    closed = False

    def close(self) -> None:
        FakeFactory.closed = True


class NativeFactory(FakeFactory):
    """Named like gpiozero's last-resort factory."""


# ------------------------------------------------------------------ brainflow
def test_brainflow_loads_for_real() -> None:
    check = d.check_brainflow(d.Probes())
    assert check.ok is True and "BrainFlow" in check.detail


def test_brainflow_that_fails_to_load_on_aarch64_says_how_to_build_it() -> None:
    probes = d.Probes(load_brainflow=fail(OSError("libBoardController.so: cannot open shared object file")),
                      machine="aarch64")
    check = d.check_brainflow(probes)
    assert check.ok is False and "cannot open shared object" in check.detail
    assert d.BUILD_SCRIPT in check.fix and "aarch64" in check.fix
    assert (Path(__file__).resolve().parents[3] / d.BUILD_SCRIPT).is_file()


def test_brainflow_failure_on_x86_suggests_a_reinstall() -> None:
    check = d.check_brainflow(d.Probes(load_brainflow=fail(ImportError("no brainflow")), machine="x86_64"))
    assert check.ok is False and "reinstall" in check.fix


# ------------------------------------------------------------------ board and ports
def test_board_check_only_with_a_serial_port() -> None:
    assert d.check_board(cfg(), d.Probes()).ok is None


def test_board_answers_through_the_real_probe() -> None:
    """BrainFlow's synthetic board ignores the port: the real open/read/close path runs."""
    synthetic = {"board": "SYNTHETIC_BOARD", "serial_port": "/dev/null"}
    c = cfg(source={"kind": "brainflow", "brainflow": synthetic})
    check = d.check_board(c, d.Probes())
    assert check.ok is True and "samples at 250 Hz" in check.detail


def test_board_that_does_not_answer() -> None:
    probes = d.Probes(probe_board=fail(TimeoutError("no samples within 5 s")))
    check = d.check_board(hardware_cfg("/dev/ttyUSB0"), probes)
    assert check.ok is False and "no samples" in check.detail and "systemctl stop" in check.fix


def test_serial_port_present_and_accessible() -> None:
    leader, follower = os.openpty()
    try:
        check = d.check_serial_port("board", os.ttyname(follower))
    finally:
        os.close(leader)
        os.close(follower)
    assert check.ok is True and check.name == "serial_port:board"


def test_missing_serial_port(tmp_path) -> None:
    check = d.check_serial_port("hand", str(tmp_path / "ttyACM9"))
    assert check.ok is False and "does not exist" in check.detail and "/dev/serial/by-id" in check.fix


def test_serial_port_this_user_cannot_open(tmp_path) -> None:
    port = tmp_path / "ttyUSB7"
    port.touch(mode=0o600)
    check = d.check_serial_port("mattress", str(port), access=lambda _p, _m: False)
    assert check.ok is False and "dialout" in check.fix


@pytest.mark.skipif(os.geteuid() == 0, reason="root may open any file; the injected access test covers it")
def test_serial_port_without_permission_for_real(tmp_path) -> None:
    port = tmp_path / "ttyUSB7"
    port.touch(mode=0o000)
    assert d.check_serial_port("mattress", str(port)).ok is False


def test_serial_ports_of_a_config() -> None:
    c = cfg(source={"kind": "brainflow", "brainflow": {"serial_port": "/dev/a"}},
            actuators={"mattress": {"port": "/dev/b"}, "hand": {"enabled": False, "port": "/dev/c"}})
    assert d.serial_ports(c) == {"board": "/dev/a", "mattress": "/dev/b"}


# ------------------------------------------------------------------ GPIO
def test_gpio_not_applicable_with_the_mock_factory() -> None:
    assert d.check_pin_factory(cfg(), d.Probes()).ok is None


def test_gpio_factory_loads() -> None:
    FakeFactory.closed = False
    check = d.check_pin_factory(hardware_cfg("/dev/x"), d.Probes(load_pin_factory=lambda _n: FakeFactory()))
    assert check.ok is True and FakeFactory.closed


def test_absent_gpio_factory() -> None:
    absent = fail(RuntimeError("Unable to load any default pin factory!"))
    check = d.check_pin_factory(hardware_cfg("/dev/x", factory="default"), d.Probes(load_pin_factory=absent))
    assert check.ok is False and "lgpio" in check.fix


def test_native_fallback_factory_is_not_enough() -> None:
    check = d.check_pin_factory(hardware_cfg("/dev/x", factory="default"),
                                d.Probes(load_pin_factory=lambda _n: NativeFactory()))
    assert check.ok is False and "native fallback" in check.detail


def test_real_mock_factory_loads_by_name() -> None:
    factory = d.load_pin_factory("mock")
    assert type(factory).__name__ == "MockFactory"
    factory.close()


# ------------------------------------------------------------------ directories and disk
def blocked(tmp_path: Path) -> Path:
    """A directory nobody — not even root — can create: its parent is a regular file."""
    (tmp_path / "file").write_text("in the way")
    return tmp_path / "file" / "dir"


def test_numba_cache_dir(tmp_path) -> None:
    ok = d.check_numba_cache(d.Probes(environ={"NUMBA_CACHE_DIR": str(tmp_path)}))
    bad = d.check_numba_cache(d.Probes(environ={"NUMBA_CACHE_DIR": str(blocked(tmp_path))}))
    assert ok.ok is True and bad.ok is False and "NUMBA_CACHE_DIR" in bad.fix
    assert "NUMBA_CACHE_DIR unset" in d.check_numba_cache(d.Probes(environ={})).detail


def test_data_dir(tmp_path) -> None:
    assert d.check_data_dir(cfg(recorder={"root": str(tmp_path)})).ok is True
    later = d.check_data_dir(cfg(recorder={"root": str(tmp_path / "a" / "b")}))
    assert later.ok is True and "does not exist yet" in later.detail
    assert not (tmp_path / "a").exists()  # the doctor creates nothing
    bad = d.check_data_dir(cfg(recorder={"root": str(blocked(tmp_path))}))
    assert bad.ok is False and "not writable" in bad.detail and "[recorder] root" in bad.fix


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any directory")
def test_read_only_data_dir_for_real(tmp_path) -> None:
    tmp_path.chmod(0o500)
    try:
        assert d.check_data_dir(cfg(recorder={"root": str(tmp_path)})).ok is False
    finally:
        tmp_path.chmod(0o700)


def test_disk_room(tmp_path) -> None:
    c = cfg(recorder={"root": str(tmp_path / "sessions")})
    roomy = d.Probes(disk_usage=lambda _p: Usage(32 * GB, 2 * GB, 30 * GB))
    full = d.Probes(disk_usage=lambda _p: Usage(32 * GB, 32 * GB - 10**8, 10**8))
    assert d.check_disk_room(c, roomy).ok is True
    check = d.check_disk_room(c, full)
    assert check.ok is False and "100 MB free" in check.detail and "retention" in check.fix


# ------------------------------------------------------------------ clock and service
@pytest.mark.parametrize(("answer", "ok"), [
    ((0, "yes"), True), ((0, "no"), False),
    ((1, "System has not been booted with systemd as init system (PID 1)."), None),
    ((127, "timedatectl: not installed"), None),
])
def test_clock_sync(answer, ok) -> None:
    check = d.check_clock(d.Probes(run_command=commands({"timedatectl": answer})))
    assert check.ok is ok
    if ok is None:
        assert check.detail.startswith("unknown")


@pytest.mark.parametrize(("answer", "ok"), [
    ((0, "enabled"), True), ((1, "disabled"), False),
    ((1, "Failed to get unit file state for somnoloop.service: No such file or directory"), False),
    ((127, "systemctl: not installed"), None),
])
def test_service_enabled(answer, ok) -> None:
    check = d.check_service(d.Probes(run_command=commands({"systemctl": answer})))
    assert check.ok is ok
    if ok is False:
        assert "systemctl enable --now somnoloop" in check.fix


def test_run_command_for_real() -> None:
    assert d.run_command(["true"]) == (0, "")
    assert d.run_command(["no-such-program-xyz"])[0] == 127


# ------------------------------------------------------------------ the command
def all_good_probes(tmp_path: Path) -> d.Probes:
    return d.Probes(load_brainflow=lambda: "5.0", probe_board=lambda _c: "250 samples at 250 Hz",
                    load_pin_factory=lambda _n: FakeFactory(),
                    run_command=commands({"timedatectl": (0, "yes"), "systemctl": (0, "enabled")}),
                    disk_usage=lambda _p: Usage(32 * GB, GB, 31 * GB),
                    environ={"NUMBA_CACHE_DIR": str(tmp_path)})


def write_config(tmp_path: Path, port: str) -> Path:
    path = tmp_path / "bedside.toml"
    path.write_text(f"""
[source]
kind = "brainflow"
[source.brainflow]
board = "CYTON_BOARD"
serial_port = "{port}"
[actuators.mattress]
enabled = false
[actuators.hand]
enabled = false
[actuators.gpio]
pin_factory = "lgpio"
[recorder]
root = "{tmp_path / 'sessions'}"
""")
    return path


def test_doctor_all_passing_exit_0(tmp_path, monkeypatch, capsys) -> None:
    leader, follower = os.openpty()
    monkeypatch.setattr(cmd_doctor, "Probes", lambda: all_good_probes(tmp_path))
    try:
        code = main(["doctor", "--config", str(write_config(tmp_path, os.ttyname(follower)))])
    finally:
        os.close(leader)
        os.close(follower)
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    names = ["brainflow", "serial_port:board", "board", "gpio", "numba_cache", "data_dir", "disk_room",
             "clock_sync", "service"]
    assert len(lines) == len(names)  # one line per check
    for line, name in zip(lines, names, strict=True):
        assert line.split()[0] == "ok" and line.split()[1] == f"{name}:"


def test_doctor_json_with_failures_exit_1(tmp_path, monkeypatch, capsys) -> None:
    probes = all_good_probes(tmp_path)
    probes.load_brainflow = fail(OSError("cannot open shared object file"))
    probes.run_command = commands({"timedatectl": (1, "no systemd"), "systemctl": (1, "disabled")})
    monkeypatch.setattr(cmd_doctor, "Probes", lambda: probes)
    code = main(["doctor", "--json", "--config", str(write_config(tmp_path, str(tmp_path / "ttyUSB0")))])
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    by_name = {c["name"]: c for c in out["checks"]}
    for check in out["checks"]:
        assert {"name", "ok", "fix"} <= set(check)
    assert by_name["brainflow"]["ok"] is False and by_name["brainflow"]["fix"]
    assert by_name["serial_port:board"]["ok"] is False
    assert by_name["clock_sync"]["ok"] is None and by_name["service"]["ok"] is False
    assert by_name["data_dir"]["ok"] is True and out["ok"] is False


def test_doctor_text_gives_the_fix_on_the_failing_line(tmp_path, monkeypatch, capsys) -> None:
    probes = all_good_probes(tmp_path)
    probes.environ = {"NUMBA_CACHE_DIR": str(blocked(tmp_path))}
    monkeypatch.setattr(cmd_doctor, "Probes", lambda: probes)
    leader, follower = os.openpty()
    try:
        code = main(["doctor", "--config", str(write_config(tmp_path, os.ttyname(follower)))])
    finally:
        os.close(leader)
        os.close(follower)
    line = next(ln for ln in capsys.readouterr().out.splitlines() if "numba_cache" in ln)
    assert code == 1 and line.startswith("FAIL") and "→ set NUMBA_CACHE_DIR" in line


def test_doctor_bad_config_is_exit_2(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[service]\nrollover = '7h'\n")
    assert main(["doctor", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "service.rollover" in err and "Traceback" not in err


def test_default_pin_factory_off_a_pi_is_absent_for_real() -> None:
    """On a machine without GPIO, gpiozero's default factory really fails to load."""
    try:
        factory = d.load_pin_factory("default")
    except Exception:  # noqa: BLE001 - whatever gpiozero raises is the failing path
        check = d.check_pin_factory(hardware_cfg("/dev/x", factory="default"), d.Probes())
        assert check.ok is False and "does not load" in check.detail
    else:
        factory.close()
        pytest.skip(f"this machine has GPIO ({type(factory).__name__})")
