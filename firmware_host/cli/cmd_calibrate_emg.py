"""``somnoloop calibrate-emg``: guide the wearer through each grip, train, save the model."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from firmware_host.errors import UsageError

GRIP_TEXT = {
    "rest": "relax your hand completely",
    "power": "close your hand into a firm fist",
    "open": "open your hand, fingers spread",
    "pinch": "pinch thumb and index finger",
    "tripod": "thumb, index and middle finger together",
    "key": "thumb onto the side of the index finger",
    "point": "point with the index finger",
}


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``calibrate-emg`` sub-command."""
    p = sub.add_parser("calibrate-emg", help="record prompted grips and train the EMG model")
    p.add_argument("--config", default=None, help="TOML config (default: built-in synthetic)")
    p.add_argument("--out", default=None, help="model file to write (default: [emg] model_file)")
    p.add_argument("--grips", default="", help="comma-separated grips (default: [emg] grips)")
    p.add_argument("--reps", type=int, default=None, help="repetitions per grip")
    p.add_argument("--speed", default="1",
                   help="'1' real time (a wearer), a factor, or 'max' (synthetic tests)")
    p.add_argument("--yes", "--no-prompt", dest="yes", action="store_true",
                   help="start without waiting for Enter")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


class _SyntheticWearer:
    """A synthetic source whose forearm follows the calibration prompts (paced by a clock)."""

    def __init__(self, cfg, emg_cfg, clock, lead_in_s: float) -> None:
        from firmware_host.synthetic.night import SyntheticNight
        from firmware_host.synthetic.script import calibration_script

        self.sfreq = float(cfg.sfreq)
        self.clock = clock
        self.n_total = 0
        script = calibration_script(emg_cfg.grips, emg_cfg.reps, emg_cfg.hold_s,
                                    emg_cfg.rest_s, self.sfreq, start_s=lead_in_s)
        self._script_end = max(g.stop_sample for g in script)
        self.night = SyntheticNight(dataclasses.replace(cfg, artefacts=False),
                                    self._script_end / self.sfreq + emg_cfg.rest_s + 1.0,
                                    hypnogram=["W"], gesture_script=script)
        self.channel_names = self.night.channel_names
        self.channel_types = self.night.channel_types
        self._pos = 0
        self._t0 = 0.0

    def open(self) -> None:
        self._t0 = self.clock.now()

    def read(self):
        from firmware_host.chunk import Chunk

        due = min(self.night.n_samples, int((self.clock.now() - self._t0) * self.sfreq))
        if due <= self._pos:
            return None
        lo, self._pos = self._pos, due
        return Chunk(self.night.generate(lo, due), lo, self.sfreq, self.channel_names,
                     self.channel_types, np.arange(lo, due) / self.sfreq)

    @property
    def finished(self) -> bool:
        return self._pos >= self.night.n_samples

    def close(self) -> None:
        pass


def _load(args: argparse.Namespace):
    from firmware_host.config import load_config, parse_config

    cfg = load_config(args.config) if args.config else parse_config({})
    emg = cfg.emg
    if args.grips:
        grips = tuple(g.strip() for g in args.grips.split(",") if g.strip())
        if "rest" not in grips:
            grips = ("rest", *grips)
        unknown = [g for g in grips if g not in GRIP_TEXT]
        if unknown:
            raise UsageError(f"unknown grips {unknown}; allowed: {list(GRIP_TEXT)}")
        if len(grips) < 2:
            raise UsageError("calibration needs rest and at least one grip")
        emg = dataclasses.replace(emg, grips=grips)
    if args.reps is not None:
        if not 1 <= args.reps <= 10:
            raise UsageError(f"--reps must be 1..10, got {args.reps}")
        emg = dataclasses.replace(emg, reps=args.reps)
    return cfg, emg


def _writable_model_path(out: Path) -> Path:
    """``out`` once it is known that a model can be written there — checked before the
    wearer spends minutes on the prompts, not after.

    Raises
    ------
    UsageError
        Naming the path and what is wrong with it.
    """
    if out.suffix != ".npz":
        raise UsageError(f"--out {out}: allowed: a path ending in .npz")
    if out.is_dir():
        raise UsageError(f"--out {out} is a directory; allowed: a writable path ending in .npz")
    probe = out.with_name(out.name + ".probe")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write there ({exc.strerror or exc}); "
                         "allowed: a writable path ending in .npz") from None
    return out


def _clock(speed: str):
    from firmware_host.clock import FakeClock, RealClock
    from firmware_host.config.durations import parse_speed

    try:
        s = parse_speed(speed)
    except ValueError as exc:
        raise UsageError(f"--speed: {exc}") from None
    return FakeClock() if s == float("inf") else RealClock(s)


