"""The one place numba is imported.

Every kernel in :mod:`dsp` is decorated with :func:`njit` from here. numba itself honours
``NUMBA_DISABLE_JIT=1`` (kernels then run as plain Python, which the test suite also
exercises). If numba is not importable at all, the decorators fall back to identity so the
package still works, slowly.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

try:  # pragma: no cover - exercised implicitly by every kernel
    import numba as _numba

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    _numba = None
    HAVE_NUMBA = False

JIT_DISABLED: bool = (not HAVE_NUMBA) or os.environ.get("NUMBA_DISABLE_JIT", "0") == "1"


def njit(*args: Any, **kwargs: Any) -> Callable[..., Any]:
    """Compile a kernel in nopython mode with on-disk caching (``cache=True`` by default).

    Used exactly like ``numba.njit``: bare (``@njit``) or with options (``@njit(fastmath=False)``).
    """
    kwargs.setdefault("cache", True)
    if _numba is None:
        if args and callable(args[0]):
            return args[0]
        return lambda func: func
    if args and callable(args[0]):
        return _numba.njit(**kwargs)(args[0])
    return _numba.njit(*args, **kwargs)


def prange(*args: int) -> range:
    """``numba.prange`` when numba is present, else :class:`range`."""
    if _numba is None:
        return range(*args)
    return _numba.prange(*args)
