"""``[stager]`` configuration section."""

from __future__ import annotations

from dataclasses import dataclass

from firmware_host.config.fields import setting


@dataclass(frozen=True)
class StagerConfig:
    """``[stager]``: the real-time sleep stager."""

    enabled: bool = setting(True, doc="run the stager in the pipeline")
    eeg_channel: str = setting("C4-M1", doc="EEG channel the stager reads (central, mastoid ref)")
    eog_channel: str = setting("", doc="EOG channel name ('' = none); used when the model has it")
    emg_channel: str = setting("", doc="chin EMG channel name ('' = none); used when the model has it")
    staging_sfreq: float = setting(100.0, min=50.0, max=500.0,
                                   doc="rate (Hz) the stager resamples to; must match the model")
    model_path: str = setting(
        "auto", doc="model JSON file; '' = the shipped real-EEG model (its band-limited variant "
        "for sources below 100 Hz); 'auto' = the synthetic demo model on the synthetic source, "
        "else the real-EEG model; or a shipped name")
    expert: bool = setting(True, doc="pool the model's expert (YASA's pre-trained trees on "
                           "causal features) when the model file has one")
    provisional_s: float = setting(0.0, min=0.0, max=30.0,
                                   doc="seconds between provisional updates (0 = off)")
    hmm: bool = setting(False, doc="causal HMM forward filter over epoch posteriors (fewer "
                        "stage changes; costs kappa on DREAMS, see staging README)")
    hmm_evidence_weight: float = setting(
        1.0, min=0.05, max=1.0,
        doc="exponent on the classifier evidence in the HMM (< 1: trust one epoch less)")
    hmm_transition_weight: float = setting(
        1.0, min=0.0, max=1.0,
        doc="mix of the learnt transitions with 'forget the past' rows (1 = learnt only)")
    onset_gate: bool = setting(True, doc="no N3 or REM while the sleeper is awake in bed: from "
                               "lights-off until sustained NREM evidence, and again after "
                               "sustained wake (staging README, cold start)")
    onset_evidence: float = setting(9.0, min=0.5, max=100.0,
                                    doc="sleep-onset evidence (log-odds, at most 3.0 per epoch) "
                                    "that opens the gate")
    wake_evidence: float = setting(15.0, min=0.5, max=1000.0,
                                   doc="sustained-wake evidence (log-odds, at most 3.0 per "
                                   "epoch) that closes the gate again")
    flat_uv: float = setting(0.5, min=0.0, max=50.0,
                             doc="1-s window std below this (µV) counts as flat")
    artefact_uv: float = setting(1500.0, min=50.0, max=1e6,
                                 doc="1-s window peak-to-peak above this (µV) counts as artefact")
    max_bad_fraction: float = setting(0.5, min=0.0, max=1.0,
                                      doc="epoch is 'unscorable' when more of its seconds are bad")
