"""Digest of a session's decision journal, to prove a refactor changed no behaviour.

Prints JSON: counts per event kind and a SHA-256 over every ``decision``, ``command``,
``ack``, ``action`` and ``suppressed`` event (loop-clock time, sample index, kind and
payload). Wall-clock readings are left out: the ``wall`` column, an ack's measured
``latency_s``, and calibration time stamps in model versions (``…@v1-20261130T063406Z``).
Two runs of the same config at max speed give the same digest; a behaviour-preserving
change keeps it.

Usage::

    somnoloop run --duration 2h --quiet --session-dir /tmp/before   # on the old commit
    somnoloop run --duration 2h --quiet --session-dir /tmp/after    # on the new one
    python tools/journal_digest.py /tmp/before /tmp/after
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import sys
from collections import Counter
from pathlib import Path

KINDS = ("decision", "command", "ack", "action", "suppressed")
_STAMP = re.compile(r"\d{8}T\d{6}Z")
_WALL_KEYS = ("latency_s",)


def _without_wall_clock(payload: dict) -> dict:
    out = {k: v for k, v in payload.items() if k not in _WALL_KEYS}
    if isinstance(out.get("model"), str):
        out["model"] = _STAMP.sub("<time>", out["model"])
    return out


def digest(session: Path, kinds: tuple[str, ...] = KINDS) -> dict[str, object]:
    """Counts per kind and the SHA-256 of the behaviour-defining events of ``session``."""
    db = sqlite3.connect(f"file:{session / 'events.sqlite'}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT t, sample, kind, payload FROM events ORDER BY id").fetchall()
    finally:
        db.close()
    h = hashlib.sha256()
    counts: Counter[str] = Counter()
    for t, sample, kind, payload in rows:
        counts[kind] += 1
        if kind in kinds:
            h.update(json.dumps([round(t, 9), sample, kind, _without_wall_clock(json.loads(payload))],
                                sort_keys=True).encode())
    return {"session": str(session), "sha256": h.hexdigest(), "counts": dict(sorted(counts.items()))}


def main(argv: list[str]) -> int:
    """Print one digest per session; exit 1 when two or more differ."""
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    results = [digest(Path(p)) for p in argv]
    print(json.dumps(results, indent=2))
    return 0 if len({r["sha256"] for r in results}) == 1 else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
