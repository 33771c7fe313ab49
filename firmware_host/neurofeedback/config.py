"""``[neurofeedback]``: the training protocol as config, its presets and its validation.

A protocol is a feature (which band power of which channel combination, rewarded in which
direction, with which inhibit bands), a reward rule, an adaptive threshold, artefact gates
and a block structure; what a reward does is the programme's (``feature`` rules on the
decisions' ``details.reward``, see ``configs/neurofeedback.toml``). ``protocol`` names a preset
(:data:`PRESETS`) or ``"custom"`` with a ``[neurofeedback.feature]`` table.

Checks that need the board (a channel it lacks, a band above its Nyquist frequency) are in
:func:`check_protocol`; they run when the stage is built and in ``check-config`` for the
synthetic source, whose layout the config itself gives.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

from firmware_host.config.durations import parse_duration
from firmware_host.config.fields import setting

#: Phases a block can have. ``training`` gives feedback; ``transfer`` measures without
#: feedback; ``baseline`` sets the first threshold; ``rest`` is a pause.
PHASES = ("baseline", "training", "rest", "transfer")
FEATURE_KINDS = ("absolute", "relative", "ratio")
DIRECTIONS = ("up", "down")
COMBINE = ("average", "difference")


@dataclass(frozen=True)
class FeatureConfig:
    """``[neurofeedback.feature]``: what is trained (for ``protocol = "custom"``).

    ``absolute``: power in ``band`` (µV²); ``relative``: power in ``band`` / power in
    ``reference_band``; ``ratio``: the same quotient, read as a band ratio (e.g. theta/beta).
    """

    kind: str = setting("absolute", choices=FEATURE_KINDS, doc="absolute, relative or ratio")
    band: tuple[float, float] = setting((8.0, 12.0), min=0.1, max=500.0, doc="trained band (Hz)")
    reference_band: tuple[float, float] = setting(
        (4.0, 30.0), min=0.1, max=500.0, doc="denominator of relative power or of a ratio (Hz)"
    )
    direction: str = setting("up", choices=DIRECTIONS, doc="reward above (up) or below (down)")
    inhibit_bands: tuple[tuple[float, float], ...] = setting(
        (), min=0.1, max=500.0, doc="bands whose power must stay below their baseline percentile"
    )

    def __post_init__(self) -> None:
        for name in ("band", "reference_band"):
            lo, hi = getattr(self, name)
            if not lo < hi:
                raise ValueError(f"neurofeedback.feature.{name} = {[lo, hi]}: low edge must be below high")
        for lo, hi in self.inhibit_bands:
            if not lo < hi:
                raise ValueError(
                    f"neurofeedback.feature.inhibit_bands entry {[lo, hi]}: low edge must be below high"
                )


#: The built-in protocols (see the README section "Neurofeedback" for their sources).
PRESETS: dict[str, FeatureConfig] = {
    # Hanslmayr et al. 2005: upper/individual alpha up-training, eyes open; relative power
    # keeps a global amplitude change (electrode impedance, arousal) from being rewarded.
    "alpha_up": FeatureConfig(kind="relative", band=(8.0, 12.0), reference_band=(4.0, 30.0),
                              direction="up", inhibit_bands=()),
    # Sterman 1996; Egner & Gruzelier 2001: SMR 12-15 Hz up at C4/Cz with theta (4-7 Hz)
    # and high-beta (22-30 Hz) inhibits.
    "smr_up": FeatureConfig(kind="absolute", band=(12.0, 15.0), reference_band=(4.0, 30.0),
                            direction="up", inhibit_bands=((4.0, 7.0), (22.0, 30.0))),
    # Arns et al. 2009: theta/beta ratio (4-8 / 13-21 Hz) down-training at Cz.
    "theta_beta_down": FeatureConfig(kind="ratio", band=(4.0, 8.0), reference_band=(13.0, 21.0),
                                     direction="down", inhibit_bands=()),
}
PROTOCOLS = (*PRESETS, "custom")


@dataclass(frozen=True)
class ThresholdConfig:
    """``[neurofeedback.threshold]``: the adaptive reward threshold."""

    target_reward_rate: float = setting(
        0.65, doc="fraction of clean updates that should be rewarded, in (0, 1)"
    )
    adapt_window_s: float = setting(120.0, min=10.0, max=1800.0, doc="running percentile over this")
    adapt_every_s: float = setting(5.0, min=0.25, max=600.0, doc="threshold recomputed this often")
    correction_gain: float = setting(
        0.5, min=0.0, max=2.0, doc="percentile nudged by gain x (observed - target reward rate)"
    )
    inhibit_percentile: float = setting(
        0.9, min=0.5, max=1.0, doc="inhibit-band limit: this quantile of its baseline power"
    )

    def __post_init__(self) -> None:
        r = self.target_reward_rate
        if not 0.0 < r < 1.0:
            raise ValueError(
                f"neurofeedback.threshold.target_reward_rate = {r!r} is outside (0, 1); "
                "allowed: a fraction strictly between 0 and 1, e.g. 0.65"
            )


@dataclass(frozen=True)
class GateConfig:
    """``[neurofeedback.gates]``: artefacts that withhold reward (and are counted)."""

    window_s: float = setting(0.05, min=0.01, max=2.0, doc="RMS window of every gate measure")
    hold_s: float = setting(1.0, min=0.0, max=10.0, doc="gate stays closed this long after it clears")
    confirm_s: float = setting(
        0.1, min=0.0, max=0.5,
        doc="an update waits this long for the gates (an artefact starting right after it withholds it)",
    )
    eog_highpass_hz: float = setting(0.5, min=0.05, max=5.0, doc="EOG high-pass before the blink gate (Hz)")
    eog_rms_max_uv: float = setting(25.0, min=0.0, max=1e5, doc="EOG RMS above this = blink/saccade; 0 = off")
    emg_band: tuple[float, float] = setting(
        (30.0, 45.0), min=0.1, max=500.0, doc="muscle band on the trained EEG (Hz)"
    )
    emg_rms_max_uv: float = setting(
        3.0, min=0.0, max=1e5, doc="muscle-band RMS above this = clench/EMG; 0 = off"
    )
    flat_rms_min_uv: float = setting(
        0.5, min=0.0, max=100.0,
        doc="broadband RMS below this = flat line / lost electrode (never rewarded, even down); 0 = off",
    )
    amplitude_rms_max_uv: float = setting(
        60.0, min=0.0, max=1e5, doc="broadband (>0.5 Hz) RMS of the trained signal above this; 0 = off"
    )


@dataclass(frozen=True)
class NeurofeedbackConfig:
    """``[neurofeedback]``: a daytime band-power training session."""

    enabled: bool = setting(False, doc="run the neurofeedback stage")
    protocol: str = setting(
        "alpha_up", choices=PROTOCOLS, doc="a preset, or 'custom' with [neurofeedback.feature]"
    )
    feature: FeatureConfig | None = setting(None, doc="the feature of a custom protocol")
    channels: tuple[str, ...] = setting((), doc="EEG channels combined into the trained signal")
    combine: str = setting("average", choices=COMBINE, doc="average of the channels, or first minus second")
    window_s: float = setting(1.0, min=0.25, max=10.0, doc="power window (seconds)")
    update_hz: float = setting(4.0, min=4.0, max=50.0, doc="feature updates per second (>= 4)")
    smoothing: float = setting(0.5, min=0.01, max=1.0, doc="EMA weight of the newest update (1 = none)")
    min_reward_s: float = setting(0.0, min=0.0, max=10.0, doc="criterion held this long before reward")
    filter_order: int = setting(4, min=1, max=8, doc="Butterworth band-pass order")
    blocks: tuple[str, ...] = setting(
        ("baseline 2m", "training 3m", "rest 30s", "training 3m", "rest 30s", "training 3m",
         "transfer 2m"),
        doc="'<phase> <duration>' entries; phases: baseline, training, rest, transfer",
    )
    brainflow_metric: str = setting(
        "", choices=("", "mindfulness", "restfulness"),
        doc="also journal BrainFlow's MLModel score of the trained channels",
    )
    threshold: ThresholdConfig = setting(factory=ThresholdConfig)
    gates: GateConfig = setting(factory=GateConfig)

    def __post_init__(self) -> None:
        if self.protocol == "custom" and self.feature is None:
            raise ValueError("neurofeedback.protocol = 'custom' needs a [neurofeedback.feature] table")
        if self.protocol != "custom" and self.feature is not None:
            raise ValueError(
                f"neurofeedback.protocol = {self.protocol!r} is a preset; set protocol = 'custom' "
                "to define [neurofeedback.feature] yourself, or remove that table"
            )
        if self.combine == "difference" and len(self.channels) != 2:
            raise ValueError(
                f"neurofeedback.combine = 'difference' needs exactly 2 channels, got {list(self.channels)}"
            )
        plan = session_blocks(self.blocks)
        if self.enabled and not any(b.phase == "training" for b in plan):
            raise ValueError(f"neurofeedback.blocks = {list(self.blocks)} has no 'training' block")

    @property
    def feature_spec(self) -> FeatureConfig:
        """The feature in force: the preset's, or the custom table."""
        return self.feature if self.feature is not None else PRESETS[self.protocol]

    @property
    def bands(self) -> dict[str, tuple[float, float]]:
        """Every band the protocol filters for, by role (for the Nyquist check)."""
        f = self.feature_spec
        out = {"feature.band": f.band, "gates.emg_band": self.gates.emg_band}
        if f.kind != "absolute":
            out["feature.reference_band"] = f.reference_band
        for i, b in enumerate(f.inhibit_bands):
            out[f"feature.inhibit_bands[{i}]"] = b
        return out


