"""The import layering of the package, checked by parsing every module with ``ast``.

* ``dsp`` imports nothing of ours (no ``firmware_host``, no ``actuators``);
* ``actuators`` imports nothing of ours (no ``firmware_host``, no ``dsp``);
* hardware libraries (brainflow, gpiozero, serial) are imported only in adapter modules.

To allow a new adapter, add a rule to :data:`HARDWARE_ADAPTERS`.
"""

from __future__ import annotations

import ast
import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("dsp", "actuators", "firmware_host")

#: Our top-level packages each package must not import.
FORBIDDEN_OURS: dict[str, tuple[str, ...]] = {
    "dsp": ("firmware_host", "actuators"),
    "actuators": ("firmware_host", "dsp"),
    "firmware_host": (),
}

#: Hardware libraries and the only modules allowed to import them: ``fnmatch`` patterns on
#: repo-relative paths (``*`` also matches ``/``, so ``actuators/*gpio*.py`` covers
#: sub-packages too).
HARDWARE_LIBS = ("brainflow", "gpiozero", "serial")
HARDWARE_ADAPTERS: tuple[str, ...] = (
    "firmware_host/sources/brainflow_board.py",
    "firmware_host/sources/brainflow_board/*.py",
    "firmware_host/neurofeedback/brainflow_metrics.py",
    "actuators/*serial*.py",
    "actuators/*gpio*.py",
    "actuators/*link*.py",
    "actuators/*pty*.py",
)


def _modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``, relative ones resolved."""
    return _parse_imports(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())


def _parse_imports(source: str, rel: str) -> list[tuple[int, str]]:
    """Imports of module source ``source`` located at repo-relative path ``rel``."""
    tree = ast.parse(source, filename=rel)
    package_parts = rel.split("/")[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = package_parts[: len(package_parts) - (node.level - 1)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return found


def _is_adapter(rel: str) -> bool:
    return any(fnmatch.fnmatch(rel, pattern) for pattern in HARDWARE_ADAPTERS)


def _violations() -> list[str]:
    problems = []
    for path in _modules():
        rel = path.relative_to(ROOT).as_posix()
        pkg = rel.split("/")[0]
        for line, name in _imports(path):
            top = name.split(".")[0]
            if top in FORBIDDEN_OURS[pkg]:
                problems.append(f"{rel}:{line}: '{pkg}' must not import '{name}' (layering)")
            if top in HARDWARE_LIBS and not _is_adapter(rel):
                problems.append(
                    f"{rel}:{line}: imports hardware library '{name}' outside an adapter module "
                    f"(allowed: {', '.join(HARDWARE_ADAPTERS)})"
                )
    return problems


def test_layering_and_hardware_imports() -> None:
    problems = _violations()
    assert not problems, "import layering violated:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("firmware_host/sources/brainflow_board.py", True),
        ("firmware_host/sources/brainflow_board/files.py", True),
        ("firmware_host/sources/replay.py", False),
        ("actuators/serial_link.py", True),
        ("actuators/mattress/pty_sim.py", True),
        ("actuators/gpio_devices.py", True),
        ("actuators/base.py", False),
        ("firmware_host/loop.py", False),
        ("dsp/filters.py", False),
    ],
)
def test_adapter_patterns(rel: str, expected: bool) -> None:
    assert _is_adapter(rel) is expected


def test_import_parser_sees_relative_and_nested_imports() -> None:
    src = "from . import filters\nfrom ..firmware_host import chunk\ndef f():\n    import serial\n"
    names = sorted(n for _, n in _parse_imports(src, "dsp/probe.py"))
    assert names == ["dsp", "firmware_host", "serial"]
    sub = sorted(n for _, n in _parse_imports("from .base import X\n", "actuators/hand/drv.py"))
    assert sub == ["actuators.hand.base"]
