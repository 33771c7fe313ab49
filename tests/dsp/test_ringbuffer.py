"""RingBuffer: absolute indexing, wrap-around, gaps (list + NaN), clear errors, chunking."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.ringbuffer import RingBuffer, RingBufferError


def _data(n_ch: int, n: int) -> np.ndarray:
    return np.arange(n_ch * n, dtype=float).reshape(n_ch, n) + 0.5


def test_write_read_with_wraparound() -> None:
    rb = RingBuffer(2, 10)
    x = _data(2, 27)
    rb.write(100, x[:, :7])
    rb.write(107, x[:, 7:27])
    assert (rb.oldest, rb.latest, rb.end, len(rb)) == (117, 126, 127, 10)
    np.testing.assert_array_equal(rb.read(117, 127), x[:, 17:27])
    np.testing.assert_array_equal(rb.read(120, 123), x[:, 20:23])
    np.testing.assert_array_equal(rb.read_latest(4), x[:, 23:27])
    assert rb.read(120, 120).shape == (2, 0)


def test_empty_buffer_positions_and_errors() -> None:
    rb = RingBuffer(1, 5)
    assert rb.oldest is None and rb.latest is None and len(rb) == 0
    with pytest.raises(RingBufferError, match="nothing was written"):
        rb.read(0, 1)
    rb.write(3, np.empty((1, 0)))  # empty first block: nothing starts
    assert rb.latest is None


def test_read_errors_name_the_held_range() -> None:
    rb = RingBuffer(1, 5)
    rb.write(10, _data(1, 8))
    with pytest.raises(RingBufferError, match=r"\[12, 13\) are overwritten; the buffer holds \[13, 18\)"):
        rb.read(12, 15)
    with pytest.raises(RingBufferError, match=r"before the stream start"):
        rb.read(5, 15)
    with pytest.raises(RingBufferError, match=r"\[18, 20\) are not written yet"):
        rb.read(16, 20)
    with pytest.raises(ValueError, match="stop < start"):
        rb.read(15, 14)


def test_gaps_are_listed_and_read_as_nan() -> None:
    rb = RingBuffer(2, 50)
    x = _data(2, 30)
    rb.write(0, x[:, :10])
    rb.write(15, x[:, 15:30])  # samples 10..14 lost
    assert rb.gaps == [(10, 15)]
    out = rb.read(5, 20)
    assert np.isnan(out[:, 5:10]).all()
    np.testing.assert_array_equal(out[:, :5], x[:, 5:10])
    np.testing.assert_array_equal(out[:, 10:], x[:, 15:20])
    np.testing.assert_array_equal(rb.valid_mask(8, 16), [1, 1, 0, 0, 0, 0, 0, 1])
    assert rb.has_gap(9, 11) and not rb.has_gap(15, 30)


def test_gap_longer_than_capacity() -> None:
    rb = RingBuffer(1, 4)
    rb.write(0, _data(1, 4))
    rb.write(100, _data(1, 2))
    assert rb.gaps == [(4, 100)]
    out = rb.read(98, 102)
    assert np.isnan(out[0, :2]).all() and not np.isnan(out[0, 2:]).any()


def test_bad_writes() -> None:
    rb = RingBuffer(2, 8)
    rb.write(0, _data(2, 5))
    with pytest.raises(ValueError, match=r"overlaps or precedes.*next expected sample is 5"):
        rb.write(3, _data(2, 2))
    with pytest.raises(ValueError, match=r"\(2, n_samples\), got shape \(3, 2\)"):
        rb.write(5, _data(3, 2))
    bad = _data(2, 2)
    bad[0, 1] = np.nan
    with pytest.raises(ValueError, match="channel 0, sample 1"):
        rb.write(5, bad)
    assert rb.end == 5  # failed writes change nothing
    with pytest.raises(ValueError, match="first_sample must be >= 0"):
        RingBuffer(1, 3).write(-1, _data(1, 1))
    with pytest.raises(ValueError, match="capacity"):
        RingBuffer(1, 0)


def test_non_contiguous_and_read_only_blocks() -> None:
    rb = RingBuffer(2, 20)
    base = _data(4, 20)
    view = base[::2, ::2]
    view.setflags(write=False)
    rb.write(0, view)
    np.testing.assert_array_equal(rb.read(0, 10), view)
    base[0, 0] = -1  # buffer holds its own copy
    assert rb.read(0, 1)[0, 0] == 0.5


def test_block_larger_than_capacity_keeps_the_tail() -> None:
    rb = RingBuffer(1, 6)
    x = _data(1, 20)
    rb.write(7, x)
    assert rb.oldest == 21
    np.testing.assert_array_equal(rb.read(21, 27), x[:, 14:])


@settings(max_examples=30, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 40), min_size=1, max_size=20),
    capacity=st.integers(1, 35),
)
def test_chunking_invariance(sizes: list[int], capacity: int) -> None:
    x = _data(2, sum(sizes))
    rb = RingBuffer(2, capacity)
    pos = 0
    for s in sizes:
        rb.write(1000 + pos, x[:, pos : pos + s])
        pos += s
    whole = RingBuffer(2, capacity)
    whole.write(1000, x)
    held = min(capacity, pos)
    assert rb.oldest == whole.oldest == 1000 + pos - held
    np.testing.assert_array_equal(rb.read(rb.oldest, rb.end), x[:, pos - held :])
    np.testing.assert_array_equal(rb.read(rb.oldest, rb.end), whole.read(whole.oldest, whole.end))


def test_reset_forgets_everything() -> None:
    rb = RingBuffer(1, 4)
    rb.write(0, _data(1, 2))
    rb.write(5, _data(1, 2))
    rb.reset()
    assert rb.gaps == [] and rb.latest is None
    rb.write(2, _data(1, 3))  # may start anywhere again, no gap recorded
    assert rb.gaps == [] and (rb.oldest, rb.latest) == (2, 4)


def test_empty_write_mid_stream_changes_nothing() -> None:
    rb = RingBuffer(2, 10)
    rb.write(0, _data(2, 4))
    rb.write(4, np.empty((2, 0)))
    rb.write(99, np.empty((2, 0)))  # an empty block is not a gap
    rb.write(1, np.empty((2, 0)))  # nor an error
    assert (rb.end, rb.gaps) == (4, [])
    rb.write(4, _data(2, 3))
    assert rb.end == 7
