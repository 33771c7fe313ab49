"""EDF+ export read back with MNE, and the hypnogram CSV read back with pandas and YASA."""

import datetime as dt
import stat

import mne
import numpy as np
import pytest

from firmware_host.cli import main
from firmware_host.config import parse_config
from firmware_host.report.export import EDF_STAGE_LABELS, export_edf
from firmware_host.report.night import load_night
from firmware_host.report.writer import render_report
from firmware_host.runtime.run import Run
from firmware_host.session import Session
from tests.firmware_host.report.builder import NAMES, make_session

LABELS = ["W", "N1", "N2", None, "N3", "REM", "REM", "unscorable", "W"]
EVENTS = [
    (45.0, "command", {"target": "mattress", "action": "set_elevation",
                       "asked": {"zone": "head", "degrees": 5.0}, "sent": {"zone": "head", "degrees": 5.0},
                       "outcome": "sent", "reason": ""}),
    (75.0, "action", {"rule": "tilt", "trigger": {"stage": "N2"}, "evidence": {}, "commands": []}),
    (100.0, "alarm", {"code": "estop", "priority": "high", "state": "raised", "message": "pressed"}),
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    session = make_session(folder / "night", LABELS, gaps=[3], events=EVENTS)
    edf = folder / "night.edf"
    assert main(["export", str(session), "--edf", str(edf)]) == 0
    return session, edf, folder / "night.hypnogram.csv"


def test_edf_channels_rate_duration_start(exported):
    session, edf, _ = exported
    s = Session(session)
    night = load_night(session)
    raw = mne.io.read_raw_edf(edf, preload=True, verbose="error")
    assert raw.ch_names == list(NAMES)
    assert raw.info["sfreq"] == s.sfreq
    assert raw.n_times == s.end_sample - s.first_sample          # the gap is filled, not dropped
    assert raw.n_times / raw.info["sfreq"] == len(LABELS) * 30.0
    start = dt.datetime.fromtimestamp(int(night.start_unix))
    assert raw.info["meas_date"].replace(tzinfo=None) == start   # EDF stores local clock time
    assert stat.S_IMODE(edf.stat().st_mode) == 0o600


def test_edf_samples_in_physical_units(exported):
    session, edf, _ = exported
    data, idx, _ = Session(session).read()
    raw = mne.io.read_raw_edf(edf, preload=True, verbose="error")
    back = raw.get_data() * 1e6                                   # MNE gives volts for "uV"
    for i in range(len(NAMES)):
        lo, hi = data[i].min(), data[i].max()
        resolution = (np.ceil(max(hi, 0)) - np.floor(min(lo, 0))) / 65535
        np.testing.assert_allclose(back[i, idx], data[i], atol=resolution)
    gap = slice(3 * 3000, 4 * 3000)
    assert np.all(back[:, gap] == pytest.approx(0.0, abs=1e-3))


def test_edf_has_every_annotation(exported):
    session, edf, _ = exported
    raw = mne.io.read_raw_edf(edf, verbose="error")
    ann = raw.annotations
    got = sorted((round(float(o), 3), round(float(d), 3), str(t))
                 for o, d, t in zip(ann.onset, ann.duration, ann.description, strict=True))
    expected = [  # runs of equal stages; the gap epoch and the unscorable epoch are "Sleep stage ?"
        (0.0, 30.0, EDF_STAGE_LABELS["W"]), (30.0, 30.0, EDF_STAGE_LABELS["N1"]),
        (60.0, 30.0, EDF_STAGE_LABELS["N2"]), (90.0, 30.0, "Sleep stage ?"),
        (120.0, 30.0, "Sleep stage 3"), (150.0, 60.0, "Sleep stage R"), (210.0, 30.0, "Sleep stage ?"),
        (240.0, 30.0, "Sleep stage W"),
        (90.0, 30.0, "somnoloop gap: 30 s missing (written as 0 uV)"),
        (45.0, 0.0, "somnoloop mattress.set_elevation {zone=head, degrees=5} -> sent"),
        (75.0, 0.0, "somnoloop rule tilt fired on {stage=N2}"),
        (100.0, 0.0, "somnoloop high alarm estop raised: pressed"),
    ]
    assert got == sorted(expected)


def test_hypnogram_csv_in_yasa_layout(exported):
    _, _, csv = exported
    pd = pytest.importorskip("pandas")
    df = pd.read_csv(csv)
    assert list(df.columns) == ["epoch", "onset", "duration", "value", "description",
                                "WAKE", "N1", "N2", "N3", "REM"]
    assert df["description"].tolist() == ["WAKE", "N1", "N2", "UNS", "N3", "REM", "REM", "UNS", "WAKE"]
    assert df["value"].tolist() == [0, 1, 2, -2, 3, 4, 4, -2, 0]
    assert df["onset"].tolist() == [30.0 * k for k in range(9)]
    assert df.loc[3, ["WAKE", "N1", "N2", "N3", "REM"]].isna().all()   # no decision in the gap
    assert stat.S_IMODE(csv.stat().st_mode) == 0o600
    yasa = pytest.importorskip("yasa", reason="YASA is a [yasa] extra, not installed")
    scored = df.dropna()
    hyp = yasa.Hypnogram(scored["description"].tolist(), freq="30s",
                         proba=scored[["WAKE", "N1", "N2", "N3", "REM"]].reset_index(drop=True))
    events = hyp.as_events()
    assert events["description"].tolist() == scored["description"].tolist()
    assert events["value"].tolist() == scored["value"].tolist()        # same integer codes as YASA
    np.testing.assert_allclose(hyp.proba.to_numpy(), scored[["WAKE", "N1", "N2", "N3", "REM"]].to_numpy())


def test_export_errors(tmp_path, capsys):
    assert main(["export", str(tmp_path), "--edf", str(tmp_path / "x.edf")]) == 2
    assert "is not a session" in capsys.readouterr().err
    assert main(["export", str(tmp_path), "--edf", str(tmp_path / "x.txt")]) == 2
    assert main(["export", str(tmp_path), "--edf", str(tmp_path / "missing" / "x.edf")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "d.edf").mkdir()
    assert main(["export", str(tmp_path), "--edf", str(tmp_path / "d.edf")]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert main(["export", str(tmp_path), "--edf", str(tmp_path / "x.edf"), "--csv", "/nope/h.csv"]) == 2
    assert "--csv" in capsys.readouterr().err


def test_exported_night_replays_with_its_hypnogram_as_the_expert(tmp_path):
    """EDF+ export → replay through the real loop → the report finds the stages as the expert's."""
    labels = ["W", "W", "N1", "N2", "N2", "N3", "N3", "N2", "REM", "REM", "W", "N2"]
    edf = tmp_path / "night.edf"
    export_edf(make_session(tmp_path / "night", labels), edf)
    cfg = parse_config({"source": {"kind": "replay", "replay": {"path": str(edf)}},
                        "emg": {"enabled": False}})
    Run(cfg, duration="6m", session_dir=tmp_path / "replayed", actuation="dry").run()
    night = load_night(tmp_path / "replayed")
    assert night.expert == labels
    html = render_report(tmp_path / "replayed", tmp_path / "out", formats=("html",))[0].read_text()
    assert "Agreement with the expert hypnogram" in html and "12 epochs scored by the expert" in html
