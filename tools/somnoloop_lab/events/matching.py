"""By-event scoring of interval detections against expert intervals, and phase statistics."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: A detection matches an expert event when their intersection-over-union reaches this.
IOU_MIN = 0.2


def iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Intersection over union of two ``(start, end)`` intervals (0 when disjoint)."""
    inter = min(a[1], b[1]) - max(a[0], b[0])
    if inter <= 0:
        return 0.0
    return inter / (max(a[1], b[1]) - min(a[0], b[0]))


def match_events(
    detected: Sequence[tuple[float, float]],
    expert: Sequence[tuple[float, float]],
    iou_min: float = IOU_MIN,
) -> list[tuple[int, int]]:
    """One-to-one matches ``(detected index, expert index)``, best IoU first (greedy).

    A pair is eligible when its IoU is at least ``iou_min``; each event is used once.
    """
    pairs = []
    for i, d in enumerate(detected):
        for j, e in enumerate(expert):
            v = iou(d, e)
            if v >= iou_min:
                pairs.append((v, i, j))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    used_d: set[int] = set()
    used_e: set[int] = set()
    out = []
    for _, i, j in pairs:
        if i not in used_d and j not in used_e:
            used_d.add(i)
            used_e.add(j)
            out.append((i, j))
    return out


def prf(tp: int, n_detected: int, n_expert: int) -> dict[str, float]:
    """Precision, recall and F1 from counts (0 where undefined)."""
    p = tp / n_detected if n_detected else 0.0
    r = tp / n_expert if n_expert else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f}


def circular_stats_deg(errors_deg: np.ndarray) -> tuple[float, float]:
    """Circular mean and circular standard deviation (``sqrt(-2 ln R)``) in degrees.

    ``nan, nan`` for an empty input.
    """
    e = np.deg2rad(np.asarray(errors_deg, dtype=float))
    if e.size == 0:
        return float("nan"), float("nan")
    z = np.exp(1j * e).mean()
    r = min(abs(z), 1.0)
    sd = np.sqrt(-2.0 * np.log(r)) if r > 0 else np.inf
    return float(np.rad2deg(np.angle(z))), float(np.rad2deg(sd))


def wrap_deg(x: np.ndarray) -> np.ndarray:
    """Angles wrapped into ``[-180, 180)`` degrees."""
    return (np.asarray(x, dtype=float) + 180.0) % 360.0 - 180.0
