"""How a live parameter change reaches the running system (loop thread only).

Each live section has one applier taking the run and the new, already validated
:class:`~firmware_host.config.Config`; it returns the names of the objects it changed
(``[]`` when this run has no such object, e.g. no EMG decoder). They are called only from a
:class:`~firmware_host.runtime.commands.RunCommand` applied by the loop between two
iterations, never from the control thread.

The programme side is behind :func:`apply_programme` alone (it was the ``[policy]``
section before the rule engine; only this function changed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from firmware_host.config import Config
from firmware_host.emg.decoder import EmgDecoder
from firmware_host.emg.postprocess import PostProcessor
from firmware_host.neurofeedback.stage import NeurofeedbackStage
from firmware_host.stages.quality import QualityStage
from firmware_host.staging.stager import SleepStager


def _stages(run: Any) -> list[Any]:
    controller = getattr(run, "controller", None)
    return controller.pipeline.stages if controller is not None else []


def apply_programme(run: Any, cfg: Config) -> list[str]:
    """Replace the programme's rules (``[programme]``) with ``cfg``'s."""
    actuation = getattr(run, "actuation", None)
    if actuation is None:
        return []
    actuation.update_programme(cfg.programme)
    return ["programme"]


def apply_quality(run: Any, cfg: Config) -> list[str]:
    """Rebuild the quality stage with ``cfg.quality`` (the incomplete second is dropped)."""
    stages = _stages(run)
    changed = []
    for i, stage in enumerate(stages):
        if isinstance(stage, QualityStage):
            stages[i] = QualityStage(cfg.quality, name=stage.name)
            changed.append(stage.name)
    return changed


def apply_stager(run: Any, cfg: Config) -> list[str]:
    """Give the stager ``cfg.stager`` (its live keys are read at every epoch)."""
    changed = []
    for stage in _stages(run):
        if isinstance(stage, SleepStager):
            stage.cfg = cfg.stager
            changed.append(stage.name)
    return changed


def apply_emg(run: Any, cfg: Config) -> list[str]:
    """Give the grip decoder ``cfg.emg`` and a post-processor built from it."""
    changed = []
    for stage in _stages(run):
        if isinstance(stage, EmgDecoder):
            c = cfg.emg
            stage.cfg = c
            stage.post = PostProcessor(stage.model.classes, stage.post.rest_label, c.reject_below,
                                       c.vote, c.onset_on, c.onset_off, c.hold)
            changed.append(stage.name)
    return changed


def apply_neurofeedback(run: Any, cfg: Config) -> list[str]:
    """Give the neurofeedback stage ``cfg.neurofeedback``'s live keys (its session goes on)."""
    changed = []
    for stage in _stages(run):
        if isinstance(stage, NeurofeedbackStage):
            stage.reconfigure(cfg.neurofeedback)
            changed.append(stage.name)
    return changed


#: Section -> applier of its live keys.
APPLIERS: dict[str, Callable[[Any, Config], list[str]]] = {
    "programme": apply_programme,
    "quality": apply_quality,
    "stager": apply_stager,
    "emg": apply_emg,
    "neurofeedback": apply_neurofeedback,
}


def apply_change(run: Any, key: str, cfg: Config) -> list[str]:
    """Apply the new ``cfg`` for a change of dotted ``key``; return what was changed.

    Raises
    ------
    ValueError
        No applier for ``key``'s section (a key marked live without one: a schema bug).
    """
    section = key.split(".")[0]
    if section not in APPLIERS:
        raise ValueError(f"{key}: no live applier for [{section}]")
    return APPLIERS[section](run, cfg)
