"""Storage benchmark: size and speed of a default night in format 2 against format 1.

The default night (13 channels at 250 Hz, the built-in synthetic source) is written straight
through :class:`~firmware_host.session.SessionRecorder` in 0.25-s chunks (the loop's tick),
without the stage chain, so the benchmark costs little CPU; the same chunks are written in
format 1 in the same run. Samples are on the ADC grid of a Cyton at gain 24 (what a bedside
board delivers); ``float32_*`` figures repeat the write for the unquantised synthetic source
over ``float32_hours`` and scale it to the night. The journal is measured on a real
``somnoloop run`` of ``journal_hours`` and scaled to the night.

Every figure is a measurement of this run on this machine; ``samples_bit_exact`` says
whether every sample read back equals the sample written.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from firmware_host.chunk import Chunk
from firmware_host.clock import FakeClock
from firmware_host.config import load_config
from firmware_host.session import Session, SessionRecorder, format_v1
from firmware_host.session.journal import Journal
from firmware_host.session.recorder import EVENTS, META, SAMPLES
from firmware_host.sources.synthetic import SyntheticSource
from firmware_host.synthetic.night import SyntheticNight

#: µV per count of a Cyton at gain 24, as BrainFlow scales it.
CYTON_LSB_UV = 4.5 / float(2**23 - 1) / 24 * 1e6
TICK_S = 0.25
MB = 1e6


def _chunks(hours: float, lsb: float) -> Iterator[Chunk]:
    clock = FakeClock()
    night = SyntheticNight(load_config().source.synthetic, hours * 3600)
    src = SyntheticSource(night, clock, adc_lsb_uv=lsb)
    src.open()
    while not src.finished:
        clock.advance(TICK_S)
        chunk = src.read()
        if chunk is not None:
            yield chunk


def _write_v2(path: Path, chunks: Iterator[Chunk], expect: str) -> dict[str, Any]:
    """Write format 2; time only the recorder; hash what a lossless read must give back."""
    rec = SessionRecorder(path, FakeClock(), fsync=False)
    digest = hashlib.sha256()
    busy = 0.0
    first = True
    for chunk in chunks:
        if first:
            rec.start(sfreq=chunk.sfreq, channel_names=chunk.channel_names,
                      channel_types=chunk.channel_types, config={})
            first = False
        want = chunk.data if expect == "float64" else chunk.data.astype(np.float32).astype(np.float64)
        digest.update(np.ascontiguousarray(want.T).tobytes())  # sample-major: chunking-free
        t = time.perf_counter()
        rec.write_chunk(chunk)
        busy += time.perf_counter() - t
    t = time.perf_counter()
    rec.close()
    busy += time.perf_counter() - t
    n_blocks = len(Session(path).blocks())
    return {"write_s": busy, "digest": digest.hexdigest(), "n_blocks": n_blocks}


def _write_v1(path: Path, chunks: Iterator[Chunk]) -> dict[str, Any]:
    """Write the same chunks in format 1, as the format-1 recorder did (one block per chunk)."""
    path.mkdir(parents=True)
    busy = 0.0
    first = True
    with open(path / SAMPLES, "wb") as fh:
        for chunk in chunks:
            if first:
                meta = {"format": "somnoloop-session/1", "sfreq": chunk.sfreq,
                        "channel_names": list(chunk.channel_names),
                        "channel_types": list(chunk.channel_types), "units": "uV"}
                (path / META).write_text(json.dumps(meta))
                first = False
            t = time.perf_counter()
            fh.write(format_v1.encode_block(chunk.first_sample, chunk.timestamps, chunk.data))
            busy += time.perf_counter() - t
    Journal(path / EVENTS, durable=False).close()
    return {"write_s": busy}


def _read_all(path: Path) -> tuple[float, str, int]:
    """Read the whole night hour by hour; ``(seconds, sha256 of samples, n_samples)``."""
    s = Session(path)
    digest = hashlib.sha256()
    step = int(3600 * s.sfreq)
    n = 0
    busy = 0.0
    for start in range(s.first_sample, s.end_sample, step):
        t = time.perf_counter()
        data, _, _ = s.read(start, start + step)
        busy += time.perf_counter() - t
        n += data.shape[1]
        digest.update(np.ascontiguousarray(data.T).tobytes())
    return busy, digest.hexdigest(), n


#: Python code run in a subprocess: ``somnoloop run`` with the journal thinned or not.
_RUN = ("import sys; from firmware_host.session.recorder import SessionRecorder; "
        "SessionRecorder.thin_journal = sys.argv[1] == 'thin'; "
        "from firmware_host.cli import main; sys.exit(main(sys.argv[2:]))")


def _journal_mb(hours: float, *, thin: bool) -> float:
    """Journal size of a real ``somnoloop run`` (the whole loop) of ``hours``, in MB."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s"
        subprocess.run(
            [sys.executable, "-c", _RUN, "thin" if thin else "all", "run", "--quiet", "--speed",
             "max", "--duration", f"{round(hours * 60)}m", "--session-dir", str(path)],
            check=True, capture_output=True, timeout=600, env=os.environ.copy())
        return (path / EVENTS).stat().st_size / MB


