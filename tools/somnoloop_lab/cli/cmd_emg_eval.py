"""``somnoloop emg-eval --3dc ROOT``: grip-decoder accuracy on the real 3DC data set."""

from __future__ import annotations

import argparse
import json

from firmware_host.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``emg-eval`` sub-command."""
    p = sub.add_parser(
        "emg-eval",
        help="evaluate the EMG grip decoder on 3DC (train reps → test reps after the break)",
    )
    p.add_argument("--3dc", dest="root", default=None,
                   help="3DC root holding Participant*/ (default: ../shared/data/emg/3dc)")
    p.add_argument("--participants", default="",
                   help="comma-separated participant numbers, e.g. 1,2,3 (default: all found)")
    from firmware_host.emg.config import EmgDecoderConfig

    live = EmgDecoderConfig()
    p.add_argument("--window-ms", type=float, default=live.window_ms,
                   help="window length in ms (default: the live decoder's)")
    p.add_argument("--increment-ms", type=float, default=live.increment_ms,
                   help="window step in ms (default: the live decoder's)")
    p.add_argument("--highpass-hz", type=float, default=live.highpass_hz,
                   help="high-pass cut-off in Hz")
    p.add_argument("--reject-below", type=float, default=live.reject_below,
                   help="confidence rejection threshold of the post-processed figure")
    p.add_argument("--vote", type=int, default=live.vote,
                   help="majority vote of the post-processed figure (windows)")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.set_defaults(func=run)


def _participants(spec: str, found: list[int]) -> list[int]:
    if not spec:
        return found
    try:
        wanted = [int(s) for s in spec.split(",") if s.strip()]
    except ValueError:
        raise UsageError(f"--participants must be comma-separated integers, got {spec!r}") from None
    missing = [p for p in wanted if p not in found]
    if missing:
        raise UsageError(f"participants {missing} not in the data set; available: {found}")
    return wanted


def run(args: argparse.Namespace) -> int:
    """Evaluate and print a table or the JSON report."""
    from somnoloop_lab.emg.dataset import default_root, list_participants
    from somnoloop_lab.emg.evaluate import evaluate_participant, summarise

    root = args.root or str(default_root())
    try:
        found = list_participants(root)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    if not found:
        raise UsageError(f"no Participant<N> folders under {root}")
    parts = _participants(args.participants, found)
    if not 0.0 <= args.reject_below <= 1.0:
        raise UsageError(f"--reject-below must be in [0, 1], got {args.reject_below}")
    if not 1 <= args.vote <= 15:
        raise UsageError(f"--vote must be 1..15 windows, got {args.vote}")
    if not 20 <= args.window_ms <= 1000 or not 1 <= args.increment_ms <= args.window_ms:
        raise UsageError("need 20 <= --window-ms <= 1000 and 1 <= --increment-ms <= window")
    per = {
        p: evaluate_participant(root, p, args.window_ms, args.increment_ms, args.highpass_hz,
                                vote=args.vote, reject_below=args.reject_below)
        for p in parts
    }
    rep = summarise(per, args.window_ms, args.increment_ms, args.vote, args.reject_below)
    if args.json:
        print(json.dumps(rep, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"3DC grip decoding: ours {args.window_ms:g}/{args.increment_ms:g} ms, "
                    "LDA baseline 200/50 ms")
    for col in ("participant", "ours 11-cl", "LDA 11-cl", "ours 5-grip", "LDA 5-grip",
                "ours 3-cl", "LDA 3-cl"):
        t.add_column(col, justify="right")
    for p in parts:
        d = per[p]
        t.add_row(str(p), *(f"{100 * d[task][who]:.1f}" for task in ("11class", "5grip", "3class")
                            for who in ("ours", "lda_baseline")))
    b = rep["baseline"]
    t.add_row("mean ± sd", *(
        f"{100 * r[k]['mean']:.1f} ± {100 * r[k]['std']:.1f}"
        for k in ("accuracy_11class", "accuracy_5grip", "accuracy_3class") for r in (rep, b)
    ))
    Console().print(t)
    pp = rep["postprocessed"]
    Console().print(f"decision cost {rep['decision_us']:.1f} µs, controller delay "
                    f"{rep['controller_delay_ms']:.1f} ms; with vote {args.vote}: 11-class "
                    f"{100 * pp['accuracy_11class']['mean']:.1f} %, delay "
                    f"{pp['controller_delay_ms']:.1f} ms")
    return 0
