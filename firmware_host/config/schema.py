"""The configuration tree. Each TOML table maps to one frozen dataclass below.

Sections owned by other modules (stager, EMG decoder, actuators, safety, programme) are defined
next to the code they configure and imported here, so each section stays with its user.
"""

from __future__ import annotations

from dataclasses import dataclass

from firmware_host.actuation.config import ActuatorsConfig
from firmware_host.config.durations import parse_duration, parse_speed
from firmware_host.config.fields import setting
from firmware_host.control.config import ControlConfig
from firmware_host.emg.config import EmgDecoderConfig
from firmware_host.neurofeedback.config import NeurofeedbackConfig, TraineeConfig
from firmware_host.programme.config import ProgrammeConfig
from firmware_host.report.config import ReportConfig
from firmware_host.safety.config import SafetyConfig
from firmware_host.service.config import ServiceConfig
from firmware_host.stages.filtering import FilterConfig
from firmware_host.stages.quality import QualityConfig
from firmware_host.staging.config import StagerConfig

FOREARM_DEFAULT = tuple(f"FA{i}" for i in range(1, 9))


@dataclass(frozen=True)
class SyntheticSourceConfig:
    """``[source.synthetic]``: the seeded synthetic night (no hardware)."""

    seed: int = setting(7, min=0, doc="random seed; same seed, same night")
    sfreq: float = setting(250.0, min=100.0, max=2000.0, doc="sampling rate in Hz")
    hypnogram: str = setting(
        "scripted",
        doc="'scripted' for the built-in night, or a hypnogram file (EDF+ annotations, "
        "DREAMS .txt, or one stage per line W/N1/N2/N3/REM with epoch_s)",
    )
    epoch_s: float = setting(30.0, min=1.0, max=60.0, doc="seconds per hypnogram entry of a text file")
    eeg_channels: tuple[str, ...] = setting(("C4-M1", "C3-M2"), doc="EEG channel names")
    eog_channels: tuple[str, ...] = setting(("E1-M2", "E2-M1"), doc="EOG channel names")
    emg_channels: tuple[str, ...] = setting(("Chin",), doc="chin EMG channel names")
    forearm_channels: tuple[str, ...] = setting(FOREARM_DEFAULT, doc="forearm EMG channel names")
    artefacts: bool = setting(True, doc="insert movement, electrode-pop and flat-line artefacts")
    gestures: bool = setting(True, doc="insert scripted forearm grip gestures")
    adc_lsb_uv: float = setting(
        0.022351744455307063, min=0.0, max=10.0,
        doc="deliver samples on this ADC grid (µV per count) like a real amplifier (the default: a "
        "Cyton at gain 24); 0 = unquantised floats",
    )
    mode: str = setting(
        "night", choices=("night", "neurofeedback"),
        doc="'night' (sleep PSG) or 'neurofeedback' (a seated daytime trainee, [.trainee])",
    )
    trainee: TraineeConfig = setting(factory=TraineeConfig)


@dataclass(frozen=True)
class BrainFlowSourceConfig:
    """``[source.brainflow]``: any BrainFlow board with its ``BrainFlowInputParams``."""

    board: str = setting("SYNTHETIC_BOARD", doc="BoardIds name (e.g. CYTON_BOARD) or number")
    serial_port: str = setting("", doc="e.g. /dev/ttyUSB0 for a Cyton dongle")
    mac_address: str = setting("")
    ip_address: str = setting("")
    ip_port: int = setting(0, min=0, max=65535)
    ip_protocol: int = setting(0, min=0, max=3)
    other_info: str = setting("")
    serial_number: str = setting("")
    file: str = setting("", doc="for PLAYBACK_FILE_BOARD / file-based boards")
    master_board: str = setting("", doc="board a playback/streaming board mimics (name or number)")
    timeout: int = setting(0, min=0, max=600, doc="seconds BrainFlow waits for the device")
    config_commands: tuple[str, ...] = setting((), doc="strings sent with config_board after prepare")
    channel_names: tuple[str, ...] = setting((), doc="rename channels (all, in board order)")
    channel_types: tuple[str, ...] = setting((), doc="override types (all, in board order)")
    package_modulus: int = setting(
        0, min=0, doc="period of the board's package counter; 0 = learn it (256, or the next "
        "power of two above the largest counter value seen)"
    )


