"""Shared input checks for the public :mod:`dsp` functions.

Every public function validates its inputs here, then hands contiguous float64 arrays to a
private numba kernel. Errors name the argument, what was expected and what was given.

Non-finite policy (the whole of :mod:`dsp` follows it): NaN and ±inf in signal blocks are
**rejected** with :class:`ValueError` naming the channel and sample. A NaN fed into a
recursive filter would poison its state for the rest of the night, so it is better to stop
at the door and let the caller decide (reset, drop the block, mark a gap).
"""

from __future__ import annotations

import numpy as np


def as_block(x: object, name: str = "block", n_channels: int | None = None) -> np.ndarray:
    """Return ``x`` as a C-contiguous float64 ``(n_channels, n_samples)`` array.

    Parameters
    ----------
    x
        Array-like, 2-D. Read-only and non-contiguous arrays are accepted (copied when needed).
    name
        Argument name used in error messages.
    n_channels
        When given, the required number of rows.

    Returns
    -------
    numpy.ndarray
        The data, never a view that the caller could later see modified by us.

    Raises
    ------
    ValueError
        Wrong number of dimensions or channels, or a NaN/inf value.
    """
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if arr.ndim != 2:
        expected = f"({n_channels}, n_samples)" if n_channels is not None else "(n_channels, n_samples)"
        raise ValueError(f"{name} must be 2-D with shape {expected}, got shape {arr.shape}")
    arr = (np.ascontiguousarray(arr, dtype=np.float64) if n_channels is None
           else channel_block(arr, n_channels, name))
    check_finite(arr, name)
    return arr


def channel_block(x: object, n_channels: int, name: str = "block") -> np.ndarray:
    """Return ``x`` as a C-contiguous float64 ``(n_channels, n_samples)`` array.

    The streaming processors' shape check: values are not inspected (callers check
    finiteness where their state needs it), and a contiguous float64 input is returned
    as is, without a copy.

    Raises
    ------
    ValueError
        ``x`` is not 2-D with ``n_channels`` rows (expected and actual shape given).
    """
    arr = np.asarray(x)
    if arr.ndim != 2 or arr.shape[0] != n_channels:
        raise ValueError(
            f"{name} must have shape ({n_channels}, n_samples), got shape {arr.shape}"
        )
    return np.ascontiguousarray(arr, dtype=np.float64)


def check_finite(arr: np.ndarray, name: str = "block") -> None:
    """Raise :class:`ValueError` naming the first NaN/inf of a 2-D array (channel, sample)."""
    if arr.size and not np.isfinite(arr).all():
        ch, idx = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(
            f"{name} contains a non-finite value ({arr[ch, idx]}) at channel {ch}, sample {idx}; "
            "dsp rejects NaN/inf (reset the stream or drop the block instead)"
        )


def positive_rate(sfreq: float, name: str = "sfreq") -> float:
    """Return ``sfreq`` as float after checking it is finite and > 0."""
    try:
        value = float(sfreq)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in Hz, got {sfreq!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite rate > 0 Hz, got {sfreq!r}")
    return value


def positive_int(value: object, name: str) -> int:
    """Return ``value`` as int after checking it is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value}")
    return int(value)


def as_sos(sos: object) -> np.ndarray:
    """Return second-order sections as C-contiguous float64 ``(n_sections, 6)``, a0 = 1.

    Raises
    ------
    ValueError
        Wrong shape, non-finite coefficients or a zero ``a0``.
    """
    arr = np.asarray(sos, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 6 or arr.shape[0] < 1:
        raise ValueError(f"sos must have shape (n_sections >= 1, 6), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("sos contains non-finite coefficients")
    a0 = arr[:, 3]
    if np.any(a0 == 0):
        raise ValueError("sos has a section with a0 == 0; each row is [b0, b1, b2, a0, a1, a2]")
    arr = arr / a0[:, None]
    return np.ascontiguousarray(arr)