#: Keys of ``[neurofeedback]`` (relative to it) an engineer may change mid-session, and how
#: each applies (:meth:`~firmware_host.neurofeedback.stage.NeurofeedbackStage.reconfigure`).
#: Every other key builds filters, windows, channels or the block plan and needs a restart.
LIVE_KEYS: dict[str, str] = {
    **{f"threshold.{k}": "used from the next threshold adaptation (every adapt_every_s of "
       "training); the threshold so far, its window of recent values and the block plan are kept"
       for k in ("target_reward_rate", "adapt_window_s", "adapt_every_s", "correction_gain")},
    "threshold.inhibit_percentile": "the inhibit limits are recomputed from the kept baseline "
                                    "powers at once (or when the baseline ends)",
    "smoothing": "used from the next update (the smoothed feature so far is kept)",
    "min_reward_s": "used from the next update (a criterion already held counts)",
    **{f"gates.{k}": "used for samples from the next chunk on (artefacts already marked stay "
       "marked; a gate set to 0 is off at once)"
       for k in ("eog_rms_max_uv", "emg_rms_max_uv", "amplitude_rms_max_uv", "flat_rms_min_uv")},
    "gates.hold_s": "used from the next update decided",
    "gates.confirm_s": "used from the next update decided (waiting updates wait the new time)",
}

