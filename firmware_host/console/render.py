"""Pure rendering of control-protocol ``state`` messages into rich text (no Textual here).

Each function takes plain data and a width and returns :class:`rich.text.Text`, so the
panes are tested without a terminal and stay readable at 80 columns.
"""

from __future__ import annotations

import json
import math
from typing import Any

from rich.text import Text

STAGE_STYLE = {"W": "bold yellow", "N1": "cyan", "N2": "blue", "N3": "bold magenta",
               "REM": "bold green", "unscorable": "dim"}
STAGE_CHAR = {"W": "W", "N1": "1", "N2": "2", "N3": "3", "REM": "R", "unscorable": "?"}
PRIORITY_STYLE = {"high": "bold white on red", "medium": "bold black on yellow", "low": "cyan"}
SHORT_TYPE = {"eeg": "eeg", "eog": "eog", "emg": "emg", "forearm_emg": "fa"}
RECENT_LABEL = {"command": "cmd", "action": "act", "suppressed": "supp", "safe_state": "safe",
                "fault": "FAULT", "alarm": "alarm", "gap": "gap"}
BAND_SYMBOL = {"delta": "δ", "theta": "θ", "alpha": "α", "sigma": "σ", "beta": "β"}


#: Braille dot bits of a cell by (dot row 0-3 from the top, column 0-1): U+2800 + their sum.
BRAILLE_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
#: Columns of a trace's label (name; type and quality flag) and amplitude axis.
LABEL_W, AXIS_W = 9, 7
#: A trace less high than this (µV) is drawn as the level it sits at (railed or flat).
STUCK_UV = 1.0
#: Seconds between time-axis ticks (the smallest giving at most 3 intervals is used).
TICK_STEPS_S = (0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0)
TICK = "╵"


