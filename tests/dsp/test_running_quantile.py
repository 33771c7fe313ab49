"""dsp.running_quantile: expanding quantiles equal numpy's, whatever the insertion order."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.running_quantile import RunningQuantiles

QS = np.array([0.0, 0.05, 0.33, 0.5, 0.95, 1.0])


def test_quantiles_equal_numpy_after_every_row_with_ties_and_growth() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 5))
    x[::4, 1] = 0.5  # ties
    x[:, 4] = np.round(x[:, 4])  # many ties
    rq = RunningQuantiles(5, capacity=3)  # grows several times
    for i in range(len(x)):
        ref = np.quantile(x[: i + 1], QS, axis=0)
        # a look "as if row i were in" equals inserting it, and inserts nothing
        np.testing.assert_array_equal(rq.quantiles(QS, with_row=x[i]), ref)
        assert rq.n == i
        rq.add(x[i])
        np.testing.assert_array_equal(rq.quantiles(QS), ref)


@settings(max_examples=40, deadline=None)
@given(st.permutations(list(range(30))), st.integers(1, 29))
def test_insertion_order_and_peeking_do_not_change_the_answer(order: list[int], peek: int) -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((30, 3))
    a, b = RunningQuantiles(3), RunningQuantiles(3, capacity=1)
    for i in range(30):
        a.add(x[i])
    for k, i in enumerate(order):
        if k == peek:
            b.quantiles(QS, with_row=x[0] + 100.0)  # a provisional look in between
        b.add(x[i])
    np.testing.assert_array_equal(a.quantiles(QS), b.quantiles(QS))


def test_bad_input_is_refused_with_a_clear_message() -> None:
    rq = RunningQuantiles(2)
    with pytest.raises(ValueError, match="no rows yet"):
        rq.quantiles(QS)
    with pytest.raises(ValueError, match="expected \\(2,\\)"):
        rq.add(np.zeros(3))
    with pytest.raises(ValueError, match="non-finite"):
        rq.add(np.array([0.0, np.nan]))
    rq.add(np.zeros(2))
    with pytest.raises(ValueError, match="0..1"):
        rq.quantiles(np.array([1.5]))
    with pytest.raises(ValueError, match=">= 1"):
        RunningQuantiles(0)