#: Why the other ``[neurofeedback]`` keys are refused while running.
RESTART_REASON = ("builds the session's filters, power windows, channels or block plan when the "
                  "stage starts; changing it mid-session would restart the feature stream, the "
                  "threshold and the block timeline")
def restart_only(cfg: NeurofeedbackConfig) -> dict[str, Any]:
    """``cfg``'s keys outside :data:`LIVE_KEYS` as ``{dotted key: value}`` (equal: no restart)."""
    def leaves(table: dict[str, Any], prefix: str) -> Iterator[tuple[str, Any]]:
        for name, value in table.items():
            if isinstance(value, dict):
                yield from leaves(value, f"{prefix}{name}.")
            else:
                yield f"{prefix}{name}", value

    return {key: value for key, value in leaves(asdict(cfg), "") if key not in LIVE_KEYS}


class Block(NamedTuple):
    """One entry of the session plan: a phase and its length."""

    phase: str
    duration_s: float


def session_blocks(entries: tuple[str, ...]) -> tuple[Block, ...]:
    """Parse ``'<phase> <duration>'`` entries.

    Raises
    ------
    ValueError
        An empty list, an unknown phase, a bad duration, or feedback before any baseline.
    """
    if not entries:
        raise ValueError(
            "neurofeedback.blocks is empty; allowed: a list of '<phase> <duration>' entries "
            f"with phases {list(PHASES)}, e.g. ['baseline 2m', 'training 3m']"
        )
    blocks = []
    for i, text in enumerate(entries):
        parts = text.split()
        if len(parts) != 2 or parts[0] not in PHASES:
            raise ValueError(
                f"neurofeedback.blocks[{i}] = {text!r}; allowed: '<phase> <duration>' with phase "
                f"one of {list(PHASES)}, e.g. 'training 3m'"
            )
        try:
            seconds = parse_duration(parts[1])
        except ValueError as exc:
            raise ValueError(f"neurofeedback.blocks[{i}] = {text!r}: {exc}") from None
        if math.isinf(seconds):
            raise ValueError(f"neurofeedback.blocks[{i}] = {text!r}: a block needs a finite duration")
        blocks.append(Block(parts[0], seconds))
    first_baseline = next((i for i, b in enumerate(blocks) if b.phase == "baseline"), None)
    first_feedback = next((i for i, b in enumerate(blocks) if b.phase in ("training", "transfer")), None)
    if first_feedback is not None and (first_baseline is None or first_baseline > first_feedback):
        raise ValueError(
            f"neurofeedback.blocks = {list(entries)}: a 'baseline' block must come before the first "
            "training or transfer block (it sets the first threshold)"
        )
    return tuple(blocks)


