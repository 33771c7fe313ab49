"""Fixtures shared by every test folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.paths import DATA, REPO


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's root folder (configs, tools, README)."""
    return REPO


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real data folder; tests that need a file use ``tests.paths.require_data``."""
    return DATA
