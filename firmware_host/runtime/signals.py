"""SIGINT, SIGTERM and SIGHUP end a run cleanly: the loop stops after its current iteration.

SIGHUP comes with a closed terminal (an SSH session or a tmux window that ends): the night
is closed properly instead of the process dying without its cleanup.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def stop_on_signals(request_stop: Callable[[str], None]) -> Iterator[None]:
    """Within the block, SIGINT/SIGTERM/SIGHUP call ``request_stop("signal NAME")``; restored after."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    for sig in previous:
        signal.signal(sig, lambda signum, _frame: request_stop(f"signal {signal.Signals(signum).name}"))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