def braille_envelope(lo: list[int], hi: list[int], rows: int) -> list[str]:
    """A min/max envelope as ``rows`` lines of braille: 2 columns and 4 dot rows per character.

    Each column lights the dots from its maximum down to its minimum, scaled so the lowest
    minimum is the bottom dot row and the highest maximum the top one: a spike or a railed
    stretch stays visible in its own column. A negative value marks a column without data
    (left blank).
    """
    dots = 4 * rows
    valid = [(a, b) for a, b in zip(lo, hi, strict=True) if a >= 0 and b >= 0]
    cells = [[0] * ((len(lo) + 1) // 2) for _ in range(rows)]
    if valid:
        qmin, qmax = min(a for a, _ in valid), max(b for _, b in valid)
        span = qmax - qmin

        def row(q: int) -> int:
            return (dots - 1) // 2 if span == 0 else round((qmax - q) * (dots - 1) / span)

        for col, (a, b) in enumerate(zip(lo, hi, strict=True)):
            if a < 0 or b < 0:
                continue
            for r in range(row(b), row(a) + 1):
                cells[r // 4][col // 2] |= BRAILLE_DOTS[r % 4][col % 2]
    return ["".join(chr(0x2800 + c) for c in line) for line in cells]


def _height(uv: float) -> str:
    """A trace's height in at most 7 characters (``170µV``, ``12.3kµV``, ``187kµV``)."""
    if uv < 1000:
        return f"{uv:.0f}µV"
    return f"{uv / 1000:.1f}kµV" if uv < 1e5 else f"{uv / 1000:.0f}kµV"


def trace_columns(width: int) -> int:
    """Envelope columns a :func:`signals` pane of ``width`` characters draws (2 per character)."""
    return 2 * max(4, width - LABEL_W - AXIS_W)


def tick_column(ago_s: float, span_s: float, points: int) -> int:
    """The envelope column holding the samples of ``ago_s`` seconds before the newest.

    Column ``c`` of ``points`` holds the samples ``[c, c + 1) · span_s / points`` seconds
    after the window's start (PROTOCOL.md, envelope); ``now`` is the last column.
    """
    return min(points - 1, max(0, math.floor((span_s - ago_s) * points / span_s + 1e-9)))


def time_axis(span_s: float, points: int) -> str:
    """Tick marks under traces of ``points`` columns showing the last ``span_s`` seconds.

    A ``╵`` sits in the character of each tick's :func:`tick_column` (2 columns a
    character), labelled on its right (``-10s``) or, for ``now``, on its left; ticks every
    :data:`TICK_STEPS_S` step that gives at most 3 intervals.
    """
    cells = [" "] * ((points + 1) // 2)
    step = next((t for t in TICK_STEPS_S if span_s / t <= 3 + 1e-9), TICK_STEPS_S[-1])
    used = -1  # last character taken
    for k in range(int(span_s / step + 1e-9), -1, -1):  # oldest tick first
        ago = k * step
        at = tick_column(ago, span_s, points) // 2
        mark = f"{TICK}-{ago:g}s" if k else f"now{TICK}"
        start = at if k else at - len(mark) + 1
        if start <= used or start < 0 or start + len(mark) > len(cells):
            mark, start = TICK, at  # no room for the label: the tick alone
            if start <= used:
                continue
        cells[start:start + len(mark)] = mark
        used = start + len(mark) - 1
    return "".join(cells)


def _stuck(ch: dict[str, Any], height: float) -> str:
    """``railed at +187500 µV`` / ``flat at +3 µV`` for a trace under :data:`STUCK_UV` high."""
    level = ch.get("mean_uv")
    if height >= STUCK_UV or level is None:
        return ""
    return f"{'railed' if 'clipped' in (ch.get('flags') or []) else 'flat'} at {level:+.0f} µV"


def signals(state: dict[str, Any], width: int, rows: int = 2) -> Text:
    """The time base, per channel ``rows`` lines (label, min/max envelope, height in µV), a time axis.

    The label column gives the name, then the type and the first quality flag (``ok`` when
    none; both on one line when ``rows`` is 1); the right column the trace's height (its
    peak-to-peak over the time base, the vertical scale). Flagged channels are drawn red; a
    trace less than :data:`STUCK_UV` high says the level it sits at instead. The last line
    marks seconds before now under the columns that hold them (:func:`time_axis`).
    """
    channels = state.get("channels") or []
    if not channels:
        return Text("waiting for data…", style="dim")
    trace_w = trace_columns(width) // 2
    span = (state.get("trace_window") or {}).get("span_s")
    points = max((len((ch.get("envelope") or {}).get("max", [])) for ch in channels), default=0)
    out = Text()
    if span and points:
        out.append(f"last {span:g} s, {1000 * span / points:.0f} ms/col, height; -/+ zoom"[:width] + "\n",
                   style="dim")
    for ch in channels:
        flags = ch.get("flags") or []
        style = "red" if flags else "green"
        flag = flags[0][:4] + ("+" if len(flags) > 1 else "") if flags else "ok"
        kind = SHORT_TYPE.get(ch["type"], ch["type"])[:3]
        labels = ([f"{ch['name'][:8]}", f"{kind:<3} {flag}"] if rows > 1
                  else [f"{ch['name'][:4]:<4} {flag[:4]}"])
        env = ch.get("envelope") or {}
        lo, hi = env.get("min", []), env.get("max", [])
        lines = braille_envelope(lo, hi, rows)
        valid = [(a, b) for a, b in zip(lo, hi, strict=True) if a >= 0 and b >= 0]
        height = (env.get("step_uv", 0.0) * (max(b for _, b in valid) - min(a for a, _ in valid))
                  if valid else 0.0)
        stuck = _stuck(ch, height) if valid else ""
        for r in range(rows):
            label = labels[r] if r < len(labels) else ""
            out.append(f"{label:<{LABEL_W}}", style="bold" if r == 0 and rows > 1 else style)
            if r == 0 and stuck:
                out.append(f" {stuck:<{trace_w}}"[:trace_w], style="bold red")
            else:
                out.append(f"{lines[r]:<{trace_w}}"[:trace_w], style=style)
            out.append(f"{_height(height) if r == 0 else '':>{AXIS_W}}\n", style="dim")
    if span and points:
        out.append(" " * LABEL_W + f"{time_axis(span, points):<{trace_w}}"[:trace_w], style="dim")
    out.rstrip()
    return out


def stage(state: dict[str, Any], width: int) -> Text:
    """Current stage with its probabilities (before the first epoch: when it comes, or that
    staging is off), the hypnogram so far, and band powers."""
    out = Text()
    label = state.get("stage")
    out.append("stage ", style="bold")
    out.append(f"{label or '—'}", style=STAGE_STYLE.get(label or "", "dim"))
    if state.get("stage_provisional"):
        out.append(" (provisional)", style="dim")
    out.append("\n")
    probs = state.get("stage_probabilities") or {}
    hyp = state.get("hypnogram") or []
    if state.get("staging") is False:
        out.append("staging is disabled in the config\n([stager] enabled = false)", style="yellow")
    elif not probs and not hyp:
        out.append(first_epoch(state)[:width] + "\n", style="dim")
    for i, (name, p) in enumerate(probs.items()):  # "W:5 N1:10 N2:70 N3:10 REM:5" (%)
        style = STAGE_STYLE.get(name, "")
        out.append(("" if i == 0 else " ") + f"{name}:{100 * p:.0f}",
                   style=f"bold underline {style}" if name == label else style)
    if probs:
        out.append(" %\n" if len(out.plain.splitlines()[-1]) <= width - 2 else "\n")
    if state.get("staging") is not False:
        out.append_text(hypnogram(hyp, width, state.get("epoch_s")))
    for ch, bands in (state.get("band_powers") or {}).items():
        if bands:
            out.append(f"\n{ch[:5]:<5} " + " ".join(f"{BAND_SYMBOL[b]}{v:.0f}" for b, v in bands.items()))
    return out


def first_epoch(state: dict[str, Any]) -> str:
    """What the stage pane waits for before its first epoch: ``first epoch in 12 s (30-s epochs)``.

    The stager scores its first epoch once ``data_s`` reaches ``epoch_s`` (seconds of data,
    not of wall clock); its decision shows within the journal's flush interval.
    """
    epoch = state.get("epoch_s")
    if not epoch:
        return "waiting for the first epoch"
    left = math.ceil(epoch - (state.get("data_s") or 0.0))
    return f"first epoch in {left} s ({epoch:g}-s epochs)" if left > 0 else "staging the first epoch…"


def hypnogram(labels: list[str], width: int, epoch_s: float | None, rows: int = 2) -> Text:
    """The last ``rows × width`` epochs as coloured stage letters (W 1 2 3 R ?)."""
    out = Text()
    hours = f" {len(labels) * epoch_s / 3600:.1f} h" if epoch_s and labels else ""
    out.append(f"hypnogram {len(labels)} epochs{hours}\n", style="dim")
    shown = labels[-rows * width:]
    for i in range(0, len(shown), width):
        for lab in shown[i:i + width]:
            out.append(STAGE_CHAR.get(lab, "?"), style=STAGE_STYLE.get(lab, "dim"))
        out.append("\n")
    out.rstrip()
    return out


def emg(state: dict[str, Any], width: int) -> Text:
    """Decoded grip intent and force, and the EMG envelope (RMS) per channel."""
    out = Text()
    grip = state.get("grip")
    if grip:
        out.append("intent ", style="bold")
        out.append(f"{grip.get('label')}", style="bold green" if grip.get("label") != "rest" else "")
        out.append(f" force {grip.get('force') or 0:.2f} conf {grip.get('confidence') or 0:.2f}\n")
    env = state.get("emg_envelope") or {}
    if env:
        peak = max((v.get("rms_uv", 0.0) for v in env.values()), default=0.0) or 1.0
        bar_w = max(4, width - 16)
        for name, v in env.items():
            rms = v.get("rms_uv", 0.0)
            n = int(round(bar_w * rms / peak))
            out.append(f"{name[:5]:<5} {rms:>6.1f} ")
            out.append("█" * n, style="magenta")
            out.append("\n")
    if not out:
        return Text("no EMG in this run", style="dim")
    out.rstrip()
    return out


def _compact(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(f"{k}={_nested(v)}" for k, v in value.items() if v not in (None, [], {}))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _nested(value: Any) -> str:
    if isinstance(value, dict):
        return "/".join(_compact(v) for v in value.values())
    if isinstance(value, list):
        return "/".join(_compact(v) for v in value)
    return _compact(value)


#: Read-back keys worth a glance, in display order.
REPORTED = ("elevation", "firmness", "temperature", "vibration", "grip", "positions", "moving",
            "faults", "remote")


def actuators(state: dict[str, Any], width: int) -> Text:
    """Per actuator: what was commanded (slew channels, last command) and what it reports."""
    out = Text()
    acts = state.get("actuators") or {}
    if not acts:
        return Text("no actuators", style="dim")
    for name, a in acts.items():
        out.append(f"{name}", style="bold red" if a.get("lost") else "bold")
        if a.get("lost"):
            out.append(" LOST", style="bold red")
        cmd = a.get("commanded") or {}
        last = cmd.get("last") or {}
        if last:
            out.append(f" last {last.get('action')} {_compact(last.get('sent') or {})} "
                       f"[{last.get('outcome')}]"[: max(0, width - len(name) - 5)], style="dim")
        out.append("\n")
        chans = {k.replace("elevation.", "").replace("firmness.", "firm."): v
                 for k, v in (cmd.get("channels") or {}).items()}
        ramps = cmd.get("ramping") or {}
        if chans:
            line = "  cmd " + _compact(chans) + ("  ramp→ " + _compact(ramps) if ramps else "")
            out.append(line[:width] + "\n", style="cyan")
        rep = a.get("reported") or {}
        shown = {k: rep[k] for k in REPORTED if k in rep}
        out.append(("  rep " + (_compact(shown or rep) or "—"))[:width] + "\n", style="green")
    out.rstrip()
    return out


def alarms(state: dict[str, Any], width: int) -> Text:
    """Active alarms, most urgent first (✓ when acknowledged)."""
    items = state.get("alarms") or []
    if not items:
        return Text("no active alarm", style="green")
    out = Text()
    for a in items:
        mark = "✓" if a.get("acknowledged") else "!"
        out.append(f"{mark} {a.get('priority')} {a.get('code')}: {a.get('message', '')}"[:width] + "\n",
                   style=PRIORITY_STYLE.get(a.get("priority"), ""))
    out.rstrip()
    return out


def recent(state: dict[str, Any], width: int, n: int) -> Text:
    """The last ``n`` commands, actions, suppressions, safe states, faults and alarms."""
    items = (state.get("recent") or [])[-n:]
    if not items:
        return Text("nothing yet", style="dim")
    out = Text()
    styles = {"suppressed": "yellow", "alarm": "red", "fault": "bold red", "safe_state": "magenta"}
    for e in items:
        kind = RECENT_LABEL.get(e["kind"], e["kind"])
        out.append(f"{e['t']:>7.0f}s {kind:<5} {e['text']}"[:width] + "\n",
                   style=styles.get(e["kind"], ""))
    out.rstrip()
    return out


def journal_line(e: dict[str, Any]) -> str:
    """One control event: time, client, what, and old → new or the refusal."""
    params = e.get("params") or {}
    head = f"{e.get('t', 0):>7.0f}s {e.get('command')}"
    if e.get("ok"):
        r = e.get("result") or {}
        if "key" in r:
            change = f"{json.dumps(r.get('old'))} → {json.dumps(r.get('new'))}"
            return f"{head} {r['key']} {change}  by {e.get('client')}"
        return f"{head} ok {_compact(r)}  by {e.get('client')}"
    what = f" {params['key']}={json.dumps(params.get('value'))}" if "key" in params else ""
    return f"{head}{what} REFUSED: {e.get('error')}  by {e.get('client')}"


def header(state: dict[str, Any], control: str) -> Text:
    """The top line: config, data time, speed, health, latency, CPU, who has control."""
    run = state.get("run") or {}
    out = Text()
    out.append("somnoloop ", style="bold")
    out.append(f"{run.get('config', '?')} {state.get('data_s', 0):.0f}s ×{run.get('speed', '?')} ")
    healthy = bool(state.get("healthy"))
    out.append("ok " if healthy else "UNHEALTHY ", style="green" if healthy else "bold red")
    out.append(f"loop {state.get('loop_latency_ms') or 0:.1f}/{state.get('loop_latency_max_ms') or 0:.0f}ms "
               f"cpu {state.get('cpu_percent') or 0:.0f}% ")
    out.append(control, style="bold cyan" if control.startswith("CONTROL") else "yellow")
    return out
