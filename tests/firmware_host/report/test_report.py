"""The nightly report from hand-made sessions: what it reads, what it says, how it is written."""

import re
import stat
from types import SimpleNamespace

import pytest

from firmware_host.cli import main
from firmware_host.config import ConfigError, load_config
from firmware_host.config.loader import parse_config
from firmware_host.report.config import ReportConfig
from firmware_host.report.hook import ReportObserver
from firmware_host.report.metrics import sleep_metrics
from firmware_host.report.night import config_digest, load_night
from firmware_host.report.writer import render_report, write_report
from firmware_host.runtime.run import Run
from firmware_host.session import Session
from tests.firmware_host.report.builder import make_session

LABELS = ["W", "W", "N1", "N2", None, "N3", "N3", "N2", "REM", "REM", "W", "N2"]
EXPERT = ["W", "W", "N1", "N2", "N2", "N3", "N2", "N2", "REM", "W", "W", "N2"]
EVENTS = [
    (95.0, "action", {"rule": "cool-in-n3", "trigger": {"stage": "N3", "p": 0.9},
                      "evidence": {}, "commands": [{"target": "mattress", "action": "set_temperature"}]}),
    (95.0, "command", {"target": "mattress", "action": "set_temperature", "asked": {"celsius": 26.0},
                       "sent": {"celsius": 26.0}, "outcome": "sent", "reason": ""}),
    # the patient's own hand, through the programme: counted, never listed
    (150.0, "action", {"rule": "grip", "trigger": "intent", "evidence": {},
                       "commands": [{"target": "hand", "action": "grip"}]}),
    (151.0, "action", {"rule": "grip", "trigger": "intent", "evidence": {}, "commands": []}),
    (150.0, "command", {"target": "hand", "action": "grip", "asked": {"pattern": "power", "force": 0.9},
                        "sent": {"pattern": "power", "force": 0.8}, "outcome": "clamped", "reason": "force"}),
    (130.0, "suppressed", {"rule": "wake-vibration", "guard": "min_interval", "reason": "fired 40 s ago"}),
    (200.0, "alarm", {"code": "signal_stale", "priority": "medium", "state": "raised",
                      "message": "no samples"}),
    (210.0, "safe_state", {"target": "mattress", "reason": "signal_stale", "ok": True}),
    (220.0, "fault", {"target": "hand", "during": "apply", "kind": "device", "error": "timeout"}),
    (230.0, "annotation", {"text": "E-stop reset"}),
    # a provisional stage decision for the gap epoch: never part of the hypnogram
    (100.0, "decision", {"kind": "stage", "sample": 4 * 3000 + 100, "label": "REM", "probabilities": {},
                         "model": "test-model@1.0", "details": {"provisional": True}}),
    (240.0, "decision", {"kind": "spindle", "sample": 24000, "label": "spindle", "probabilities": {},
                         "model": "spindles@1", "details": {}}),
]


@pytest.fixture(scope="module")
def rich_session(tmp_path_factory):
    """Twelve epochs, a gap at epoch 4, the first minute bad, every kind of event, an expert."""
    path = tmp_path_factory.mktemp("rich") / "night"
    return make_session(path, LABELS, gaps=[4], bad_seconds=range(60), events=EVENTS, expert=EXPERT)


@pytest.fixture(scope="module")
def plain_session(tmp_path_factory):
    """Four good epochs and nothing else."""
    return make_session(tmp_path_factory.mktemp("plain") / "night", ["W", "N1", "N2", "N2"])


@pytest.mark.parametrize("thin", [True, False], ids=["quality-per-epoch", "quality-per-window"])
def test_quality_from_either_journal_form(tmp_path, thin):
    session = make_session(tmp_path / "night", LABELS, gaps=[4], bad_seconds=range(45),
                           thin_journal=thin)
    q = load_night(session).quality
    # 360 s recorded span, 30 s missing in the gap, 45 s flagged bad on every channel
    assert q["usable_pct"] == pytest.approx(dict.fromkeys(("C4-M1", "E1-M2", "Chin"), 100 * 285 / 360))
    assert q["artefact_s"] == pytest.approx(dict.fromkeys(("C4-M1", "E1-M2", "Chin"), 45.0))
    assert q["bad_fraction_per_min"][0].tolist() == pytest.approx([0.75, 0, 0, 0, 0, 0])


