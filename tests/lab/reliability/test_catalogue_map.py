"""RELIABILITY.md, the auditor's map from each fault to its test, stays true: every test it
names exists, and every fault of the injector's catalogue has its row."""

from __future__ import annotations

import re

from somnoloop_lab.reliability.faults import CATALOGUE
from tests.paths import REPO

MAP = REPO / "tools" / "somnoloop_lab" / "reliability" / "RELIABILITY.md"
ABBREVIATIONS = {
    "CAT": "tests/lab/reliability/test_fault_catalogue.py::test_fault_is_survived",
    "SRC": "tests/lab/reliability/test_source_faults.py",
    "PROC": "tests/lab/reliability/test_process_faults.py",
}
_ID = re.compile(r"`((?:CAT|SRC|PROC|tests/)[^`]*)`")


def _test_ids() -> list[str]:
    ids = []
    for text in _ID.findall(MAP.read_text(encoding="utf-8")):
        head, sep, rest = text.partition("::") if not text.startswith("CAT") else (text[:3], "", text[3:])
        full = ABBREVIATIONS.get(head, head) + (sep + rest if sep else rest)
        ids.append(full)
    return ids


def test_every_test_named_in_the_map_exists():
    ids = _test_ids()
    assert len(ids) > 40
    for test_id in ids:
        path, _, name = test_id.partition("::")
        source = (REPO / path).read_text(encoding="utf-8")
        if not name:
            continue  # a whole file
        function = name.split("[")[0]
        assert f"def {function}(" in source, f"{test_id}: no such test"


def test_every_injectable_fault_has_its_row():
    mapped = {m for test_id in _test_ids() for m in re.findall(r"test_fault_is_survived\[(\w+)\]", test_id)}
    assert mapped == set(CATALOGUE)
