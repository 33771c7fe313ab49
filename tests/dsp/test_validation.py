"""Shared input checks of :mod:`dsp.validation`."""

from __future__ import annotations

import re

import numpy as np
import pytest

from dsp.validation import as_block, channel_block


def test_channel_block_returns_contiguous_float64_without_copying_when_it_can():
    x = np.zeros((2, 5))
    assert channel_block(x, 2) is x
    y = channel_block(np.arange(20, dtype=np.int32).reshape(2, 10)[:, ::2], 2)
    assert y.dtype == np.float64 and y.flags.c_contiguous
    np.testing.assert_array_equal(y, [[0, 2, 4, 6, 8], [10, 12, 14, 16, 18]])


@pytest.mark.parametrize("shape", [(3, 5), (2,), (2, 5, 1)])
def test_channel_block_names_expected_and_actual_shape(shape):
    expected = re.escape(f"block must have shape (2, n_samples), got shape {shape}")
    with pytest.raises(ValueError, match=expected):
        channel_block(np.zeros(shape), 2)


def test_channel_block_leaves_values_to_the_caller_but_as_block_rejects_nan():
    x = np.array([[0.0, np.nan]])
    assert np.isnan(channel_block(x, 1)[0, 1])
    with pytest.raises(ValueError, match="channel 0, sample 1"):
        as_block(x, "x", 1)
    with pytest.raises(ValueError, match=r"x must have shape \(2, n_samples\)"):
        as_block(x, "x", 2)