def test_night_reads_hypnogram_gaps_quality_and_events(rich_session):
    night = load_night(rich_session)
    assert night.labels == LABELS                       # the gap epoch has no decision
    assert night.gaps == [(120.0, 30.0)]
    assert night.metrics == sleep_metrics(LABELS)
    # C4-M1: 360 s, 30 s missing in the gap, 60 s flagged bad → 270 s usable = 75 %
    assert night.quality["usable_pct"]["C4-M1"] == pytest.approx(75.0)
    assert night.quality["artefact_s"]["C4-M1"] == 60.0
    rows = {m.row for m in night.marks}
    assert {"programme action", "programme suppressed", "alarm", "safe state", "fault",
            "mattress.set_temperature"} <= rows
    assert [m.status for m in night.marks if m.row == "E-stop"] == ["ok"]       # a reset, not a press
    assert night.expert == EXPERT
    assert night.micro == {"events": {"spindle": {"count": 1, "per_h_n2n3": pytest.approx(1 / (2.5 / 60))}},
                           "stimuli": 0}
    assert night.models == ["test-model@1.0"]


def test_report_says_what_a_clinician_needs(rich_session, tmp_path):
    html_path, pdf_path = render_report(rich_session, tmp_path / "out")
    html = html_path.read_text()
    assert pdf_path.read_bytes().startswith(b"%PDF")
    for text in ("TIB", "TST", "SPT", "SOL", "LPS", "REM latency", "WASO", "Awakenings", "Stage shifts",
                 "first epoch of any sleep (AASM)", "Signal quality too low to trust the staging",
                 "1 recording gap(s), 30 s missing", "rule cool-in-n3 fired", "held back by min_interval",
                 "medium alarm signal_stale raised", "mattress safe (signal_stale)", "fault hand",
                 "Agreement with the expert hypnogram", "Cohen", "Microstructure", "spindle",
                 "test-model@1.0", "sha256",
                 "During the night: 1 alarm(s), 1 device fault(s), 1 safe state(s) before the end"):
        assert text in html, text
    assert 'rule grip fired</td><td class="num">2' in html
    assert 'command hand.grip clamped</td><td class="num">1' in html
    assert "rule grip fired on intent" not in html and "hand.grip {pattern" not in html
    # agreement on the 11 epochs somnoloop staged vs the expert (the gap epoch counts as unscored)
    agree = sum(a == b for a, b in zip(LABELS, EXPERT, strict=True))
    assert f"accuracy {100 * agree / 12:.1f}%" in html


def test_report_without_optional_sections_skips_them(plain_session, tmp_path):
    (html_path,) = render_report(plain_session, tmp_path, formats=("html",))
    html = html_path.read_text()
    for absent in ("Microstructure", "Agreement with the expert", "Neurofeedback", "WARNING", "⚠"):
        assert absent not in html
    assert "No command to the sleeping patient" in html
    assert "Signal quality sufficient; no recording gaps, alarms or faults." in html


def test_html_is_self_contained(rich_session, tmp_path):
    (html_path,) = render_report(rich_session, tmp_path, formats=("html",))
    html = html_path.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    assert "@import" not in html and "url(" not in html
    assert html.count("data:image/png;base64,") == 2           # night overview + confusion matrix


def test_files_are_owner_only(rich_session, tmp_path):
    out = tmp_path / "private"
    for path in render_report(rich_session, out):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert not list(out.glob(".*.tmp"))


def test_default_output_is_inside_the_session(plain_session):
    written = render_report(plain_session, formats=("pdf",))
    assert [p.parent for p in written] == [plain_session / "report"]


def test_write_report_journals_a_failure_and_does_not_raise(tmp_path):
    session = make_session(tmp_path / "night", ["W", "N2"])
    assert write_report(session, formats=("docx",)) == []
    faults = Session(session).events("fault")
    assert faults[-1].payload["where"] == "report"
    assert "docx" in faults[-1].payload["error"]
    assert write_report(tmp_path / "not-a-session") == []        # nothing to journal into: logged


