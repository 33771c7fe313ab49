"""``somnoloop stage EDF``: stage any EDF recording through the live (causal) stager."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from firmware_host.errors import UsageError

#: Longest live-path chunk (one epoch; longer chunks only stage in bigger bites).
MAX_CHUNK_S = 30.0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``stage`` sub-command."""
    p = sub.add_parser("stage", help="sleep-stage an EDF file (agreement with a hypnogram)")
    p.add_argument("edf", help="EDF/EDF+ recording")
    p.add_argument("--channel", required=True, help="EEG channel name")
    p.add_argument("--eog", default="", help="EOG channel name (used if the model has EOG)")
    p.add_argument("--emg", default="", help="chin EMG channel name (used if the model has EMG)")
    p.add_argument("--hypnogram", default="",
                   help="EDF+ hypnogram (Sleep-EDF style); default: stage annotations in EDF")
    p.add_argument("--hypnogram-channel", default="",
                   help="signal channel with R&K stage codes (DREAMS PSG files)")
    p.add_argument("--model", default="", help="model JSON ('' = shipped default)")
    p.add_argument("--hmm", choices=("on", "off", "config"), default="config",
                   help="force the HMM forward filter on/off")
    p.add_argument("--chunk-s", type=float, default=1.0, help="live-path chunk length in s")
    p.add_argument("--json", action="store_true", help="print JSON (with per-epoch stages)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Stage the file and print the hypnogram summary (and agreement)."""
    from dataclasses import replace

    from firmware_host.staging.config import StagerConfig
    from firmware_host.staging.model import ModelFormatError, load_model, shipped_model_for
    from somnoloop_lab.staging.datasets import load_edf_recording
    from somnoloop_lab.staging.evaluate import score, stager_for, stream
    from somnoloop_lab.staging.metrics import flicker_per_hour

    path = Path(args.edf)
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    if args.hypnogram and not Path(args.hypnogram).is_file():
        raise UsageError(f"--hypnogram {args.hypnogram}: no such file")
    if not 0 < args.chunk_s <= MAX_CHUNK_S:
        raise UsageError(f"--chunk-s {args.chunk_s:g}: allowed: seconds > 0 and at most {MAX_CHUNK_S:g}")
    try:
        rec = load_edf_recording(path, args.hypnogram or None, eeg=args.channel, eog=args.eog,
                                 emg=args.emg, hypnogram_channel=args.hypnogram_channel)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        model = load_model(args.model or shipped_model_for(rec.sfreq))
    except ModelFormatError as exc:
        raise UsageError(str(exc)) from None
    cfg = StagerConfig()
    if args.hmm != "config":
        cfg = replace(cfg, hmm=args.hmm == "on")
    try:
        stager = stager_for(rec, model, cfg, eeg=args.channel, eog=args.eog, emg=args.emg)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    decisions = stream(stager, rec, args.chunk_s)
    labels = [d.label for d in decisions]
    out = {"file": str(path), "model": model.tag, "hmm": cfg.hmm, "n_epochs": len(labels),
           "counts": dict(Counter(labels)), "flicker_per_hour": flicker_per_hour(labels)}
    if rec.stages and any(s != "?" for s in rec.stages):
        out["agreement"] = score(rec, labels)
    if args.json:
        out["stages"] = labels
        out["probabilities"] = [d.probabilities for d in decisions]
        print(json.dumps(out, indent=1))
        return 0
    print(f"{path.name}: {len(labels)} epochs, model {model.tag}, hmm={cfg.hmm}")
    print("  stages: " + ", ".join(f"{k} {v}" for k, v in sorted(out["counts"].items())))
    print(f"  flicker: {out['flicker_per_hour']:.1f} changes/h")
    if "agreement" in out:
        a = out["agreement"]
        print(f"  vs hypnogram ({a['n_epochs']} epochs): accuracy {a['accuracy']:.3f}, "
              f"kappa {a['kappa']:.3f}, macro-F1 {a['macro_f1']:.3f}")
    return 0
