"""Input strategies shared by the fuzz tests (cheap to draw: the budget is 10 000 cases each)."""

from __future__ import annotations

from hypothesis import strategies as st

#: Cases a fuzz test draws per example (profile "fuzz-batch" in ``conftest.py``):
#: hypothesis' own work per example (~2 ms) would otherwise cost more than the parsing.
CASES_PER_EXAMPLE = 4

#: Values that break careless parsers: wrong types, NaN/inf, huge and negative numbers, empty
#: and nested containers, control characters.
NASTY = (None, True, False, 0, -1, 2**70, -(2**63), 1e308, float("nan"), float("inf"),
         -float("inf"), "", "x", "nan", "\x00", "\u202e", [], {}, [1, "a"], {"a": None}, [[[]]],
         {"median": 1, "range": [2]})

#: One JSON-like value (a recursive strategy costs ~4 ms a draw; this one under 1 ms).
scalar = st.one_of(st.sampled_from(NASTY), st.integers(-(2**70), 2**70),
                   st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8))
junk = st.one_of(scalar, st.lists(scalar, max_size=3))


def batch(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """:data:`CASES_PER_EXAMPLE` cases of ``strategy`` (for the "fuzz-batch" profile)."""
    return st.lists(strategy, min_size=CASES_PER_EXAMPLE, max_size=CASES_PER_EXAMPLE)


def byte_edits(max_at: int, max_piece: int, max_edits: int) -> st.SearchStrategy:
    """Lists of ``(op, at, piece)`` for :func:`mutate` (op: flip, insert, delete, truncate)."""
    return st.lists(st.tuples(st.sampled_from(["flip", "insert", "delete", "truncate"]),
                              st.integers(0, max_at), st.binary(min_size=1, max_size=max_piece)),
                    min_size=1, max_size=max_edits)


def mutate(raw: bytes, ops) -> bytes:
    """``raw`` after the edits ``ops`` (from :func:`byte_edits`), positions wrapped to fit."""
    buf = bytearray(raw)
    for op, at, piece in ops:
        at %= len(buf) + 1
        if op == "flip" and buf:
            buf[at % len(buf)] ^= piece[0] or 1
        elif op == "insert":
            buf[at:at] = piece
        elif op == "delete":
            del buf[at:at + len(piece)]
        else:
            del buf[at:]
    return bytes(buf)