def check_protocol(cfg: NeurofeedbackConfig, sfreq: float, channel_names: tuple[str, ...],
                   channel_types: tuple[str, ...]) -> tuple[str, ...]:
    """Check the protocol against a board; return the trained channels.

    Parameters
    ----------
    cfg
        The ``[neurofeedback]`` section.
    sfreq, channel_names, channel_types
        The source's layout.

    Returns
    -------
    tuple of str
        The trained channels (all EEG channels when ``channels`` is empty).

    Raises
    ------
    ValueError
        A channel the board lacks or that is not EEG, no EEG at all, or a band edge at or
        above the Nyquist frequency — one line naming the key, the value and what is allowed.
    """
    eeg = tuple(n for n, t in zip(channel_names, channel_types, strict=True) if t == "eeg")
    channels = cfg.channels or eeg
    if not channels:
        raise ValueError(f"neurofeedback: the source has no EEG channel (channels: {list(channel_names)})")
    for name in channels:
        if name not in eeg:
            raise ValueError(
                f"neurofeedback.channels: {name!r} is not an EEG channel of this board; "
                f"allowed: {list(eeg)}"
            )
    nyquist = sfreq / 2.0
    for key, (lo, hi) in cfg.bands.items():
        if hi >= nyquist:
            raise ValueError(
                f"neurofeedback.{key} = {[lo, hi]} Hz reaches the Nyquist frequency {nyquist:g} Hz "
                f"of a {sfreq:g} Hz board; allowed: band edges below {nyquist:g} Hz"
            )
    return channels


@dataclass(frozen=True)
class TraineeConfig:
    """``[source.synthetic.trainee]``: the scripted trainee of the daytime synthetic mode."""

    rhythm: str = setting("alpha", choices=("alpha", "smr"), doc="the rhythm the trainee learns to raise")
    learning: float = setting(0.6, min=0.0, max=5.0, doc="amplitude gain of that rhythm by the end (+60 %)")
    blink_every_s: float = setting(9.0, min=0.0, max=600.0, doc="mean interval between blinks; 0 = none")
    saccade_every_s: float = setting(20.0, min=0.0, max=600.0, doc="mean interval between saccades; 0 = none")
    clench_every_s: float = setting(
        40.0, min=0.0, max=3600.0, doc="mean interval between jaw clenches; 0 = none"
    )


def check_synthetic_layout(cfg: Any) -> None:
    """Check ``cfg.neurofeedback`` against the synthetic source's layout (``check-config``).

    Other sources are checked when the run opens them (their channels are known only then).

    Raises
    ------
    ValueError
        As :func:`check_protocol`.
    """
    nf = cfg.neurofeedback
    if not nf.enabled or cfg.source.kind != "synthetic":
        return
    syn = cfg.source.synthetic
    groups = {"eeg": syn.eeg_channels, "eog": syn.eog_channels, "emg": syn.emg_channels,
              "forearm_emg": syn.forearm_channels}
    names = tuple(n for ns in groups.values() for n in ns)
    types = tuple(t for t, ns in groups.items() for _ in ns)
    check_protocol(nf, syn.sfreq, names, types)
