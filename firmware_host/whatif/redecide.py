"""Re-run the deciding stages an edit touches over a night's recorded samples.

The stages are built from the edited config for the recorded channel layout, exactly as the
loop builds them for the recorded source (a synthetic night's stager model and calibrated
grip decoder included), and fed the recorded samples in long chunks (the stages decide the
same whatever the chunking). Blocks are decoded in one pass over the sample file; a chunk
ends at a gap, so each stage sees the gap as a jump of ``first_sample``, as in the loop.
Changes the console made to a re-run stage during the night are applied at their sample,
through the same appliers as in the loop, unless the replay edits that key.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np

from firmware_host.chunk import Chunk
from firmware_host.config import Config
from firmware_host.control.apply import apply_change
from firmware_host.control.params import ParamError, with_value
from firmware_host.decision import Decision
from firmware_host.emg.decoder import build_emg_decoder
from firmware_host.microstructure.build import build_microstructure_stages
from firmware_host.neurofeedback.stage import build_neurofeedback_stage
from firmware_host.runtime.pipeline import Pipeline
from firmware_host.session import Session
from firmware_host.stages.base import Stage
from firmware_host.stages.quality import QualityStage
from firmware_host.staging.stager import build_stager
from firmware_host.whatif.recorded import LiveChange, RecordedNight
from firmware_host.whatif.scope import STAGES, Scope

#: Seconds of samples per chunk fed to the re-run stages.
CHUNK_S = 300.0


class RedecideError(ValueError):
    """A touched stage cannot be built for the recorded layout with the edited config."""


class _Layout:
    """A session's channel layout, as stage builders read it from a source."""

    def __init__(self, session: Session) -> None:
        self.sfreq = session.sfreq
        self.channel_names = tuple(session.channel_names)
        self.channel_types = tuple(session.channel_types)


def _build(cfg: Config, scope: Scope, session: Session, recorded_kind: str) -> list[Stage]:
    """The stages ``scope`` re-runs, in the loop's chain order."""
    source = _Layout(session)
    sfreq, names, types = source.sfreq, source.channel_names, source.channel_types
    stages: list[Stage] = [QualityStage(cfg.quality)] if scope.quality else []
    try:
        if "stager" in scope.stages and cfg.stager.enabled:
            stages.append(build_stager(cfg.stager, sfreq, names, types,
                                       synthetic_source=recorded_kind == "synthetic"))
        if "emg" in scope.stages:
            synthetic = cfg.source.synthetic if recorded_kind == "synthetic" else None
            decoder = build_emg_decoder(cfg.emg, sfreq, names, types, synthetic=synthetic)
            if decoder is not None:
                stages.append(decoder)
        if "microstructure" in scope.stages:
            stages.extend(build_microstructure_stages(cfg.spindles, cfg.slow_oscillations, sfreq,
                                                      names, types))
        if "neurofeedback" in scope.stages:
            feedback = build_neurofeedback_stage(cfg, source)
            if feedback is not None:
                stages.append(feedback)
    except ValueError as exc:
        raise RedecideError(f"{session.path}: {exc}") from None
    return stages


def _chunks(session: Session, max_samples: int) -> Iterator[Chunk]:
    """The recorded samples in sample order, as chunks of at most ``max_samples`` that never
    span a gap (a block overlapping what came before contributes only what is new)."""
    names, types = tuple(session.channel_names), tuple(session.channel_types)
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    start = pos = 0
    n = 0

    def chunk() -> Chunk:
        data = np.concatenate([p[0] for p in parts], axis=1) if len(parts) > 1 else parts[0][0]
        ts = np.concatenate([p[1] for p in parts]) if len(parts) > 1 else parts[0][1]
        return Chunk(data, start, session.sfreq, names, types, ts)

    blocks = sorted(session.blocks(), key=lambda b: b.first_sample)
    for first, data, ts in session.decode(blocks):
        if parts and first < pos:  # overlap (a resumed segment): keep what is new
            data, ts, first = data[:, pos - first:], ts[pos - first:], pos
        if data.shape[1] == 0:
            continue
        if parts and (first != pos or n + data.shape[1] > max_samples):
            yield chunk()
            parts, n = [], 0
        if not parts:
            start = first
        parts.append((data, ts))
        n += data.shape[1]
        pos = first + data.shape[1]
    if parts:
        yield chunk()


def _split(chunk: Chunk, at: int) -> tuple[Chunk, Chunk]:
    """``chunk`` cut before absolute sample ``at`` (inside it)."""
    k = at - chunk.first_sample
    head = Chunk(chunk.data[:, :k], chunk.first_sample, chunk.sfreq, chunk.channel_names,
                 chunk.channel_types, chunk.timestamps[:k])
    tail = Chunk(chunk.data[:, k:], at, chunk.sfreq, chunk.channel_names, chunk.channel_types,
                 chunk.timestamps[k:])
    return head, tail


def live_changes_for(night: RecordedNight, scope: Scope, edited_keys: frozenset[str]) -> list[LiveChange]:
    """The night's console changes to the stages ``scope`` re-runs, minus keys the replay edits."""
    sections = {sec for name in scope.stages for sec in STAGES[name][0]}
    if scope.quality:
        sections.add("quality")
    return [c for c in night.live_changes
            if c.key.split(".", 1)[0] in sections and c.key not in edited_keys]


def redecide(night: RecordedNight, cfg: Config, scope: Scope,
             changes: list[LiveChange] | tuple[LiveChange, ...] = ()) -> list[Decision]:
    """Decisions of the stages in ``scope`` (built from ``cfg``) over ``night``'s samples.

    ``changes`` (see :func:`live_changes_for`) are applied before the sample the loop's
    stages first saw with them (at their time in journals that do not say).

    Raises
    ------
    RedecideError
        A stage cannot be built (e.g. an edit makes its band impossible at this rate).
    """
    pipeline = Pipeline(_build(cfg, scope, night.session, night.source_kind))
    if not pipeline.stages:
        return []
    run = SimpleNamespace(controller=SimpleNamespace(pipeline=pipeline))
    pending = sorted(changes, key=lambda c: c.t)
    cuts = [c.sample if c.sample is not None else round(c.t * night.sfreq) for c in pending]
    out: list[Decision] = []
    for whole in _chunks(night.session, max(1, int(CHUNK_S * night.sfreq))):
        chunk: Chunk | None = whole
        while chunk is not None:
            cut = cuts[0] if cuts else None
            if cut is not None and cut <= chunk.first_sample:
                cfg = _apply(run, cfg, pending.pop(0))
                cuts.pop(0)
                continue
            if cut is not None and cut < chunk.end_sample:
                head, chunk = _split(chunk, cut)
                out.extend(pipeline.update(head))
                continue
            out.extend(pipeline.update(chunk))
            chunk = None
    out.sort(key=lambda d: d.sample)
    return out


def _apply(run: SimpleNamespace, cfg: Config, change: LiveChange) -> Config:
    """``change`` applied to the re-run stages (skipped if this version refuses its value)."""
    try:
        new_cfg = with_value(cfg, change.key, change.value)
    except ParamError:
        return cfg
    apply_change(run, change.key, new_cfg)
    return new_cfg
