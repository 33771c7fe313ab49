"""Causal streaming IIR filters: Butterworth and notch designs (second-order sections), numba application.

Design at configuration time with :func:`design_bandpass`, :func:`design_highpass`,
:func:`design_lowpass`, :func:`design_notch` and :func:`chain`; apply block by block with
:func:`sosfilt` (explicit state, same layout and numbers as
``scipy.signal.sosfilt(sos, x, axis=-1, zi=zi)``) or with the stateful
:class:`StreamingFilter`.

State layout
    ``zi`` has shape ``(n_sections, n_channels, 2)`` — exactly scipy's layout for a
    ``(n_channels, n_samples)`` block filtered along the last axis.

Non-finite input
    Rejected with :class:`ValueError` (channel and sample named); the state is left unchanged.
"""

from __future__ import annotations

import math

import numpy as np

from dsp._jit import njit
from dsp.design import butter_sos, notch_sos, unit_step_zi
from dsp.validation import as_block, as_sos, channel_block, positive_int, positive_rate

__all__ = [
    "StreamingFilter",
    "chain",
    "design_bandpass",
    "design_highpass",
    "design_lowpass",
    "design_notch",
    "sosfilt",
    "sosfilt_zi",
]


# --------------------------------------------------------------------------- design helpers


def _check_cutoff(kind: str, freqs: tuple[float, ...], sfreq: float) -> None:
    nyq = sfreq / 2.0
    band = "–".join(f"{f:g}" for f in freqs) + " Hz"
    for f in freqs:
        if not np.isfinite(f) or f <= 0 or f >= nyq:
            raise ValueError(
                f"{kind} {band} is impossible at fs={sfreq:g} Hz: every edge must lie strictly "
                f"between 0 and the Nyquist frequency {nyq:g} Hz (allowed: 0 < f < {nyq:g} Hz)"
            )
    if len(freqs) == 2 and not freqs[0] < freqs[1]:
        raise ValueError(f"{kind} {band}: the low edge must be below the high edge")


def design_bandpass(low: float, high: float, sfreq: float, order: int = 4) -> np.ndarray:
    """Butterworth band-pass as second-order sections.

    Parameters
    ----------
    low, high
        Pass-band edges in Hz, ``0 < low < high < sfreq / 2``.
    sfreq
        Sampling rate in Hz.
    order
        Butterworth order per edge (the band-pass has ``2 * order`` poles, ``order`` sections).

    Returns
    -------
    numpy.ndarray
        ``(order, 6)`` sos array.

    Raises
    ------
    ValueError
        When the band cannot be realised at ``sfreq`` (message gives band, fs and Nyquist).
    """
    sfreq = positive_rate(sfreq)
    order = positive_int(order, "order")
    _check_cutoff("band-pass", (float(low), float(high)), sfreq)
    return butter_sos(order, (low, high), "bandpass", sfreq)


def design_highpass(cutoff: float, sfreq: float, order: int = 4) -> np.ndarray:
    """Butterworth high-pass as second-order sections (``0 < cutoff < sfreq / 2``)."""
    sfreq = positive_rate(sfreq)
    order = positive_int(order, "order")
    _check_cutoff("high-pass", (float(cutoff),), sfreq)
    return butter_sos(order, cutoff, "highpass", sfreq)


def design_lowpass(cutoff: float, sfreq: float, order: int = 4) -> np.ndarray:
    """Butterworth low-pass as second-order sections (``0 < cutoff < sfreq / 2``)."""
    sfreq = positive_rate(sfreq)
    order = positive_int(order, "order")
    _check_cutoff("low-pass", (float(cutoff),), sfreq)
    return butter_sos(order, cutoff, "lowpass", sfreq)


def design_notch(
    freq: float, sfreq: float, q: float = 30.0, harmonics: bool = True
) -> np.ndarray:
    """IIR notch at ``freq`` (and, by default, its harmonics below Nyquist), one section each.

    Parameters
    ----------
    freq
        Line frequency in Hz, usually 50 or 60.
    sfreq
        Sampling rate in Hz.
    q
        Quality factor (centre / -3 dB bandwidth); 30 gives a ~1.7 Hz wide notch at 50 Hz.
    harmonics
        Also notch ``2*freq``, ``3*freq``, … strictly below Nyquist.

    Raises
    ------
    ValueError
        When ``freq`` is not strictly below Nyquist, or ``q`` is not > 0.
    """
    sfreq = positive_rate(sfreq)
    if not (np.isfinite(q) and q > 0):
        raise ValueError(f"notch q must be a finite number > 0, got {q!r}")
    _check_cutoff("notch", (float(freq),), sfreq)
    nyq = sfreq / 2.0
    centres = [float(freq)]
    if harmonics:
        k = 2
        while k * freq < nyq:
            centres.append(k * float(freq))
            k += 1
    sections = []
    for f0 in centres:
        sections.append(notch_sos(f0, q, sfreq))
    return np.concatenate(sections, axis=0)


