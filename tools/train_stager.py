"""Train the somnoloop stager model and write it as JSON.

Default (reproduces the shipped ``firmware_host/models/stager_default.json``)::

    python tools/train_stager.py --dreams ../shared/data/dreams-spindles --excerpts 1,2,3,4,5 \
        --sub-epoch-s 10 --expert --version 3.0.0 \
        --transitions-edf ../shared/data/sleep-edf/SC4001EC-Hypnogram.edf \
        --out firmware_host/models/stager_default.json

The band-limited variant for sources below 100 Hz (``stager_lowrate.json``) is the same
command with ``--input-sfreq 50 --out firmware_host/models/stager_lowrate.json``.

Whole nights (Sleep-EDF layout as fetched by ``mne.datasets.sleep_physionet``, or any EDF+
with a hypnogram EDF) are added with ``--psg PSG.edf --hypnogram HYP.edf --channel NAME``
(repeatable, pairs in order). ``--loo`` prints leave-one-recording-out agreement first.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from somnoloop_lab.staging.datasets import read_hypnogram_annotations  # noqa: E402
from somnoloop_lab.staging.training import (  # noqa: E402
    input_sfreq_for,
    train_model,
    trim_wake,
    with_expert,
)


def synthetic_recording(seed: int, hours: float):  # noqa: ANN201
    """A scripted synthetic night (no artefacts, no gestures) as a labelled Recording."""
    from firmware_host.config.schema import SyntheticSourceConfig
    from firmware_host.synthetic.night import SyntheticNight
    from somnoloop_lab.staging.datasets import Recording

    night = SyntheticNight(SyntheticSourceConfig(seed=seed, artefacts=False, gestures=False),
                           hours * 3600.0)
    keep = [list(night.channel_types).index(t) for t in ("eeg", "eog", "emg")]
    return Recording(f"synthetic-{seed}", night.generate(0, night.n_samples)[keep], night.sfreq,
                     tuple(night.channel_names[i] for i in keep), ("eeg", "eog", "emg"),
                     list(night.hypnogram), subject=f"synthetic-{seed}")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dreams", default="", help="DREAMS spindles folder")
    p.add_argument("--excerpts", default="1,2,3,4,5")
    p.add_argument("--psg", action="append", default=[], help="EDF with the EEG (repeatable)")
    p.add_argument("--hypnogram", action="append", default=[], help="hypnogram EDF+ per --psg")
    p.add_argument("--channel", default="", help="EEG channel name in the --psg files")
    p.add_argument("--synthetic", default="",
                   help="comma-separated seeds of synthetic nights (firmware_host.synthetic) to "
                   "train an EEG+EOG+EMG demo model on")
    p.add_argument("--synthetic-hours", type=float, default=2.0)
    p.add_argument("--roles", default="eeg", help="channel roles of the model, e.g. eeg,eog,emg")
    p.add_argument("--name", default="somnoloop-logreg")
    p.add_argument("--transitions-edf", action="append", default=[],
                   help="extra hypnogram-only EDF+ files for the transition matrix")
    p.add_argument("--C", type=float, default=0.1, help="inverse L2 regularisation")
    p.add_argument("--sub-epoch-s", type=float, default=0.0,
                   help="train on windows of this length (s, dividing 30) labelled by the "
                   "expert's own finer labels (DREAMS: 5-s R&K) and pool them per epoch; "
                   "0 = whole 30-s epochs (the default model uses 10)")
    p.add_argument("--input-sfreq", type=float, default=0.0,
                   help="bring every faster training recording down to this rate first: the "
                   "band-limited variant for slow sources (the shipped stager_lowrate.json "
                   "uses 50); 0 = as recorded")
    p.add_argument("--expert", action="store_true",
                   help="pool YASA's pre-trained trees on causal features (the shipped real-EEG "
                   "models do); their normalisation prior is measured on the training data")
    p.add_argument("--trim-wake-min", type=float, default=-1.0,
                   help="--psg nights: keep this many minutes of wake around sleep (Sleep-EDF "
                   "recordings run for about a day; 30 is usual; default: keep everything)")
    p.add_argument("--version", default="1.0.0")
    p.add_argument("--out", default="firmware_host/models/stager_default.json")
    p.add_argument("--loo", action="store_true", help="print leave-one-out agreement first")
    args = p.parse_args(argv)

    from firmware_host.staging.model import save_model
    from somnoloop_lab.staging.datasets import (
        load_dreams_excerpt,
        load_edf_recording,
        trim_to_sleep,
    )
    from somnoloop_lab.staging.evaluate import evaluate

    recs = []
    if args.dreams:
        recs += [load_dreams_excerpt(args.dreams, int(k)) for k in args.excerpts.split(",")]
    if len(args.psg) != len(args.hypnogram):
        p.error("give one --hypnogram per --psg")
    for psg, hyp in zip(args.psg, args.hypnogram, strict=True):
        rec = load_edf_recording(psg, hyp, eeg=args.channel)
        recs.append(trim_to_sleep(rec, int(round(args.trim_wake_min * 2)))
                    if args.trim_wake_min >= 0 else rec)
    roles = tuple(r.strip() for r in args.roles.split(",") if r.strip())

    def fit(train, test=None):  # noqa: ANN001, ANN202
        # --loo: the held-out recording only decides the variant (its rate), never the fit
        rate = args.input_sfreq if test is None else (args.input_sfreq or input_sfreq_for(test.sfreq))
        m = train_model(train, extra, roles=roles, C=args.C, version=args.version,
                        name=args.name, sub_epoch_s=args.sub_epoch_s, input_sfreq=rate)
        return with_expert(m, train) if args.expert else m

    if args.synthetic:
        recs += [synthetic_recording(int(k), args.synthetic_hours)
                 for k in args.synthetic.split(",")]
    if not recs:
        p.error("no training recordings (use --dreams and/or --psg/--hypnogram)")
    extra = [trim_wake(read_hypnogram_annotations(f)) for f in args.transitions_edf]
    if args.loo and len(recs) > 1:
        res = evaluate(recs, loo_fit=fit,
                       with_yasa=False)
        print(json.dumps({k: res[k] for k in ("accuracy", "kappa", "macro_f1", "n_epochs",
                                              "flicker_per_hour")}))
    model = fit(recs)
    model = replace(model, meta={
        **model.meta,
        "transitions_extra": [Path(f).name for f in args.transitions_edf],
        "command": "python tools/train_stager.py " + " ".join(
            a if not Path(a).exists() or a.endswith(".json") else Path(a).name
            for a in (argv if argv is not None else sys.argv[1:])),
    })
    save_model(model, args.out)
    print(f"wrote {args.out} ({model.tag}, {model.meta['n_train_epochs']} epochs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