def test_report_settings_come_from_the_session_config(tmp_path):
    session = make_session(tmp_path / "night", ["W", "N2"], config={
        "name": "bedside", "report": {"pseudonym": "P-017", "min_usable_pct": 99.9}})
    (html_path,) = render_report(session, tmp_path / "out", formats=("html",))
    assert "P-017" in html_path.read_text()
    rules = [{"name": "cool"}, {"name": "rock"}]
    session = make_session(tmp_path / "night2", ["W"], config={
        "name": "x", "programme": {"enabled": True, "rules": rules}})
    digest = config_digest({"rules": rules})
    assert load_night(session).header["Programme"] == f"2 rules (sha256 {digest}): cool, rock"


def test_cli_report_and_errors(plain_session, rich_session, tmp_path, capsys):
    assert main(["report", str(plain_session), "--out", str(tmp_path / "r"), "--format", "html"]) == 0
    assert capsys.readouterr().out.strip().endswith("night-report.html")
    assert main(["report", str(plain_session), "--format", "docx"]) == 2
    assert "allowed: html, pdf" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    assert main(["report", str(plain_session), str(rich_session)]) == 2
    assert "--trend" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    assert main(["report", str(plain_session), "--out", str(tmp_path / "file")]) == 2
    assert "is a file" in capsys.readouterr().err


def test_cli_trend_over_sessions_and_a_folder_of_nights(plain_session, rich_session, tmp_path, capsys):
    out = tmp_path / "trend"
    assert main(["report", "--trend", str(plain_session), str(rich_session), "--out", str(out)]) == 0
    html = (out / "trend-report.html").read_text()
    assert (out / "trend-report.pdf").read_bytes().startswith(b"%PDF")
    for col in ("TST min", "SE %", "SOL min", "WASO min", "N3 %", "REM %", "Interventions", "EEG usable %"):
        assert col in html
    assert html.count("<tr>") == 3                                 # header + two nights
    earlier = make_session(tmp_path / "a", ["W", "N2"])           # TST 0.5 min
    later = make_session(tmp_path / "b", ["N2", "N2", "N2"])        # TST 1.5 min
    assert main(["report", "--trend", str(later), str(earlier), "--out", str(tmp_path / "t2"),
                 "--format", "html"]) == 0
    html = (tmp_path / "t2" / "trend-report.html").read_text()
    assert html.index("(a)</td><td>0.5</td>") < html.index("(b)</td><td>1.5</td>")   # in date order
    capsys.readouterr()
    nights = tmp_path / "nights"
    for i in range(2):
        make_session(nights / f"2026-01-0{i + 1}", ["W", "N2", "N2"])
    assert main(["report", "--trend", str(nights), "--format", "html"]) == 0
    assert (nights / "trend-report.html").exists()
    assert main(["report", "--trend", str(tmp_path / "empty-dir-missing")]) == 2


def test_report_config_section():
    assert load_config(None).report == ReportConfig()
    assert parse_config({"report": {"enabled": False}}).report.enabled is False
    with pytest.raises(ConfigError, match=r"report.formats\[0\] = 'docx' is not allowed"):
        parse_config({"report": {"formats": ["docx"]}})


def test_lights_off_and_on_from_annotations(tmp_path):
    labels = ["W", "W", "W", "N2", "N2", "N3", "REM", "W", "W", "W"]
    session = make_session(tmp_path / "night", labels, events=[
        (60.0, "annotation", {"text": "Lights off"}), (240.0, "annotation", {"text": "lights on"})])
    night = load_night(session)
    assert (night.lights_off_s, night.lights_on_s) == (60.0, 240.0)
    assert night.metrics == sleep_metrics(labels[2:8])          # epochs from 60 s to 240 s
    assert "not marked" not in night.header["Lights off"]


def test_end_of_night_observer(tmp_path):
    session = make_session(tmp_path / "night", ["W", "N1", "N2"])

    def closed_run(report: ReportConfig) -> SimpleNamespace:   # what the observer uses of a Run
        return SimpleNamespace(session_dir=session, config=SimpleNamespace(report=report))

    seen = []
    ReportObserver(seen.append).on_closed(closed_run(ReportConfig(enabled=False)), None)
    assert seen == [] and not (session / "report").exists()
    observer = ReportObserver(seen.append)
    observer.on_closed(closed_run(ReportConfig(formats=("html",))), None)
    assert seen == [[session / "report" / "night-report.html"]] == [observer.paths]