def chain(*sos: np.ndarray) -> np.ndarray:
    """Concatenate filters (sos arrays) into one cascade, applied left to right."""
    if not sos:
        raise ValueError("chain() needs at least one sos array")
    return np.concatenate([as_sos(s) for s in sos], axis=0)


# --------------------------------------------------------------------------- kernels


@njit
def _sosfilt_kernel(sos, x, zi, y):  # pragma: no cover - compiled
    """Cascade of direct-form-II-transposed biquads, in place on ``zi``; writes ``y``.

    Returns -1 when all input is finite, else the flat index of the first non-finite
    sample (and then touches neither ``zi`` nor ``y``).
    """
    n_ch, n = x.shape
    for c in range(n_ch):
        for i in range(n):
            v = x[c, i]
            if not math.isfinite(v):
                return c * n + i
    n_sec = sos.shape[0]
    for c in range(n_ch):
        for i in range(n):
            y[c, i] = x[c, i]
        for s in range(n_sec):
            b0 = sos[s, 0]
            b1 = sos[s, 1]
            b2 = sos[s, 2]
            a1 = sos[s, 4]
            a2 = sos[s, 5]
            z0 = zi[s, c, 0]
            z1 = zi[s, c, 1]
            for i in range(n):
                v = y[c, i]
                out = b0 * v + z0
                z0 = b1 * v - a1 * out + z1
                z1 = b2 * v - a2 * out
                y[c, i] = out
            zi[s, c, 0] = z0
            zi[s, c, 1] = z1
    return -1


def _raise_nonfinite(x: np.ndarray, flat: int, name: str) -> None:
    c, i = divmod(int(flat), x.shape[1])
    raise ValueError(
        f"{name} contains a non-finite value ({x[c, i]}) at channel {c}, sample {i}; "
        "dsp rejects NaN/inf (filter state left unchanged)"
    )


# --------------------------------------------------------------------------- functional API


def sosfilt_zi(sos: np.ndarray, first: np.ndarray | float) -> np.ndarray:
    """Steady-state initial state for a step of height ``first`` (per channel).

    Parameters
    ----------
    sos
        ``(n_sections, 6)`` filter.
    first
        ``(n_channels,)`` first sample of each channel (or a scalar for one channel).

    Returns
    -------
    numpy.ndarray
        ``(n_sections, n_channels, 2)``: ``scipy.signal.sosfilt_zi(sos)`` scaled per channel,
        so a signal that starts at a constant level produces no start-up transient.
    """
    sos = as_sos(sos)
    first = np.atleast_1d(np.asarray(first, dtype=np.float64))
    if first.ndim != 1:
        raise ValueError(f"first must be 1-D (n_channels,), got shape {first.shape}")
    if not np.isfinite(first).all():
        raise ValueError("first contains NaN/inf; cannot initialise a filter state from it")
    unit = unit_step_zi(sos)  # (n_sections, 2)
    return np.ascontiguousarray(unit[:, None, :] * first[None, :, None])


