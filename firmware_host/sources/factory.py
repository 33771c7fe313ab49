"""Build the configured source: ``make_source(cfg.source, clock, duration_s)``."""

from __future__ import annotations

from firmware_host.clock import Clock
from firmware_host.config.schema import SourceConfig
from firmware_host.sources.base import Source, SourceError

#: Wake kept before the first and after the last sleep epoch of a hypnogram file.
HYPNOGRAM_EDGE_WAKE_S = 1800.0


def make_source(cfg: SourceConfig, clock: Clock, duration_s: float) -> Source:
    """The source ``cfg.kind`` selects, configured from its sub-table.

    Parameters
    ----------
    cfg
        ``[source]`` section.
    clock
        Paces synthetic and replay sources.
    duration_s
        Length of the synthetic night; BrainFlow boards ignore it and replays stop at the end
        of their file (or loop), so the loop decides when to stop.

    Raises
    ------
    SourceError
        A bad setting (missing file, unknown board, unreadable hypnogram), naming the key,
        the value and what is allowed.
    """
    if cfg.kind == "synthetic":
        return _synthetic(cfg, clock, duration_s)
    if cfg.kind == "brainflow":
        from firmware_host.sources.brainflow_board import BrainFlowSource

        return BrainFlowSource(cfg.brainflow, clock)
    if cfg.kind == "replay":
        from firmware_host.sources.replay import ReplaySource

        return ReplaySource(cfg.replay, clock)
    if cfg.kind == "session":
        from firmware_host.sources.session import SessionSource

        return SessionSource(cfg.session, clock)
    raise SourceError(
        f"source.kind={cfg.kind!r} is not known; allowed: synthetic, brainflow, replay, session")


def _synthetic(cfg: SourceConfig, clock: Clock, duration_s: float) -> Source:
    from firmware_host.sources.hypnogram import HypnogramError, load_hypnogram
    from firmware_host.sources.synthetic import SyntheticSource
    from firmware_host.synthetic.night import SyntheticNight

    syn = cfg.synthetic
    if not duration_s > 0 or duration_s == float("inf"):
        raise SourceError(
            f"the synthetic night needs a finite duration > 0 s, got {duration_s} "
            f"(set run.duration, e.g. '8h')"
        )
    if syn.mode == "neurofeedback":
        from firmware_host.synthetic.trainee import SyntheticTrainee

        try:
            return SyntheticSource(SyntheticTrainee(syn, duration_s), clock)
        except ValueError as exc:
            raise SourceError(f"[source.synthetic] mode = 'neurofeedback': {exc}") from None
    hypnogram = None
    if syn.hypnogram != "scripted":
        try:
            hypnogram = load_hypnogram(syn.hypnogram, 30.0, entry_s=syn.epoch_s,
                                       max_edge_wake_s=HYPNOGRAM_EDGE_WAKE_S)
        except HypnogramError as exc:
            raise SourceError(
                f"source.synthetic.hypnogram={syn.hypnogram!r}: {exc} (use 'scripted' or a "
                f"hypnogram file)"
            ) from None
    try:
        night = SyntheticNight(syn, duration_s, hypnogram=hypnogram)
    except ValueError as exc:
        raise SourceError(f"[source.synthetic]: {exc}") from None
    return SyntheticSource(night, clock, adc_lsb_uv=syn.adc_lsb_uv)