@dataclass(frozen=True)
class ReplaySourceConfig:
    """``[source.replay]``: EDF/EDF+ or BrainFlow data file replayed at any speed."""

    path: str = setting("", doc="file to replay")
    format: str = setting("auto", choices=("auto", "edf", "brainflow"))
    board: str = setting("SYNTHETIC_BOARD", doc="board whose layout a BrainFlow file has")
    channels: tuple[str, ...] = setting((), doc="subset of channels to keep (all when empty)")
    channel_types: tuple[str, ...] = setting((), doc="types for the kept channels, in order")
    loop: bool = setting(False, doc="start again at the end of the file")


@dataclass(frozen=True)
class SessionSourceConfig:
    """``[source.session]``: one of our own recorded sessions replayed at any speed."""

    path: str = setting("", doc="session directory to replay (any format somnoloop wrote)")


@dataclass(frozen=True)
class SourceConfig:
    """``[source]``: which source the loop reads."""

    kind: str = setting("synthetic", choices=("synthetic", "brainflow", "replay", "session"))
    synthetic: SyntheticSourceConfig = setting(factory=SyntheticSourceConfig)
    brainflow: BrainFlowSourceConfig = setting(factory=BrainFlowSourceConfig)
    replay: ReplaySourceConfig = setting(factory=ReplaySourceConfig)
    session: SessionSourceConfig = setting(factory=SessionSourceConfig)


@dataclass(frozen=True)
class RunConfig:
    """``[run]``: how long and how fast the loop runs."""

    duration: str = setting("8h", doc="e.g. '30m', '8h', '1h30m'; 'until-stopped' on the device")
    speed: str = setting("max", doc="'1' (real time), a factor like '60', or 'max'")
    tick_s: float = setting(
        0.25, min=0.01, max=1.0,
        doc="loop period in data seconds when replaying faster than real time (N× or max)",
    )
    realtime_tick_s: float = setting(
        0.01, min=0.002, max=1.0,
        doc="loop period at speed 1 (the device): the most the loop's own pacing adds to the "
        "grip and feedback paths (a myoelectric hand affords ~100 ms in all)",
    )
    stale_after_s: float = setting(5.0, min=0.5, max=60.0, doc="no samples for this long = stale signal")

    def __post_init__(self) -> None:
        for key, parse in (("duration", parse_duration), ("speed", parse_speed)):
            try:
                parse(getattr(self, key))
            except ValueError as exc:
                raise ValueError(f"run.{key}: {exc}") from None


@dataclass(frozen=True)
class RecorderConfig:
    """``[recorder]``: where and how sessions are written."""

    root: str = setting(
        "", doc="folder that holds one sub-folder per session; '' = $STATE_DIRECTORY under "
        "systemd, else the platform's per-user data dir (~/.local/share/somnoloop/sessions)"
    )
    flush_interval_s: float = setting(0.5, min=0.05, max=1.0, doc="samples reach disk at least this often")
    fsync: bool = setting(True, doc="fsync on every flush (survives power loss, not only kill -9)")


@dataclass(frozen=True)
class Config:
    """The whole configuration."""

    name: str = setting("default", doc="shown in the journal and the report")
    source: SourceConfig = setting(factory=SourceConfig)
    run: RunConfig = setting(factory=RunConfig)
    recorder: RecorderConfig = setting(factory=RecorderConfig)
    emg: EmgDecoderConfig = setting(factory=EmgDecoderConfig)
    filters: FilterConfig = setting(factory=FilterConfig)
    quality: QualityConfig = setting(factory=QualityConfig)
    actuators: ActuatorsConfig = setting(factory=ActuatorsConfig)
    safety: SafetyConfig = setting(factory=SafetyConfig)
    programme: ProgrammeConfig = setting(factory=ProgrammeConfig)
    stager: StagerConfig = setting(factory=StagerConfig)
    service: ServiceConfig = setting(factory=ServiceConfig)
    neurofeedback: NeurofeedbackConfig = setting(factory=NeurofeedbackConfig)
    report: ReportConfig = setting(factory=ReportConfig)
    control: ControlConfig = setting(factory=ControlConfig)