def sosfilt(
    sos: np.ndarray, x: np.ndarray, zi: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Filter a ``(n_channels, n_samples)`` block with explicit state, like scipy.

    Equivalent to ``scipy.signal.sosfilt(sos, x, axis=-1, zi=zi)`` (to rounding).

    Parameters
    ----------
    sos
        ``(n_sections, 6)`` second-order sections.
    x
        ``(n_channels, n_samples)`` block; any float dtype, layout or writeability.
    zi
        ``(n_sections, n_channels, 2)`` state; not modified. ``None``: start from rest
        (zeros), like scipy without ``zi``; use :func:`sosfilt_zi` for a steady start.

    Returns
    -------
    y : numpy.ndarray
        Filtered block, same shape as ``x``.
    zf : numpy.ndarray
        Final state, same shape as ``zi``.

    Raises
    ------
    ValueError
        Wrong shapes (expected and actual given) or NaN/inf in ``x``.
    """
    sos = as_sos(sos)
    xa = np.asarray(x)
    if xa.ndim != 2:
        raise ValueError(f"x must be 2-D (n_channels, n_samples), got shape {xa.shape}")
    x = np.ascontiguousarray(xa, dtype=np.float64)
    expected = (sos.shape[0], x.shape[0], 2)
    if zi is None:
        zi = np.zeros(expected)
    zf = np.array(zi, dtype=np.float64, order="C", copy=True)
    if zf.shape != expected:
        raise ValueError(f"zi must have shape {expected} (n_sections, n_channels, 2), got {zf.shape}")
    y = np.empty_like(x)
    bad = _sosfilt_kernel(sos, x, zf, y)
    if bad >= 0:
        _raise_nonfinite(x, bad, "x")
    return y, zf


# --------------------------------------------------------------------------- stateful wrapper


class StreamingFilter:
    """A filter cascade that keeps its state between blocks.

    Parameters
    ----------
    sos
        ``(n_sections, 6)`` second-order sections (e.g. from :func:`chain`).
    n_channels
        Number of rows of every block.
    init
        ``"steady"`` (default): the state is set from the first sample of each channel so a
        signal that starts at an offset has no start-up transient (``sosfilt_zi`` scaled);
        ``"zeros"``: start from rest, like ``scipy.signal.sosfilt`` without ``zi``.

    Notes
    -----
    Causal; output sample ``k`` depends only on inputs ``<= k``. Whatever the chunking, the
    output equals one call on the whole signal. Empty blocks return an empty array and leave
    the state untouched. NaN/inf raise :class:`ValueError` and leave the state untouched.
    """

    def __init__(self, sos: np.ndarray, n_channels: int, init: str = "steady") -> None:
        if init not in ("steady", "zeros"):
            raise ValueError(f"init must be 'steady' or 'zeros', got {init!r}")
        self.sos = as_sos(sos)
        self.n_channels = positive_int(n_channels, "n_channels")
        self.init = init
        self._unit_zi = np.ascontiguousarray(unit_step_zi(self.sos))
        self.zi = np.zeros((self.sos.shape[0], self.n_channels, 2))
        self._started = False

    @property
    def n_sections(self) -> int:
        """Number of second-order sections in the cascade."""
        return int(self.sos.shape[0])

    def reset(self) -> None:
        """Forget the state; the next block starts afresh (steady-state again if so configured)."""
        self.zi[...] = 0.0
        self._started = False

    def _start(self, first: np.ndarray) -> None:
        if self.init == "steady":
            np.multiply(self._unit_zi[:, None, :], first[None, :, None], out=self.zi)
        self._started = True

    def process(self, block: np.ndarray) -> np.ndarray:
        """Filter one ``(n_channels, n_samples)`` block and return the filtered copy.

        Raises
        ------
        ValueError
            Wrong shape (expected and actual given) or NaN/inf (state unchanged).
        """
        x = channel_block(block, self.n_channels)
        y = np.empty_like(x)
        if x.shape[1]:
            self.process_into(x, y)
        return y

    def process_into(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Lean path: filter ``x`` into the preallocated ``out`` and return ``out``.

        ``x`` and ``out`` must already be C-contiguous float64 ``(n_channels, n)`` arrays
        (only the shape is checked); ``out`` must not overlap ``x``. Use this in a
        real-time loop to avoid per-block allocations.
        """
        if x.shape != out.shape or x.ndim != 2 or x.shape[0] != self.n_channels:
            raise ValueError(
                f"x and out must both have shape ({self.n_channels}, n_samples), "
                f"got {x.shape} and {out.shape}"
            )
        if x.shape[1] == 0:
            return out
        if not self._started:
            if not np.isfinite(x[:, 0]).all():
                _raise_nonfinite(x, int(np.argmin(np.isfinite(x[:, 0]))) * x.shape[1], "block")
            self._start(x[:, 0])
        bad = _sosfilt_kernel(self.sos, x, self.zi, out)
        if bad >= 0:
            _raise_nonfinite(x, bad, "block")
        return out

    def filter(self, x: np.ndarray) -> np.ndarray:
        """Filter a whole signal from a fresh state (``reset`` then ``process``)."""
        self.reset()
        return self.process(as_block(x, "x", self.n_channels))
