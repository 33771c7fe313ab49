"""Pure rendering of control-protocol ``state`` messages into rich text (no Textual here).

Each function takes plain data and a width and returns :class:`rich.text.Text`, so the
panes are tested without a terminal and stay readable at 80 columns.
"""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text

SPARK = "▁▂▃▄▅▆▇█"
STAGE_STYLE = {"W": "bold yellow", "N1": "cyan", "N2": "blue", "N3": "bold magenta",
               "REM": "bold green", "unscorable": "dim"}
STAGE_CHAR = {"W": "W", "N1": "1", "N2": "2", "N3": "3", "REM": "R", "unscorable": "?"}
PRIORITY_STYLE = {"high": "bold white on red", "medium": "bold black on yellow", "low": "cyan"}
SHORT_TYPE = {"eeg": "eeg", "eog": "eog", "emg": "emg", "forearm_emg": "fa"}
RECENT_LABEL = {"command": "cmd", "action": "act", "suppressed": "supp", "safe_state": "safe",
                "fault": "FAULT", "alarm": "alarm", "gap": "gap"}
BAND_SYMBOL = {"delta": "δ", "theta": "θ", "alpha": "α", "sigma": "σ", "beta": "β"}


def sparkline(values: list[float], width: int) -> str:
    """``values`` resampled to ``width`` characters of ▁…█ (scaled to their own range)."""
    if not values or width <= 0:
        return " " * max(width, 0)
    n = len(values)
    picked = [values[min(n - 1, int(i * n / width))] for i in range(width)] if n >= width else values
    lo, hi = min(picked), max(picked)
    span = hi - lo
    if span <= 0:
        return SPARK[0] * len(picked)
    return "".join(SPARK[min(7, int(8 * (v - lo) / span))] for v in picked)


def signals(state: dict[str, Any], width: int) -> Text:
    """One line per channel: name, type, trace, peak-to-peak and quality flags."""
    out = Text()
    channels = state.get("channels") or []
    if not channels:
        return Text("waiting for data…", style="dim")
    trace_w = max(8, width - 27)  # name 7, type 3, ptp 10, flag 5, spaces
    for ch in channels:
        flags = ch.get("flags") or []
        style = "red" if flags else "green"
        out.append(f"{ch['name'][:7]:<7} {SHORT_TYPE.get(ch['type'], ch['type'])[:3]:<3} ")
        out.append(sparkline(ch.get("trace") or [], trace_w), style=style)
        out.append(f" {ch.get('ptp_uv', 0):>6.0f}µV ")
        out.append(flags[0][:4] + ("+" if len(flags) > 1 else "") if flags else "ok", style=style)
        out.append("\n")
    out.rstrip()
    return out


def stage(state: dict[str, Any], width: int) -> Text:
    """Current stage with its probabilities, the hypnogram so far, and band powers."""
    out = Text()
    label = state.get("stage")
    out.append("stage ", style="bold")
    out.append(f"{label or '—'}", style=STAGE_STYLE.get(label or "", "dim"))
    if state.get("stage_provisional"):
        out.append(" (provisional)", style="dim")
    out.append("\n")
    probs = state.get("stage_probabilities") or {}
    for i, (name, p) in enumerate(probs.items()):  # "W:5 N1:10 N2:70 N3:10 REM:5" (%)
        style = STAGE_STYLE.get(name, "")
        out.append(("" if i == 0 else " ") + f"{name}:{100 * p:.0f}",
                   style=f"bold underline {style}" if name == label else style)
    if probs:
        out.append(" %\n" if len(out.plain.splitlines()[-1]) <= width - 2 else "\n")
    out.append_text(hypnogram(state.get("hypnogram") or [], width, state.get("epoch_s")))
    for ch, bands in (state.get("band_powers") or {}).items():
        if bands:
            out.append(f"\n{ch[:5]:<5} " + " ".join(f"{BAND_SYMBOL[b]}{v:.0f}" for b, v in bands.items()))
    return out


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
