"""SIGINT and SIGTERM end a run cleanly: the loop stops after its current iteration."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def stop_on_signals(request_stop: Callable[[str], None]) -> Iterator[None]:
    """Within the block, SIGINT/SIGTERM call ``request_stop("signal NAME")``; restored after."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda signum, _frame: request_stop(f"signal {signal.Signals(signum).name}"))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
