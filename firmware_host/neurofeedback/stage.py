"""``NeurofeedbackStage``: band-power feedback decisions, artefact-gated, with an adaptive threshold.

Every update (``update_hz`` per second) it emits one ``Decision(kind="neurofeedback")``:

* label ``reward`` / ``no_reward`` in a training block, ``gated`` whenever an artefact gate is
  closed (whatever the phase), ``no_reward`` in baseline, rest, transfer and after the plan;
* details: ``reward`` (1.0 for a reward, else 0.0: what a programme ``feature`` trigger
  watches), ``feature`` (smoothed), ``raw_feature``, ``threshold``, ``phase``, ``block``
  (index into ``blocks``), ``training_block`` (n-th training/transfer block), ``gated_by``
  (``warmup``, ``eog``, ``emg``, ``amplitude``, ``flat``, ``non_finite``), ``feedback`` (true only in
  training), ``would_reward`` (the criterion, also outside training), ``inhibit_ok``,
  ``powers`` (µV² per band), ``gates`` (µV RMS per gate), ``t`` (time stamp of the sample).

It also journals ``neurofeedback_phase`` decisions at every phase change (label = new
phase) and ``neurofeedback_threshold`` decisions whenever the threshold is set or adapted
(label ``baseline`` or ``adapt``). The plan starts at the first sample the stage sees; a gap
restarts the filters (a warm-up is gated) but not the plan.
"""

from __future__ import annotations

from collections import deque
from typing import Any, NamedTuple

import numpy as np

from firmware_host.chunk import Chunk
from firmware_host.decision import Decision
from firmware_host.neurofeedback.config import (
    RESTART_REASON,
    GateConfig,
    NeurofeedbackConfig,
    check_protocol,
    restart_only,
    session_blocks,
)
from firmware_host.neurofeedback.features import GATE_NAMES, FeatureFrontEnd
from firmware_host.neurofeedback.plan import Position, SessionPlan
from firmware_host.neurofeedback.threshold import AdaptiveThreshold, ThresholdChange
from firmware_host.stages.base import StageOutput

MODEL = "neurofeedback-1"
KIND = "neurofeedback"


class _Pending(NamedTuple):
    """An update waiting for its confirmation time."""

    sample: int
    t: float
    powers: np.ndarray | None
    gates: np.ndarray | None
    warm: bool


