"""``somnoloop stage-eval``: stream DREAMS excerpts through the live stager, score it and YASA."""

from __future__ import annotations

import argparse
import json
import os
import warnings
from pathlib import Path

from firmware_host.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``stage-eval`` sub-command."""
    p = sub.add_parser("stage-eval", help="evaluate the sleep stager on DREAMS excerpts")
    p.add_argument("--dreams", default=os.environ.get("SOMNOLOOP_DREAMS", ""),
                   help="DREAMS spindles folder (excerptN.txt, Hypnogram_excerptN.txt)")
    p.add_argument("--excerpts", default="1,2,3,4,5", help="comma-separated excerpt numbers")
    p.add_argument("--model", default="", help="model JSON ('' = the shipped default for each "
                   "excerpt's rate: the band-limited variant below 100 Hz)")
    p.add_argument("--loo", action="store_true",
                   help="leave-one-excerpt-out: stage each excerpt with a model trained on the "
                   "others (needs scikit-learn)")
    p.add_argument("--hmm", choices=("on", "off", "config"), default="config",
                   help="force the HMM forward filter on/off (default: config default)")
    p.add_argument("--expert", choices=("on", "off"), default="on",
                   help="pool the model's expert (YASA's trees on causal features) when the "
                   "model has one (default on, as on the device)")
    p.add_argument("--hmm-evidence-weight", type=float, default=None,
                   help="override stager.hmm_evidence_weight (0.05..1)")
    p.add_argument("--hmm-transition-weight", type=float, default=None,
                   help="override stager.hmm_transition_weight (0..1)")
    p.add_argument("--chunk-s", type=float, default=1.0, help="live-path chunk length in s")
    p.add_argument("--no-yasa", action="store_true", help="skip the YASA comparison")
    p.add_argument("--transitions-edf", action="append", default=[],
                   help="(--loo) extra hypnogram EDF+ for the HMM transition matrix")
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
    """Run the evaluation and print JSON or a table."""
    from dataclasses import replace

    from firmware_host.staging.config import StagerConfig
    from firmware_host.staging.model import ModelFormatError, load_model
    from somnoloop_lab.staging.evaluate import evaluate, load_dreams

    if not args.dreams:
        raise UsageError("--dreams ROOT is required (folder with excerptN.txt)")
    root = Path(args.dreams)
    if not root.is_dir():
        raise UsageError(f"--dreams {root}: not a folder")
    ks = _parse_excerpts(args.excerpts)
    if args.chunk_s <= 0:
        raise UsageError("--chunk-s must be > 0")
    try:
        recs = load_dreams(str(root), ks)
    except (FileNotFoundError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    cfg = StagerConfig()
    if args.hmm != "config":
        cfg = replace(cfg, hmm=args.hmm == "on")
    cfg = replace(cfg, expert=args.expert == "on")
    for key, lo in (("hmm_evidence_weight", 0.05), ("hmm_transition_weight", 0.0)):
        v = getattr(args, key)
        if v is not None:
            if not lo <= v <= 1.0:
                raise UsageError(f"--{key.replace('_', '-')} must be in {lo}..1, got {v}")
            cfg = replace(cfg, **{key: v})
    loo_fit = None
    model = None
    if args.loo:
        if len(recs) < 2:
            raise UsageError("--loo needs at least two excerpts")
        from somnoloop_lab.staging.datasets import read_hypnogram_annotations
        from somnoloop_lab.staging.training import (
            input_sfreq_for,
            train_eeg_model,
            trim_wake,
        )

        extra = [trim_wake(read_hypnogram_annotations(f)) for f in args.transitions_edf]

        def loo_fit(train, test):  # noqa: ANN001, ANN202
            return train_eeg_model(train, extra, input_sfreq=input_sfreq_for(test.sfreq))
    elif args.model:
        try:
            model = load_model(args.model)
        except ModelFormatError as exc:
            raise UsageError(str(exc)) from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = evaluate(recs, model, cfg=cfg, loo_fit=loo_fit, with_yasa=not args.no_yasa,
                       chunk_s=args.chunk_s)
    res["hmm"] = cfg.hmm
    res["expert"] = cfg.expert
    res["hmm_weights"] = {"evidence": cfg.hmm_evidence_weight,
                          "transition": cfg.hmm_transition_weight}
    res["excerpts"] = ks
    if args.json:
        print(json.dumps(res, indent=1))
        return 0
    _print_table(res)
    return 0


def _print_table(res: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"stage-eval ({res['mode']}, model {res['model']}, hmm={res['hmm']})")
    for c in ("excerpt", "epochs", "acc", "kappa", "macro-F1", "flicker/h", "cold-start N3/REM",
              "REM entry delay", "YASA acc", "YASA kappa", "YASA causal kappa"):
        t.add_column(c)
    rows = list(res["per_excerpt"].items()) + [("all", res)]
    for name, r in rows:
        y = r.get("yasa", {})
        e = r.get("expert_alone", {})
        t.add_row(name, str(r["n_epochs"]), f"{r['accuracy']:.3f}", f"{r['kappa']:.3f}",
                  f"{r['macro_f1']:.3f}", f"{r['flicker_per_hour']:.1f}",
                  f"{r['cold_start_false_deep']} / {r['cold_start_wake_epochs']}",
                  _epochs(r["rem_entry_delay_epochs"]),
                  f"{y['accuracy']:.3f}" if y else "-", f"{y['kappa']:.3f}" if y else "-",
                  f"{e['kappa']:.3f}" if e else "-")
    Console().print(t)
    Console().print("cold-start N3/REM: leading wake epochs (first 30 min) called N3 or REM. REM "
                    "entry delay: mean epochs from the expert's first REM epoch of each REM "
                    "period to the stager's (- without REM periods).")
    Console().print("YASA: offline (whole excerpt, centred windows). YASA causal: its trees on "
                    "our causal features alone (the stager's expert at weight 1).")


def _epochs(v: float | None) -> str:
    """A mean number of epochs for the table (``-`` when there is none)."""
    return "-" if v is None else f"{v:.1f}"
