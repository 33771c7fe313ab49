"""``somnoloop events-eval``: stream DREAMS excerpts through the live spindle and
slow-oscillation detectors; score them, and YASA's offline spindle detector, side by side."""

from __future__ import annotations

import argparse
import json
import math
import os
import warnings
from pathlib import Path

from firmware_host.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``events-eval`` sub-command."""
    p = sub.add_parser("events-eval",
                       help="evaluate the live spindle / slow-oscillation detectors on DREAMS")
    p.add_argument("--dreams", default=os.environ.get("SOMNOLOOP_DREAMS", ""),
                   help="DREAMS spindles folder (excerptN.txt, Hypnogram_excerptN.txt, "
                   "Visual_scoring1_excerptN.txt)")
    p.add_argument("--excerpts", default="1,2", help="comma-separated excerpt numbers (1..8)")
    p.add_argument("--chunk-s", type=float, default=1.0, help="live-path chunk length in s")
    p.add_argument("--no-yasa", action="store_true", help="skip YASA's offline detector")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def _parse_excerpts(text: str) -> list[int]:
    try:
        ks = [int(k) for k in text.split(",") if k.strip()]
    except ValueError:
        raise UsageError(f"--excerpts must be comma-separated integers 1..8, got {text!r}") from None
    if not ks or any(k < 1 or k > 8 for k in ks):
        raise UsageError(f"--excerpts must be in 1..8, got {text!r}")
    return ks


def run(args: argparse.Namespace) -> int:
    """Run the evaluation; print JSON or a table."""
    from somnoloop_lab.events.evaluate import evaluate

    if not args.dreams:
        raise UsageError("--dreams ROOT is required (folder with excerptN.txt)")
    root = Path(args.dreams)
    if not root.is_dir():
        raise UsageError(f"--dreams {root}: not a folder")
    ks = _parse_excerpts(args.excerpts)
    if not (math.isfinite(args.chunk_s) and args.chunk_s > 0):
        raise UsageError(f"--chunk-s must be a number > 0, got {args.chunk_s}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = evaluate(root, ks, chunk_s=args.chunk_s, with_yasa=not args.no_yasa)
    except (FileNotFoundError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    res["excerpts"] = ks
    if args.json:
        print(json.dumps(res, indent=1))
        return 0
    _print_table(res)
    return 0


def _print_table(res: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"events-eval (DREAMS excerpts {res['excerpts']}, expert 1, IoU >= 0.2)")
    for c in ("excerpt", "expert", "detected", "F1", "precision", "recall", "latency ms",
              "YASA F1", "YASA precision", "YASA recall", "SO stimuli (N3)"):
        t.add_column(c)
    rows = list(res["per_excerpt"].items()) + [("all", {**res, "n_expert": res["n_spindles_expert"],
                                                      "n_detected": res["n_spindles_detected"]})]
    for name, r in rows:
        y = r.get("yasa", {})
        t.add_row(name, str(r["n_expert"]), str(r["n_detected"]), f"{r['spindle_f1']:.3f}",
                  f"{r['spindle_precision']:.3f}", f"{r['spindle_recall']:.3f}",
                  f"{r['spindle_latency_ms']:.0f}",
                  *(f"{y[k]:.3f}" if y else "-" for k in
                    ("spindle_f1", "spindle_precision", "spindle_recall")),
                  str(r["n_stimuli"]))
    console = Console()
    console.print(t)
    console.print(f"spindle onset precision (every onset decision, valid or not): "
                  f"{res['spindle_onset_precision']:.3f} of {res['n_spindle_onsets']}")
    for m, s in res["so_methods"].items():
        mark = " (configured)" if m == res["so_method"] else ""
        console.print(f"SO up-state phase error, method {m}{mark}: mean {s['so_phase_error_deg_mean']:.1f}°, "
                      f"SD {s['so_phase_error_deg_sd']:.1f}° over {s['n_stimuli']} N3 stimuli")
    console.print("YASA: offline spindles_detect on the whole excerpt (defaults).")
