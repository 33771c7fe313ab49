"""Where the tests find the repository and the shared real data (defined once).

The real recordings live outside the repository (``../shared/data`` beside the checkout, or
``$SOMNOLOOP_DATA``) and are never copied in; a test that needs one skips with a message
naming the missing file.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: The repository's root folder.
REPO = Path(__file__).resolve().parents[1]
#: The shared real data (DREAMS, Sleep-EDF hypnogram, EMG recordings).
DATA = Path(os.environ.get("SOMNOLOOP_DATA", REPO.parent / "shared" / "data"))


def require_data(relative: str) -> Path:
    """``DATA / relative``, or skip the calling test with a message naming what is missing."""
    path = DATA / relative
    if not path.exists():
        pytest.skip(f"shared data absent: {path} (set SOMNOLOOP_DATA or provide ../shared/data)")
    return path
