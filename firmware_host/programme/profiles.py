"""Timed set-point profiles: a fade over 10 min, a rise over 5 min, a schedule across a night.

A profile is a list of (time, value) points, linearly interpolated and sampled every
``step`` seconds (and at every point), so the actuator follows it in small steps; the
safety layer's slew limit still applies to every step.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Profile:
    """A running profile on one output.

    Parameters
    ----------
    rule
        The rule that started it (journalled with every step).
    output
        Output name.
    points
        ``(engine time, value)`` pairs, times increasing.
    step_s
        Time between set-point updates (> 0).
    pattern
        Vibration pattern of the steps.
    """

    rule: str
    output: str
    points: tuple[tuple[float, float], ...]
    step_s: float
    pattern: str = "continuous"

    def __post_init__(self) -> None:
        if not self.points:
            raise ValueError("a profile needs at least one point")
        if self.step_s <= 0:
            raise ValueError(f"profile step must be > 0 s, got {self.step_s}")
        t0, t_end = self.points[0][0], self.points[-1][0]
        times = {t0 + k * self.step_s for k in range(int((t_end - t0) / self.step_s) + 1)}
        times |= {t for t, _ in self.points}
        self.schedule: tuple[float, ...] = tuple(sorted(t for t in times if t <= t_end))
        self.index = 0

    @property
    def started(self) -> float:
        """Engine time of the first point."""
        return self.points[0][0]

    @property
    def done(self) -> bool:
        """Every step taken."""
        return self.index >= len(self.schedule)

    def next_due(self) -> float | None:
        """Engine time of the next step (``None`` when done)."""
        return None if self.done else self.schedule[self.index]

    def value_at(self, t: float) -> float:
        """Interpolated set-point at engine time ``t`` (held outside the points)."""
        pts = self.points
        if t <= pts[0][0]:
            return pts[0][1]
        for (ta, va), (tb, vb) in zip(pts, pts[1:], strict=False):
            if t <= tb:
                return va + (vb - va) * (t - ta) / (tb - ta)
        return pts[-1][1]

    def take(self) -> tuple[float, float, int]:
        """Take the next step: ``(time, value, step number)``.

        Raises
        ------
        ValueError
            When the profile is done.
        """
        if self.done:
            raise ValueError("profile already finished")
        t = self.schedule[self.index]
        self.index += 1
        return t, self.value_at(t), self.index


def ramp(rule: str, output: str, t: float, start: float, to: float, over_s: float,
         step_s: float, pattern: str = "continuous") -> Profile:
    """A linear ramp from ``start`` at ``t`` to ``to`` after ``over_s`` (a step when 0)."""
    points = ((t, to),) if over_s <= 0 else ((t, start), (t + over_s, to))
    return Profile(rule, output, points, step_s, pattern)
