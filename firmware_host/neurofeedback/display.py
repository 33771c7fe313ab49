"""What the trainee's operator sees: a rich live view of the session and a per-block summary.

:class:`NeurofeedbackDisplay` is a :class:`~firmware_host.runtime.hooks.RunObserver`. With
``live=True`` (``somnoloop run`` at speed 1) it shows, refreshed at most 5 times a second:
the phase and block progress, the feature against the threshold, the reward state (and
which gate closed), and the block's reward rate and gated share so far. At the end (any
speed) it prints one row per training and transfer block from the session record
(:func:`~firmware_host.neurofeedback.summary.neurofeedback_summary`).

It reads the stage's recent decisions on the loop thread (``on_iteration``); it never
changes the run.
"""

from __future__ import annotations

import time
from collections import Counter
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from firmware_host.neurofeedback.stage import NeurofeedbackStage
from firmware_host.neurofeedback.summary import neurofeedback_summary
from firmware_host.runtime.hooks import IterationInfo, RunObserver
from firmware_host.runtime.summary import RunSummary
from firmware_host.session import Session

REFRESH_S = 0.2


def find_stage(run: Any) -> NeurofeedbackStage | None:
    """The run's neurofeedback stage, if its pipeline has one."""
    controller = getattr(run, "controller", None)
    stages = getattr(getattr(controller, "pipeline", None), "stages", [])
    return next((s for s in stages if isinstance(s, NeurofeedbackStage)), None)


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


class NeurofeedbackDisplay(RunObserver):
    """Live neurofeedback view (optional) and the per-block summary at the end.

    Parameters
    ----------
    console
        Where to draw.
    live
        Draw the live view (speed 1); otherwise only the end summary is printed.
    """

    name = "neurofeedback-display"

    def __init__(self, console: Console, *, live: bool = False) -> None:
        self.console = console
        self.live = live
        self._live: Live | None = None
        self._seen = 0
        self._block = -1
        self._counts: Counter[str] = Counter()
        self._last_draw = 0.0
        self.stage: NeurofeedbackStage | None = None

    def __enter__(self) -> NeurofeedbackDisplay:
        if self.live:
            self._live = Live(Text("neurofeedback: waiting for data"), console=self.console,
                              refresh_per_second=5, transient=False, redirect_stdout=False,
                              redirect_stderr=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)
            self._live = None

    # ----------------------------------------------------------------- hooks
    def on_iteration(self, run: Any, info: IterationInfo) -> None:
        """Tally the new updates; redraw at most every :data:`REFRESH_S`."""
        if self.stage is None:  # attached after open(): look the stage up once
            self.stage = find_stage(run)
        stage = self.stage
        if stage is None:
            return
        new = min(stage.n_updates - self._seen, len(stage.recent))
        self._seen = stage.n_updates
        for d in list(stage.recent)[len(stage.recent) - new:]:
            if d.details["block"] != self._block:
                self._block = d.details["block"]
                self._counts = Counter()
            self._counts[d.label] += 1
        now = time.monotonic()
        if self._live is not None and stage.recent and now - self._last_draw >= REFRESH_S:
            self._last_draw = now
            self._live.update(self.render(info.data_s))

    def on_closed(self, run: Any, summary: RunSummary) -> None:
        """Draw the final state, then print the per-block summary from the session record."""
        if self.stage is None:
            self.stage = find_stage(run)
        if self._live is not None and self.stage is not None and self.stage.recent:
            self._live.update(self.render(summary.data_s), refresh=True)
        self.__exit__(None, None, None)
        if self.stage is None:
            return
        nf = neurofeedback_summary(Session(run.session_dir))
        if nf is not None:
            self.console.print(block_table(nf))

    # ----------------------------------------------------------------- drawing
    def render(self, data_s: float) -> Group:
        """The live view of the latest update."""
        assert self.stage is not None  # noqa: S101 - only called with a stage; typing only
        d = self.stage.recent[-1]
        det = d.details
        n_blocks = len(self.stage.plan.blocks)
        pos = self.stage.position(det["feature_sample"])
        head = Text(f"{det['phase'].upper()}  block {min(pos.block + 1, n_blocks)}/{n_blocks}"
                    + (f" (training {det['training_block']})" if det.get("training_block") else "")
                    + f"   {pos.elapsed_s:5.0f} / {pos.duration_s:.0f} s   data {data_s:7.1f} s",
                    style="bold")
        bar = ProgressBar(total=max(pos.duration_s, 1e-9), completed=pos.elapsed_s, width=50)
        if d.label == "reward":
            state = Text("  REWARD  ", style="bold black on green")
        elif d.label == "gated":
            state = Text(f"  GATED ({', '.join(det['gated_by'])})  ", style="bold black on yellow")
        else:
            state = Text("  —  ", style="bold white on grey23")
        table = Table.grid(padding=(0, 2))
        table.add_row("feature", _num(det.get("feature")), "threshold", _num(det.get("threshold")),
                      "direction", self.stage.spec.direction)
        clean = self._counts["reward"] + self._counts["no_reward"]
        n = clean + self._counts["gated"]
        rate = f"{100 * self._counts['reward'] / clean:.0f} %" if clean and det["feedback"] else "—"
        gated = f"{100 * self._counts['gated'] / n:.0f} %" if n else "—"
        target = f"{100 * self.stage.cfg.threshold.target_reward_rate:.0f} %"
        table.add_row("rewarded", rate, "target", target, "gated", gated)
        return Group(head, bar, state, table)


def block_table(nf: dict[str, Any]) -> Table:
    """Per-block summary table (training and transfer blocks)."""
    table = Table(title=f"neurofeedback ({nf['protocol']}, target "
                        f"{100 * (nf['target_reward_rate'] or 0):.0f} % rewarded)")
    for col in ("block", "phase", "rewarded", "feature", "baseline", "gated"):
        table.add_column(col, justify="right")
    rows = [("training", b) for b in nf["blocks"]] + [("transfer", b) for b in nf["transfer_blocks"]]
    for phase, b in sorted(rows, key=lambda r: r[1]["block"]):
        rate = "—" if b["reward_rate"] is None else f"{100 * b['reward_rate']:.0f} %"
        gated = "—" if b["gated_fraction"] is None else f"{100 * b['gated_fraction']:.0f} %"
        table.add_row(str(b["block"] + 1), f"{phase} {b['training_block']}", rate,
                      _num(b["feature_mean"]), _num(b["baseline_mean"]), gated)
    return table


def neurofeedback_display(run: Any, console: Console, *, quiet: bool = False) -> NeurofeedbackDisplay | None:
    """The display for ``run`` when neurofeedback is enabled (live at speed 1), else ``None``."""
    if not run.config.neurofeedback.enabled:
        return None
    live = not quiet and run.plan is not None and run.plan.speed == 1
    return NeurofeedbackDisplay(Console(quiet=True) if quiet else console, live=live)


def attach_neurofeedback_display(run: Any, console: Console, *,
                                 quiet: bool = False) -> AbstractContextManager[Any]:
    """Attach :func:`neurofeedback_display` to an opened ``run``; enter the result around ``run()``.

    A no-op context when neurofeedback is off. Nests with another rich live display (the
    run's progress bar).
    """
    display = neurofeedback_display(run, console, quiet=quiet)
    if display is None:
        return nullcontext()
    run.attach(display)
    return display
