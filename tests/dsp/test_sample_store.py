"""The growable sample store against a naive one that keeps everything: any chunking, any
releases, compaction and growth give the same windows; released samples are dropped."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.sample_store import SampleStore


class NaiveStore:
    """Reference: every sample ever appended, in one array (nothing is ever dropped)."""

    def __init__(self, n_rows: int) -> None:
        self.data = np.zeros((n_rows, 0))

    def append(self, block: np.ndarray) -> None:
        self.data = np.concatenate([self.data, block], axis=1)

    def window(self, start: int, stop: int) -> np.ndarray:
        return self.data[:, start:stop]


def _stream(n_rows: int, n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n_rows, n))


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(st.tuples(st.integers(0, 90), st.integers(0, 40)), min_size=1, max_size=25),
    capacity=st.integers(1, 64),
    width=st.integers(1, 50),
)
def test_windows_equal_the_naive_store_whatever_the_chunking(steps, capacity, width) -> None:
    """Append chunks of any size, release a trailing history of ``width`` samples (or less,
    when a step releases further back), read every window still held: same as the naive store."""
    x = _stream(3, sum(n for n, _ in steps), seed=capacity)
    store, naive = SampleStore(3, capacity), NaiveStore(3)
    pos = 0
    for n, back in steps:
        store.append(x[:, pos : pos + n])
        naive.append(x[:, pos : pos + n])
        pos += n
        assert store.end == pos and len(store) == store.end - store.start
        store.release(pos - width - back)
        for a in range(store.start, store.end + 1, max(1, (store.end - store.start) // 7)):
            for b in (a, min(a + width, store.end), store.end):
                np.testing.assert_array_equal(store.window(a, b), naive.window(a, b))
    np.testing.assert_array_equal(store.window(store.start, store.end),
                                  x[:, store.start : store.end])


def test_released_samples_are_dropped_at_the_next_append_that_does_not_fit() -> None:
    x = _stream(2, 40)
    store = SampleStore(2, 10)
    store.append(x[:, :8])
    store.release(6)
    assert store.start == 0  # nothing moves while the appends fit
    store.append(x[:, 8:10])
    assert store.start == 0 and store.capacity == 10
    store.append(x[:, 10:13])  # does not fit: samples 0..5 are dropped, the rest moves front
    assert (store.start, store.end, len(store), store.capacity) == (6, 13, 7, 10)
    np.testing.assert_array_equal(store.window(6, 13), x[:, 6:13])
    with pytest.raises(IndexError, match=r"samples \[5, 7\) requested; the store holds \[6, 13\)"):
        store.window(5, 7)


def test_compaction_moves_without_growing_and_growth_doubles() -> None:
    x = _stream(1, 200)
    store = SampleStore(1, 16)
    store.append(x[:, :16])
    store.release(12)
    store.append(x[:, 16:28])  # 4 kept + 12 new = 16: fits after compaction, no growth
    assert (store.start, store.capacity) == (12, 16)
    store.append(x[:, 28:30])  # nothing released since: must grow, to twice the capacity
    assert (store.start, store.capacity) == (12, 32)
    store.append(x[:, 30:130])  # a block bigger than twice the capacity: exactly what it needs
    assert (store.start, store.capacity) == (12, 118)
    np.testing.assert_array_equal(store.window(12, 130), x[:, 12:130])


def test_release_is_monotonic_and_may_reach_past_the_end() -> None:
    x = _stream(1, 30)
    store = SampleStore(1, 4)
    store.append(x[:, :4])
    store.release(3)
    store.release(1)  # an earlier index changes nothing
    store.append(x[:, 4:5])
    assert store.start == 3
    store.release(20)  # beyond the end: everything held now goes at the next compaction
    store.append(x[:, 5:9])
    assert (store.start, store.end) == (5, 9)
    np.testing.assert_array_equal(store.window(5, 9), x[:, 5:9])
    store.release(9)
    store.append(x[:, 9:9])  # an empty block fits and changes nothing
    assert (store.start, store.end) == (5, 9)


def test_window_is_a_view_and_bad_input_is_refused() -> None:
    store = SampleStore(2, 8)
    store.append(np.ones((2, 5)))
    view = store.window(1, 4)
    assert view.shape == (2, 3) and np.shares_memory(view, store.window(0, 5))
    assert store.window(5, 5).shape == (2, 0)
    for start, stop in ((-1, 2), (3, 6), (4, 3)):
        with pytest.raises(IndexError, match="the store holds"):
            store.window(start, stop)
    with pytest.raises(ValueError, match=r"shape \(2, m\)"):
        store.append(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"shape \(2, m\)"):
        store.append(np.ones(4))
    with pytest.raises(ValueError, match="n_rows"):
        SampleStore(0, 8)
    with pytest.raises(ValueError, match="capacity"):
        SampleStore(2, 0)