def _prompt_view(prompts, sample: int, sfreq: float, n_total: int):
    """(headline, detail, fraction done) for the wearer at stream position ``sample``."""
    for i, p in enumerate(prompts):
        if sample < p.start:
            left = (p.start - sample) / sfreq
            return (f"get ready: {p.grip.upper()} in {left:.0f} s", GRIP_TEXT[p.grip],
                    sample / n_total, (i, "ready"))
        if sample < p.stop:
            left = (p.stop - sample) / sfreq
            return (f"{p.grip.upper()}  hold {left:.1f} s",
                    f"{GRIP_TEXT[p.grip]}  (repetition {p.rep + 1}, prompt {i + 1}/{len(prompts)})",
                    sample / n_total, (i, "hold"))
    return "relax, almost done", "", min(1.0, sample / n_total), (len(prompts), "done")


def run(args: argparse.Namespace) -> int:
    """Record the prompted session, train, report cross-validated accuracy, save the model."""
    from rich.console import Console
    from rich.live import Live
    from rich.panel import Panel
    from rich.progress_bar import ProgressBar
    from rich.table import Table

    from firmware_host.emg.calibrate import (
        prompt_schedule,
        schedule_samples,
        train_from_recording,
    )
    from firmware_host.emg.model import save_model
    from firmware_host.emg.train import CalibrationError

    cfg, emg = _load(args)
    out = _writable_model_path(Path(args.out or emg.model_file))
    console = Console(stderr=args.json)
    clock = _clock(args.speed)
    lead_in_s = 3.0
    if cfg.source.kind == "synthetic":
        source = _SyntheticWearer(cfg.source.synthetic, emg, clock, lead_in_s)
        sfreq = source.sfreq
    else:
        try:
            from firmware_host.sources.factory import make_source
        except ImportError as exc:  # pragma: no cover - depends on the sources package
            raise UsageError(f"source kind {cfg.source.kind!r} unavailable: {exc}") from None
        source = None
        sfreq = 0.0
    prompts = None
    if not args.yes:
        console.input("Sit comfortably with the armband on. Press [bold]Enter[/bold] to start. ")
    if source is None:
        n_est = 3600.0
        source = make_source(cfg.source, clock, n_est)
    source.open()
    pieces: list[np.ndarray] = []
    rows: list[int] | None = None
    names: tuple[str, ...] = ()
    got = 0
    expected: int | None = None
    n_total = 1
    tick = 0.05
    last_prompt: tuple = ()
    live = Live(console=console, refresh_per_second=10, transient=True) \
        if console.is_terminal and not args.json else None
    try:
        if live:
            live.start()
        while True:
            chunk = source.read()
            if chunk is not None:
                if rows is None:
                    sfreq = chunk.sfreq
                    rows = [i for i, t in enumerate(chunk.channel_types) if t == "forearm_emg"]
                    if emg.channels:
                        rows = [i for i in rows if chunk.channel_names[i] in emg.channels]
                    if not rows:
                        raise UsageError("the source has no forearm_emg channels to calibrate")
                    names = tuple(chunk.channel_names[i] for i in rows)
                    prompts = prompt_schedule(emg.grips, emg.reps, emg.hold_s, emg.rest_s,
                                              sfreq, lead_in_s)
                    n_total = schedule_samples(prompts, sfreq, emg.rest_s)
                if expected is not None and chunk.first_sample != expected:
                    raise UsageError(
                        f"samples {expected}..{chunk.first_sample} were lost during calibration "
                        "(check the board connection) — prompts and data no longer line up; "
                        "run calibrate-emg again"
                    )
                expected = chunk.end_sample
                pieces.append(chunk.data[rows])
                got += chunk.n_samples
            if prompts is not None:
                head, detail, frac, k = _prompt_view(prompts, got, sfreq, n_total)
                if live:
                    grid = Table.grid()
                    grid.add_row(f"[bold cyan]{head}[/bold cyan]")
                    grid.add_row(detail)
                    grid.add_row(ProgressBar(total=1.0, completed=frac, width=50))
                    live.update(Panel(grid, title="somnoloop calibrate-emg"))
                elif k != last_prompt and not args.json:
                    console.print(f"[{100 * frac:3.0f} %] {head} — {detail}")
                last_prompt = k
                if got >= n_total:
                    break
            if source.finished:
                break
            clock.sleep(tick)
    finally:
        if live:
            live.stop()
        source.close()
    if prompts is None or got < n_total:
        raise UsageError(f"the source ended after {got} samples; calibration needs {n_total}")
    x = np.concatenate(pieces, axis=1)[:, :n_total]
    try:
        model, report = train_from_recording(x, sfreq, names, prompts, emg)
    except CalibrationError as exc:
        raise UsageError(f"calibration failed: {exc}") from None
    try:
        save_model(model, out)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write the model ({exc.strerror or exc}); "
                         "allowed: a writable path ending in .npz") from None
    result = {"model_file": str(out), "model": model.tag, "classes": list(model.classes),
              "channels": list(names), "sfreq": sfreq, **report}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        cv = report["cv_accuracy"]
        cv_text = "n/a (one repetition)" if cv is None else f"{100 * cv:.1f} %"
        console.print(f"[green]trained[/green] {model.tag} on {report['n_windows']} windows; "
                      f"cross-validated accuracy (leave one repetition out): {cv_text}")
        if cv is not None and cv < 0.8:
            console.print("[yellow]accuracy is low: check the armband contact and recalibrate"
                          "[/yellow]")
        console.print(f"saved {out}")
    return 0