def test_a_real_run_ends_with_its_report(tmp_path):
    """The observer attached to a real (short, dry) synthetic run writes the report at close."""
    cfg = parse_config({"source": {"synthetic": {"forearm_channels": [], "gestures": False}},
                        "emg": {"enabled": False}, "report": {"pseudonym": "P-042"}})
    seen = []
    run = Run(cfg, duration="5m", session_dir=tmp_path / "s", actuation="dry",
              observers=[ReportObserver(seen.append)])
    run.run()
    html, pdf = seen[0]
    assert (html.name, pdf.name) == ("s-report.html", "s-report.pdf")
    text = html.read_text()
    assert "P-042" in text and "Sleep summary (AASM)" in text
    assert not Session(tmp_path / "s").events("fault")


def test_interrupted_run_without_stage_decisions(tmp_path):
    session = make_session(tmp_path / "night", [None, None, None], closed=False)
    (html_path,) = render_report(session, tmp_path / "out", formats=("html",))
    html = html_path.read_text()
    assert "(run interrupted)" in html
    assert "The run was interrupted (no stop event)" in html
    assert "The session has no sleep-stage decisions" in html
    assert "1.5 of 1.5 min are unscored (100%)" in html


def test_neurofeedback_blocks_and_learning_curve(tmp_path):
    def update(i, block, phase, feature, label="none", gated=(), would=False, training_block=None):
        return (10.0 + i, "decision", {
            "kind": "neurofeedback", "sample": 100 * i, "label": label, "probabilities": {}, "model": "nf@1",
            "details": {"block": block, "phase": phase, "training_block": training_block, "feature": feature,
                        "threshold": 1.4, "gated_by": list(gated), "would_reward": would}})
    events = [update(0, 0, "baseline", 1.0), update(1, 0, "baseline", 1.2),
              update(2, 1, "training", 1.5, "reward", training_block=1),
              update(3, 1, "training", 1.7, training_block=1),
              update(4, 2, "training", 2.0, "reward", training_block=2),
              update(5, 2, "training", 2.2, "reward", training_block=2),
              update(6, 2, "training", 9.9, gated=("emg",), training_block=2),
              update(7, 3, "transfer", 2.1, would=True)]
    session = make_session(tmp_path / "night", ["W", "N1", "N2"], events=events)
    html, pdf = render_report(session, tmp_path / "out")
    text = html.read_text()
    assert "Neurofeedback learning curve" in text
    # block 1: 1 of 2 clean updates rewarded, feature 1.6, baseline 1.1; block 2: 2 of 2 clean, 1 of 3 gated
    for row in (("1 (training)", "50%", "1.6", "1.1", "0%"), ("2 (training)", "100%", "2.1", "1.1", "33%"),
                ("3 (transfer)", "100%", "2.1", "1.1", "0%")):
        cells = [f"<td>{row[0]}</td>", *(f'<td class="num">{c}</td>' for c in row[1:])]
        assert "".join(cells) in text
    assert text.count("data:image/png;base64,") == 2            # night overview + learning curve
    assert pdf.read_bytes().startswith(b"%PDF")


def test_a_session_without_staging_has_no_sleep_summary(tmp_path):
    """A daytime neurofeedback session (stager off): no sleep figures, no unscored warnings."""
    session = make_session(tmp_path / "day", [None, None],
                           config={"name": "nf", "stager": {"enabled": False}})
    (html_path,) = render_report(session, tmp_path / "out", formats=("html",))
    html = html_path.read_text()
    assert "<h1>Session report" in html
    for absent in ("Sleep summary", "unscored", "no sleep-stage decisions", "WARNING", "⚠"):
        assert absent not in html


def test_a_rhythmic_command_does_not_drown_the_interventions_table(tmp_path):
    pulses = [(1.0 + i, "command", {"target": "vibration", "action": "set_vibration",
                                    "asked": {"intensity": 30}, "sent": {"intensity": 30},
                                    "outcome": "sent", "reason": ""}) for i in range(50)]
    fault = [(55.0, "fault", {"target": "mattress", "kind": "device", "error": "timeout"})]
    session = make_session(tmp_path / "night", ["W", "N1"], events=pulses + fault)
    (html_path,) = render_report(session, tmp_path / "out", formats=("html",))
    html = html_path.read_text()
    assert html.count("<td>vibration.set_vibration</td>") == 40
    assert "fault mattress: device timeout" in html                 # listed after the pulses
    assert "… and 10 more, in the counts above" in html
    assert 'command vibration.set_vibration sent</td><td class="num">50' in html