class NeurofeedbackStage:
    """The neurofeedback stage for one source layout.

    Parameters
    ----------
    cfg
        The ``[neurofeedback]`` section.
    sfreq, channel_names, channel_types
        The source's layout.
    name
        Stage name.

    Raises
    ------
    ValueError
        The protocol does not fit the board (see :func:`~.config.check_protocol`).
    """

    def __init__(self, cfg: NeurofeedbackConfig, sfreq: float, channel_names: tuple[str, ...],
                 channel_types: tuple[str, ...], name: str = "neurofeedback") -> None:
        self.cfg = cfg
        self.name = name
        self.sfreq = float(sfreq)
        self.channels = check_protocol(cfg, sfreq, channel_names, channel_types)
        self.spec = cfg.feature_spec
        rows = [channel_names.index(c) for c in self.channels]
        eog = [i for i, t in enumerate(channel_types) if t == "eog"]
        self.front = FeatureFrontEnd(cfg, sfreq, rows, eog)
        self.plan = SessionPlan(session_blocks(cfg.blocks), sfreq)
        self.threshold = AdaptiveThreshold(cfg.threshold, self.spec.direction)
        #: Runs of samples ``(first, last)`` past each gate's limit, kept for ``hold_s``.
        self._runs: dict[str, list[tuple[int, int]]] = {}
        self._set_gates(cfg.gates)
        self._n_inhibit = len(self.spec.inhibit_bands)
        #: Decisions of the latest updates, for displays and the latency probe.
        self.recent: deque[Decision] = deque(maxlen=256)
        #: Updates emitted so far (a display compares it with what it has seen).
        self.n_updates = 0
        self.inhibit_limits: list[float] | None = None
        self._origin: int | None = None
        self.brainflow = None
        if cfg.brainflow_metric:
            from firmware_host.neurofeedback.brainflow_metrics import BrainFlowScore

            self.brainflow = BrainFlowScore(cfg.brainflow_metric, sfreq, len(rows))
        self.restart()

    # ----------------------------------------------------------------- state
    def restart(self) -> None:
        """Forget everything, including the plan's start and the threshold."""
        self._origin = None
        self._expected: int | None = None
        self._block = -1
        self._baseline: list[float] = []
        self._baseline_inhibit: list[np.ndarray] = []
        #: Inhibit-band powers of the finished baseline (the limits are their quantile).
        self._inhibit_baseline: np.ndarray | None = None
        self.threshold = AdaptiveThreshold(self.cfg.threshold, self.spec.direction)
        self.inhibit_limits = None
        self.reset()

    def reconfigure(self, cfg: NeurofeedbackConfig) -> None:
        """Take ``cfg``'s live keys (:data:`~.config.LIVE_KEYS`) between two chunks.

        The session goes on: plan position, threshold and its recent values, smoothed
        feature, pending updates, marked artefacts and counts are kept; each new value is
        used from the point :data:`~.config.LIVE_KEYS` gives.

        Raises
        ------
        ValueError
            ``cfg`` differs in a key that needs a restart (the message names it).
        """
        old, new = restart_only(self.cfg), restart_only(cfg)
        changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
        if changed:
            raise ValueError(f"neurofeedback.{changed[0]}: needs a restart; {RESTART_REASON}")
        self.cfg = cfg
        self.threshold.cfg = cfg.threshold
        self._set_gates(cfg.gates)
        if self._inhibit_baseline is not None:
            self._set_inhibit_limits()

    def _set_gates(self, g: GateConfig) -> None:
        """Gate rules, hold and confirmation from ``g``; forget artefacts of gates switched off."""
        #: (gate, measure row, limit, fires above the limit?) — a limit of 0 switches a gate off.
        rules = (("eog", "eog", g.eog_rms_max_uv, True), ("emg", "emg", g.emg_rms_max_uv, True),
                 ("amplitude", "amplitude", g.amplitude_rms_max_uv, True),
                 ("flat", "amplitude", g.flat_rms_min_uv, False))
        self._gate_rules = [(name, GATE_NAMES.index(measure), limit, above)
                            for name, measure, limit, above in rules if limit > 0]
        self._hold = round(g.hold_s * self.sfreq)
        self._confirm = round(g.confirm_s * self.sfreq)
        on = {name for name, *_ in self._gate_rules}
        self._runs = {k: v for k, v in self._runs.items() if k in on}

    def _set_inhibit_limits(self) -> None:
        """Inhibit limits: the ``inhibit_percentile`` quantile of the baseline's inhibit powers."""
        q = self.cfg.threshold.inhibit_percentile
        self.inhibit_limits = [float(v) for v in np.quantile(self._inhibit_baseline, q, axis=0)]

    def reset(self) -> None:
        """Restart the signal path after a gap (filters, smoothing, gates); the plan goes on."""
        self.front.reset()
        if self.brainflow is not None:
            self.brainflow.reset()
        self._smoothed: float | None = None
        self._pending: deque[_Pending] = deque()
        self._runs = {}
        self._seen = -1
        self._criterion_since: int | None = None
        self._expected = None

    def position(self, sample: int) -> Position:
        """Where ``sample`` falls in the session plan (the plan starts at the first sample seen)."""
        return self.plan.at(sample - (self._origin if self._origin is not None else sample))

    # ----------------------------------------------------------------- update
    def update(self, chunk: Chunk) -> StageOutput:
        """Stream one chunk; return it unchanged with the decisions it completed."""
        if chunk.n_samples == 0:
            return StageOutput(chunk)
        if self._origin is None:
            self._origin = chunk.first_sample
        decisions: list[Decision] = []
        if self._expected is not None and chunk.first_sample != self._expected:
            decisions += self._flush()
            self.reset()
        self._expected = chunk.end_sample
        data = chunk.data
        used = np.concatenate([self.front.rows, self.front.eog_rows])
        if not np.isfinite(data[used]).all():
            decisions += self._flush()
            self.reset()
            self._expected = chunk.end_sample
            last = chunk.end_sample - 1
            decisions += self._enter(last)
            decisions.append(self._decide(_Pending(last, float(chunk.timestamps[-1]), None, None,
                                                   False), ["non_finite"], last)[0])
            return StageOutput(chunk, decisions)
        up = self.front.process(data)
        if self.brainflow is not None:
            self.brainflow.push(data[self.front.rows])
        self._mark_triggers(chunk.first_sample, up.gates)
        for j, off in enumerate(up.offsets):
            self._pending.append(_Pending(chunk.first_sample + int(off), float(chunk.timestamps[off]),
                                          up.powers[:, j], up.gates[:, off], bool(up.warm[j])))
        self._seen = chunk.end_sample - 1
        decisions += self._flush(only_confirmed=True)
        return StageOutput(chunk, decisions)

    # ----------------------------------------------------------------- internals
    def _flush(self, only_confirmed: bool = False) -> list[Decision]:
        """Decide the pending updates whose confirmation time has passed (all at a gap)."""
        out: list[Decision] = []
        while self._pending and (not only_confirmed or self._pending[0].sample + self._confirm <= self._seen):
            p = self._pending.popleft()
            out += self._enter(p.sample)
            decided_at = min(p.sample + self._confirm, self._seen)
            gated = ([] if p.warm else ["warmup"]) + self._gated_by(p.sample, decided_at)
            decision, change = self._decide(p, gated, decided_at)
            out.append(decision)
            if change is not None:
                out.append(self._threshold_decision(decided_at, change))
        first = self._pending[0].sample if self._pending else self._seen
        self._runs = {k: [r for r in v if r[1] >= first - self._hold] for k, v in self._runs.items()}
        return out

    def _mark_triggers(self, first_sample: int, measures: np.ndarray) -> None:
        """Record the runs of samples where each gate's measure is past its limit."""
        for name, index, limit, above in self._gate_rules:
            row = measures[index]
            over = np.flatnonzero(np.isfinite(row) & ((row > limit) if above else (row < limit)))
            if not over.size:
                continue
            breaks = np.flatnonzero(np.diff(over) > 1)
            starts = np.concatenate([[over[0]], over[breaks + 1]]) + first_sample
            ends = np.concatenate([over[breaks], [over[-1]]]) + first_sample
            runs = self._runs.setdefault(name, [])
            for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
                if runs and runs[-1][1] + 1 >= a:
                    runs[-1] = (runs[-1][0], b)
                else:
                    runs.append((a, b))

    def _gated_by(self, sample: int, decided_at: int) -> list[str]:
        """Gates that fired from ``hold_s`` before ``sample`` up to ``decided_at``."""
        lo = sample - self._hold
        return sorted(name for name, runs in self._runs.items()
                      if any(a <= decided_at and b >= lo for a, b in runs))

    def _enter(self, sample: int) -> list[Decision]:
        """Phase-change decisions when ``sample`` starts a new block."""
        pos = self.plan.at(sample - self._origin)
        if pos.block == self._block:
            return []
        previous = self.plan.blocks[self._block].phase if 0 <= self._block < len(self.plan.blocks) else None
        self._block = pos.block
        out = [Decision("neurofeedback_phase", sample, pos.phase, {}, MODEL, {
            "block": pos.block, "training_block": pos.training_block, "previous": previous,
            "duration_s": pos.duration_s, "protocol": self.cfg.protocol})]
        if previous == "baseline":
            change = self.threshold.from_baseline(self._baseline)
            if change is not None:
                out.append(self._threshold_decision(sample, change))
            if self._n_inhibit and self._baseline_inhibit:
                self._inhibit_baseline = np.array(self._baseline_inhibit)
                self._set_inhibit_limits()
            self._baseline = []
            self._baseline_inhibit = []
        return out

    def _feature(self, powers: np.ndarray) -> float:
        if self.spec.kind == "absolute":
            return float(powers[0])
        return float(powers[0] / powers[1]) if powers[1] > 0 else 0.0

    def _decide(self, p: _Pending, gated_by: list[str],
                decided_at: int) -> tuple[Decision, ThresholdChange | None]:
        """One update's decision, and the threshold change it caused (if any)."""
        sample, powers, gates, warm = p.sample, p.powers, p.gates, p.warm
        pos = self.plan.at(sample - self._origin)
        details: dict[str, Any] = {
            "phase": pos.phase, "block": pos.block, "training_block": pos.training_block,
            "gated_by": gated_by, "feedback": pos.phase == "training", "t": p.t,
            "feature_sample": sample,
        }
        if self.brainflow is not None:
            details[f"brainflow_{self.brainflow.metric}"] = self.brainflow.score
        raw = self._feature(powers) if powers is not None else None
        if raw is not None:
            a = self.cfg.smoothing
            self._smoothed = raw if self._smoothed is None else a * raw + (1 - a) * self._smoothed
        feature = self._smoothed if raw is not None else None
        inhibit = powers[len(powers) - self._n_inhibit:] if powers is not None and self._n_inhibit else None
        inhibit_ok = (self.inhibit_limits is None or inhibit is None
                      or bool(np.all(inhibit < np.asarray(self.inhibit_limits))))
        criterion = feature is not None and self.threshold.passes(feature) and inhibit_ok
        if criterion and not gated_by:
            self._criterion_since = sample if self._criterion_since is None else self._criterion_since
        else:
            self._criterion_since = None
        held_s = 0.0 if self._criterion_since is None else (sample - self._criterion_since) / self.sfreq
        would_reward = bool(criterion and not gated_by and held_s >= self.cfg.min_reward_s)
        if gated_by:
            label = "gated"
        elif pos.phase == "training":
            label = "reward" if would_reward else "no_reward"
        else:
            label = "no_reward"
        details.update({
            "reward": 1.0 if label == "reward" else 0.0,
            "feature": feature, "raw_feature": raw, "threshold": self.threshold.value,
            "would_reward": would_reward if self.threshold.value is not None else None,
            "inhibit_ok": inhibit_ok,
            "powers": (dict(zip(self.front.band_names, (float(v) for v in powers), strict=True))
                       if powers is not None else {}),
            "gates": (dict(zip(GATE_NAMES, (None if not np.isfinite(g) else float(g) for g in gates),
                               strict=True)) if gates is not None else {}),
        })
        change = None
        if not gated_by and feature is not None and warm:
            if pos.phase == "baseline":
                self._baseline.append(feature)
                if inhibit is not None:
                    self._baseline_inhibit.append(np.array(inhibit))
            elif pos.phase == "training":
                change = self.threshold.observe(sample / self.sfreq, feature, would_reward)
        decision = Decision(KIND, decided_at, label, {}, MODEL, details)
        self.recent.append(decision)
        self.n_updates += 1
        return decision, change

    def _threshold_decision(self, sample: int, change: ThresholdChange) -> Decision:
        return Decision("neurofeedback_threshold", sample, change.reason, {}, MODEL, {
            "threshold": change.threshold, "previous": change.previous, "quantile": change.quantile,
            "reward_rate": change.reward_rate, "n_values": change.n_values,
            "inhibit_limits": self.inhibit_limits, "direction": self.spec.direction})


def build_neurofeedback_stage(cfg: Any, source: Any) -> NeurofeedbackStage | None:
    """The stage for ``cfg.neurofeedback`` on ``source``'s layout, or ``None`` when disabled.

    Raises
    ------
    ValueError
        The protocol does not fit the source (one line naming the key).
    """
    nf = cfg.neurofeedback
    if not nf.enabled:
        return None
    return NeurofeedbackStage(nf, source.sfreq, tuple(source.channel_names),
                              tuple(source.channel_types))
