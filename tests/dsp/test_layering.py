"""The import layering of the package, checked by parsing every module with ``ast``.

* ``dsp`` imports nothing of ours (no ``firmware_host``, no ``actuators``);
* ``actuators`` imports nothing of ours (no ``firmware_host``, no ``dsp``);
* hardware libraries (brainflow, gpiozero, serial) are imported only in adapter modules;
* device code (``dsp``, ``actuators``, ``firmware_host``) never imports lab code
  (``somnoloop_lab``) or lab-only libraries (scikit-learn, YASA, LightGBM, pandas), and only
  the CLI imports the CLI (the CLI may import device code, not the reverse);
* no import cycle between modules of ours (device and lab packages alike).

To allow a new adapter, add a rule to :data:`HARDWARE_ADAPTERS`.
"""

from __future__ import annotations

import ast
import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("dsp", "actuators", "firmware_host")
#: Lab packages: folder of each (they live under ``tools/``), checked for import cycles only.
LAB_PACKAGES = {"somnoloop_lab": ROOT / "tools" / "somnoloop_lab"}

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
    "firmware_host/service/doctor.py",  # probes that BrainFlow's library and a pin factory load
)


#: Lab code and lab-only libraries: device code must run without them.
LAB_ONLY = ("somnoloop_lab", "sklearn", "yasa", "lightgbm", "pandas")
#: The one allowed exception: the CLI adds the lab sub-commands when ``somnoloop_lab.cli``
#: imports (inside ``try/except ImportError``; ``tests/firmware_host/test_device_install.py``
#: runs the CLI without lab code).
LAB_ENTRY = ("firmware_host/cli/__init__.py", "somnoloop_lab.cli")
#: Modules that may import ``firmware_host.cli``: the CLI itself and ``python -m firmware_host``.
CLI_MODULES = ("firmware_host/cli/*", "firmware_host/__main__.py")


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
            problems.extend(_device_problems(rel, line, name))
    return problems


def _device_problems(rel: str, line: int, name: str) -> list[str]:
    """Lab code, lab-only libraries or the CLI imported from device module ``rel``."""
    top = name.split(".")[0]
    if top in LAB_ONLY and (rel, name) != LAB_ENTRY:
        return [f"{rel}:{line}: device code must not import '{name}' (lab code or a lab-only "
                f"library: {', '.join(LAB_ONLY)}); move the code to tools/somnoloop_lab"]
    is_cli = any(fnmatch.fnmatch(rel, pattern) for pattern in CLI_MODULES)
    if (name == "firmware_host.cli" or name.startswith("firmware_host.cli.")) and not is_cli:
        return [f"{rel}:{line}: device code must not import the CLI '{name}' (the CLI imports "
                "device code, not the reverse; shared errors live in firmware_host.errors)"]
    return []


def _module_files() -> dict[str, Path]:
    """Dotted module name → file, for the device packages and the lab packages."""
    roots = {pkg: ROOT / pkg for pkg in PACKAGES} | LAB_PACKAGES
    out = {}
    for pkg, folder in roots.items():
        for path in folder.rglob("*.py"):
            parts = [pkg, *path.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _import_graph() -> dict[str, set[str]]:
    """Module → modules of ours it imports at run time (function-level imports too; imports
    under ``if TYPE_CHECKING:`` are for annotations only and are left out).

    ``from a.b import c`` is an edge to ``a.b.c`` when that is a module, else to ``a.b``.
    """
    files = _module_files()
    graph: dict[str, set[str]] = {}
    for mod, path in files.items():
        is_pkg = path.name == "__init__.py"
        rel = "/".join(mod.split(".") + (["__init__.py"] if is_pkg else []))
        if not is_pkg:
            rel += ".py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets: set[str] = set()
        for node in _runtime_nodes(tree):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                (_, base), = _parse_imports(ast.unparse(node), rel)
                targets.update(f"{base}.{a.name}" if f"{base}.{a.name}" in files else base
                               for a in node.names)
        graph[mod] = {t for t in targets if t in files and t != mod}
    return graph


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree`` except those inside ``if TYPE_CHECKING:`` blocks."""
    out: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        out.append(node)
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING",
                                                                 "typing.TYPE_CHECKING"):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def test_layering_and_hardware_imports() -> None:
    problems = _violations()
    assert not problems, "import layering violated:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("rel", "name", "bad"),
    [
        ("firmware_host/staging/stager.py", "somnoloop_lab.staging.metrics", True),
        ("dsp/spectral.py", "yasa", True),
        ("actuators/hand.py", "pandas.io", True),
        ("firmware_host/emg/train.py", "sklearn.discriminant_analysis", True),
        ("firmware_host/staging/tree_model.py", "lightgbm", True),
        ("firmware_host/runtime/build.py", "firmware_host.cli.errors", True),
        ("firmware_host/runtime/build.py", "firmware_host.errors", False),
        ("firmware_host/cli/cmd_run.py", "firmware_host.cli.errors", False),
        ("firmware_host/__main__.py", "firmware_host.cli", False),
        ("firmware_host/cli/__init__.py", "somnoloop_lab.cli", False),
        ("firmware_host/cli/__init__.py", "somnoloop_lab.staging.training", True),
        ("firmware_host/cli/cmd_info.py", "somnoloop_lab.cli", True),
        ("firmware_host/clipboard.py", "firmware_host.client", False),
    ],
)
def test_device_code_rules(rel: str, name: str, bad: bool) -> None:
    assert bool(_device_problems(rel, 1, name)) is bad


def test_no_import_cycles() -> None:
    graph = _import_graph()
    assert "somnoloop_lab.staging.training" in graph  # the lab package is scanned too
    cycles = _cycles(graph)
    assert not cycles, "import cycles (each line: modules that import each other):\n" + "\n".join(
        " <-> ".join(c) for c in cycles)


def test_annotation_only_imports_are_not_run_time_edges() -> None:
    src = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a.hidden\nelse:\n"
           "    import a.shown\ndef f():\n    import a.lazy\n")
    names = {n.names[0].name for n in _runtime_nodes(ast.parse(src)) if isinstance(n, ast.Import)}
    assert names == {"a.shown", "a.lazy"}


def test_cycle_finder_sees_a_lazy_cycle() -> None:
    graph = {"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}, "a.w": {"a.x"}, "a.v": set()}
    assert _cycles(graph) == [["a.x", "a.y", "a.z"]]
    assert _cycles({"a.x": {"a.y"}, "a.y": set()}) == []


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