def bench_storage(hours: float = 8.0, *, float32_hours: float = 1.0, journal_hours: float = 0.5
                  ) -> dict[str, Any]:
    """Measure a default night of ``hours`` in both formats (see the module docstring).

    Returns
    -------
    dict
        ``night_mb`` (samples + journal, format 2), ``samples_mb``, ``journal_mb``,
        ``write_mb_s`` / ``read_mb_s`` (MB of sample file per second of recorder / reader
        time) and ``read_msamples_s``; the same for format 1 and the unthinned journal
        (``old_*``, same chunks, same run); ``night_size_ratio`` (old/new) and
        ``read_time_ratio`` (new/old time to read the night); ``block_write_us`` (recorder
        time per block, i.e. cost on the loop); ``samples_bit_exact``; ``float32_*`` for the
        unquantised synthetic source.
    """
    if not hours > 0 or not float32_hours > 0 or not journal_hours > 0:
        raise ValueError("hours, float32_hours and journal_hours must be > 0")
    with tempfile.TemporaryDirectory() as tmp:
        new, old, flt = Path(tmp) / "new", Path(tmp) / "old", Path(tmp) / "f32"
        w2 = _write_v2(new, _chunks(hours, CYTON_LSB_UV), "float64")
        w1 = _write_v1(old, _chunks(hours, CYTON_LSB_UV))
        samples_mb = (new / SAMPLES).stat().st_size / MB
        old_samples_mb = (old / SAMPLES).stat().st_size / MB
        r2_s, r2_digest, n2 = _read_all(new)
        r1_s, _, n1 = _read_all(old)
        wf = _write_v2(flt, _chunks(float32_hours, 0.0), "float32")
        _, rf_digest, _ = _read_all(flt)
        float32_mb = (flt / SAMPLES).stat().st_size / MB * hours / float32_hours
    scale = hours / journal_hours
    journal_mb = _journal_mb(journal_hours, thin=True) * scale
    old_journal_mb = _journal_mb(journal_hours, thin=False) * scale
    night_mb = samples_mb + journal_mb
    old_night_mb = old_samples_mb + old_journal_mb
    return {
        "hours": hours,
        "night_mb": round(night_mb, 2),
        "samples_mb": round(samples_mb, 2),
        "journal_mb": round(journal_mb, 2),
        "journal_measured_hours": journal_hours,
        "write_mb_s": round(samples_mb / w2["write_s"], 2),
        "read_mb_s": round(samples_mb / r2_s, 2),
        "read_msamples_s": round(n2 / r2_s / 1e6, 3),
        "old_night_mb": round(old_night_mb, 2),
        "old_samples_mb": round(old_samples_mb, 2),
        "old_journal_mb": round(old_journal_mb, 2),
        "old_write_mb_s": round(old_samples_mb / w1["write_s"], 2),
        "old_read_mb_s": round(old_samples_mb / r1_s, 2),
        "old_read_msamples_s": round(n1 / r1_s / 1e6, 3),
        "night_size_ratio": round(old_night_mb / night_mb, 2),
        "read_time_ratio": round(r2_s / r1_s, 2),
        "block_write_us": round(w2["write_s"] / w2["n_blocks"] * 1e6, 1),
        "n_blocks": w2["n_blocks"],
        "samples_read": n2,
        "old_samples_read": n1,
        "samples_bit_exact": r2_digest == w2["digest"] and rf_digest == wf["digest"],
        "float32_night_mb": round(float32_mb + journal_mb, 2),
        "float32_samples_mb": round(float32_mb, 2),
        "float32_measured_hours": float32_hours,
    }
