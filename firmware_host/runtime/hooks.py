"""Lifecycle hooks of a run: observers attach; the loop calls them on its own thread.

A run goes ``opened`` (source open, session started, actuators built) → ``ready`` (the
source streams and every configured actuator answered) → ``iteration`` (after every loop
iteration) → ``stopping`` (a stop was decided, with its reason) → ``closed`` (actuators
safe, source closed, session closed). Progress displays, systemd notification, the control
socket and the end-of-night report are observers; none of them reaches into the loop.

An observer that raises is journalled as a ``fault`` (``where = "observer:<name>"``) and
the run goes on: a display or a notifier never ends a night's recording.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only
    from firmware_host.runtime.run import Run
    from firmware_host.runtime.summary import RunSummary


@dataclass(frozen=True)
class IterationInfo:
    """What one loop iteration did, for observers.

    Parameters
    ----------
    now
        The run clock's time at the start of the iteration (seconds).
    data_s
        Seconds of data recorded so far.
    n_samples
        Samples per channel recorded in this iteration.
    processing_s
        Monotonic seconds from reading the source to the last command sent (read, record,
        decide, act): what stands between a block's arrival and the actuators.
    healthy
        Whether the loop is healthy: the signal is fresh, no stage is failing and the
        iteration kept its pace. A watchdog notifier pets only while this is true.
    late_s
        How far behind its schedule the iteration started (0 when on time).
    recording_s
        Monotonic seconds of the recorder's disk work after the commands (block encoding,
        journal commit, fsync; 0 in most iterations).
    """

    now: float
    data_s: float
    n_samples: int
    processing_s: float
    healthy: bool
    late_s: float = 0.0
    recording_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


class RunObserver:
    """Base class of run observers: every hook is a no-op; override what you need.

    ``name`` identifies the observer in fault events.
    """

    name: str = "observer"

    def on_opened(self, run: Run) -> None:
        """Source open, session recording, actuators built (not yet known to answer)."""

    def on_ready(self, run: Run) -> None:
        """The source delivered data and every configured actuator answered."""

    def on_iteration(self, run: Run, info: IterationInfo) -> None:
        """After every loop iteration (keep it cheap: it runs on the loop thread)."""

    def on_stopping(self, run: Run, reason: str) -> None:
        """The loop decided to stop (duration reached, source ended, signal, error)."""

    def on_closed(self, run: Run, summary: RunSummary) -> None:
        """Actuators safe and closed, source closed, session closed."""


class Hooks:
    """The observers of one run, called in the order they were attached."""

    def __init__(self, observers: list[RunObserver] | None = None) -> None:
        self.observers: list[RunObserver] = list(observers or [])

    def attach(self, observer: RunObserver) -> None:
        """Add an observer (before or during the run)."""
        self.observers.append(observer)

    def call(self, hook: str, run: Run, *args: Any) -> None:
        """Call ``hook`` on every observer; a raising observer is journalled, never fatal."""
        for observer in list(self.observers):
            try:
                getattr(observer, hook)(run, *args)
            except Exception as exc:  # noqa: BLE001 - an observer never ends the night
                run.fault(f"observer:{observer.name}", exc)
