"""Benchmark of the EMG decoder path; prints JSON (no timed assertions anywhere).

Keys: ``window_features_us`` (one 10 × 200 window, all features incl. LOGCOV),
``decision_us`` (one live decision at 1 kHz, 120 ms / 20 ms: high-pass + features +
classifier + post-processing, measured through :class:`EmgDecoder`), ``classify_us``.

Usage: ``python tools/emg_bench.py [--repeats N]``
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np


def _per_call_us(fn, repeats: int) -> float:
    fn()  # warm-up / JIT
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(repeats):
            fn()
        best = min(best, (time.perf_counter() - t0) / repeats)
    return 1e6 * best


def main() -> None:
    from dsp.emg_features import feature_index, n_features, window_features
    from firmware_host.chunk import Chunk
    from firmware_host.config import parse_config
    from firmware_host.emg.decoder import EmgDecoder
    from firmware_host.emg.model import EmgModel
    from firmware_host.emg.train import DEFAULT_FEATURES

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=200)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    window = rng.normal(size=(10, 200)) * 30
    out = {"machine": platform.machine(), "python": platform.python_version()}
    out["window_features_us"] = _per_call_us(lambda: window_features(window), args.repeats)
    n_ch, k = 10, 11
    n_in = len(feature_index(n_ch, DEFAULT_FEATURES))
    names = tuple(f"C{i}" for i in range(n_ch))
    model = EmgModel(
        classes=("rest", *[f"g{i}" for i in range(k - 1)]), channel_names=names, sfreq=1000.0,
        window=120, increment=20, highpass_hz=20.0, feature_names=DEFAULT_FEATURES,
        thresholds=(0.0, 0.0, 10.0), mean=np.zeros(n_in), scale=np.ones(n_in),
        layers=[(rng.normal(size=(n_in, k)) * 0.01, np.zeros(k), "linear")],
    )  # fmt: skip
    feats = rng.normal(size=(1, n_features(n_ch)))
    out["classify_us"] = _per_call_us(lambda: model.predict_proba(feats), args.repeats)
    cfg = parse_config({}).emg
    stage = EmgDecoder(model, cfg, names, 1000.0)
    data = rng.normal(size=(n_ch, 20 * (args.repeats + 10))) * 30
    chunks = [Chunk(data[:, s : s + 20], s, 1000.0, names, ("forearm_emg",) * n_ch,
                    np.arange(s, s + 20) / 1000.0) for s in range(0, data.shape[1], 20)]
    for c in chunks[:10]:
        stage.update(c)
    t0 = time.perf_counter()
    for c in chunks[10:]:
        stage.update(c)
    out["decision_us"] = 1e6 * (time.perf_counter() - t0) / (len(chunks) - 10)
    out["controller_delay_ms"] = stage.delay_ms + out["decision_us"] / 1000
    out["targets"] = {"window_features_us": "<= 100", "decision_us": "<= 200",
                      "controller_delay_ms": "<= 100"}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
