"""The tuning console: a Textual app speaking the control protocol to a running loop.

Tabs: **Live** (per channel a braille min/max envelope of the last 2, 10 or 30 s — ``-`` and
``+`` choose — over a time axis, with its height in µV (a railed or flat channel: the level
it sits at) and quality flag; stage and probabilities (before the first epoch: when it
comes), hypnogram, band powers, EMG intent and envelope, alarms), **Devices** (each
actuator's commanded vs reported state, the recent commands, actions, suppressions and safe
states), **Params** (every parameter with its value, range and whether it is live; edit,
undo, save) and **Journal** (every change, refusal and undo with client, old and new
values). It takes control when nobody holds it and watches otherwise. Laid out for an
80×24 SSH terminal.

Socket I/O runs on a worker thread; messages reach the widgets as Textual messages
(``post_message`` is thread-safe and never waits), so neither the UI nor the reader blocks
on the other, on the loop or on the socket — also while the app shuts down.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Input, Static, TabbedContent, TabPane, Tabs

from firmware_host.console import render
from firmware_host.control.client import BadReply, ControlClient

#: Live state rate asked of the server (Hz).
RATE_HZ = 2.0
#: Width of the signal pane (characters); its traces have :func:`render.trace_columns` columns.
SIGNALS_W = 44
#: Time bases of the traces (seconds), chosen with - and +; the second is the first shown.
SPANS_S = (2.0, 10.0, 30.0)
#: Text rows per channel trace (as many as fit the pane, within these bounds).
TRACE_ROWS = (1, 4)
MODE_SHORT = {"live": "live", "restart": "restart", "read_only": "locked"}


def parse_value(text: str) -> Any:
    """What the engineer typed: JSON when it parses (0.7, true, [1, 2], "x"), else the text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text.strip()


def _range(p: dict[str, Any]) -> str:
    if p.get("choices"):
        return "|".join(str(c) for c in p["choices"])
    lo, hi = p.get("min"), p.get("max")
    if lo is None and hi is None:
        return ""
    return f"{'' if lo is None else f'{lo:g}'}..{'' if hi is None else f'{hi:g}'}"


class ServerMessage(Message):
    """A message from the control socket, or the news that the connection was lost."""

    def __init__(self, data: dict[str, Any] | None, lost: str = "") -> None:
        super().__init__()
        self.data = data
        self.lost = lost


class TuneApp(App[None]):
    """``somnoloop tune``.

    Parameters
    ----------
    client
        A connected :class:`~firmware_host.control.client.ControlClient`.
    watch
        Never take control (look only).
    """

    TITLE = "somnoloop tune"
    CSS = """
    Screen { layout: vertical; }
    #header { height: 1; background: $boost; }
    #message { height: auto; max-height: 3; }
    TabbedContent { height: 1fr; }
    TabPane { padding: 0; }
    #signals { height: 1fr; }
    #right { width: 1fr; height: 1fr; padding-left: 1; }
    .title { text-style: bold; color: $accent; }
    #actuators { height: auto; }
    #params-table { height: 1fr; }
    #param-doc { height: 2; color: $text-muted; }
    #filter, #edit { height: 1; border: none; padding: 0 1; }
    #edit { display: none; background: $warning 20%; }
    #edit.editing { display: block; }
    """
    BINDINGS = [
        Binding("1", "tab('live')", "Live", show=False),
        Binding("2", "tab('devices')", "Devices", show=False),
        Binding("3", "tab('params')", "Params", show=False),
        Binding("4", "tab('journal')", "Journal", show=False),
        Binding("e", "edit", "edit"),
        Binding("u", "undo", "undo"),
        Binding("s", "save", "save"),
        Binding("slash", "filter", "filter"),
        Binding("c", "control", "control"),
        Binding("a", "ack", "ack alarm"),
        Binding("x", "safe_state", "SAFE"),
        Binding("minus", "zoom(1)", "zoom out", show=False),
        Binding("plus,equals_sign", "zoom(-1)", "zoom in", show=False),
        Binding("q", "quit", "quit"),
        Binding("escape", "cancel", "cancel", show=False),
    ]

    def __init__(self, client: ControlClient, *, watch: bool = False) -> None:
        super().__init__()
        self.client = client
        self.look_only = watch
        self.state: dict[str, Any] = {}
        self.params: dict[str, dict[str, Any]] = {}
        self.control = "watching"
        self.message = ""
        self._reader_stop = False
        self._editing: str | None = None
        self._filter = ""
        self._safe_armed = 0.0
        self.span_s = SPANS_S[1]

    # ----------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        yield Static(id="header")
        with TabbedContent(initial="live"):
            with TabPane("1 Live", id="live"), Horizontal():
                yield Static(id="signals")
                with VerticalScroll(id="right"):
                    yield Static(id="stage")
                    yield Static(id="emg")
                    yield Static(id="alarms")
            with TabPane("2 Devices", id="devices"), VerticalScroll():
                yield Static("actuators: commanded / reported", classes="title")
                yield Static(id="actuators")
                yield Static("recent commands, actions, suppressions", classes="title")
                yield Static(id="recent")
            with TabPane("3 Params", id="params"), Vertical():
                yield Input(placeholder="/ filter keys (e.g. dwell, onset_rocking, flat_uv)", id="filter")
                yield DataTable(id="params-table", cursor_type="row", zebra_stripes=True)
                yield Static(id="param-doc")
            with TabPane("4 Journal", id="journal"), VerticalScroll():
                yield Static(id="journal-log")
        yield Input(id="edit", disabled=True)
        yield Static(id="message")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#signals", Static).styles.width = SIGNALS_W
        table = self.query_one("#params-table", DataTable)
        table.add_column("key", key="key", width=36)
        table.add_column("value", key="value", width=16)
        table.add_column("range", key="range", width=12)
        table.add_column("mode", key="mode", width=7)
        self._show_header()
        self._focus_for("live")
        self._subscribe()
        self.client.send({"op": "params"})
        if not self.look_only:
            self.client.send({"op": "take_control"})
        # a plain daemon thread, not a Textual worker: shutting the app down never waits on it
        threading.Thread(target=self._read_loop, name="tune-reader", daemon=True).start()

    def _subscribe(self) -> None:
        self.client.send({"op": "subscribe", "rate_hz": RATE_HZ, "span_s": self.span_s,
                          "points": render.trace_columns(SIGNALS_W), "envelope": True})

    def on_unmount(self) -> None:
        self._reader_stop = True

    # ----------------------------------------------------------------- socket thread
    def _read_loop(self) -> None:
        while not self._reader_stop:
            try:
                msg = self.client.read_message(0.25)
            except BadReply as exc:  # that line is skipped; the connection reads on
                self.post_message(ServerMessage({"type": "error", "code": exc.code, "error": str(exc)}))
                continue
            except (ConnectionError, OSError) as exc:
                self.post_message(ServerMessage(None, lost=str(exc)))
                return
            if msg is not None:
                self.post_message(ServerMessage(msg))

    def on_server_message(self, event: ServerMessage) -> None:
        """A message from the reader thread (UI thread)."""
        if event.data is None:
            self._disconnected(event.lost)
        else:
            self.handle(event.data)

    def _disconnected(self, why: str) -> None:
        self.control = "DISCONNECTED"
        self.say(f"connection lost: {why}", error=True)
        self._show_header()

    # ----------------------------------------------------------------- messages
    def handle(self, msg: dict[str, Any]) -> None:
        """Dispatch one server message (UI thread)."""
        kind = msg.get("type")
        if kind == "state":
            self.state = msg
            self._show_state()
        elif kind == "params":
            self.params = {p["key"]: p for p in msg["params"]}
            self._fill_table()
        elif kind == "control":
            me = msg.get("controller") == self.client.hello.get("client")
            self.control = "CONTROL" if me else "watching"
            self._show_header()
        elif kind == "result":
            self._result(msg)
        elif kind == "error":
            if msg.get("code") == "control_held":
                self.control = "watching (held)"
                self._show_header()
            self.say(f"{msg.get('op') or msg.get('code')}: {msg.get('error')}", error=True)
        elif kind == "closed":
            self.say(f"the run ended: {msg.get('reason')}", error=True)

    def _result(self, msg: dict[str, Any]) -> None:
        r = msg.get("result") or {}
        op = msg.get("op")
        if op in ("set", "undo"):
            key = r["key"]
            if key in self.params:
                self.params[key]["value"] = r["new"]
                self._update_row(key)
            self.say(f"{op}: {key} {json.dumps(r['old'])} → {json.dumps(r['new'])} "
                     f"({', '.join(r.get('applied_to') or []) or 'not used by this run'})")
        elif op == "save":
            self.say(f"saved {len(r.get('overrides', {}))} override(s) to {r.get('path')}")
        else:
            self.say(f"{op}: ok")

    def say(self, text: str, *, error: bool = False) -> None:
        """Show one line in the message bar."""
        self.message = text
        self.query_one("#message", Static).update(Text(text, style="bold red" if error else "green"))

    # ----------------------------------------------------------------- panes
    def _show_header(self) -> None:
        self.query_one("#header", Static).update(render.header(self.state, self.control))

    def _show_state(self) -> None:
        s = self.state
        self._show_header()
        pane = self.query_one("#signals", Static)
        n = max(1, len(s.get("channels") or []))
        rows = (pane.size.height - 2) // n if pane.size.height else 2  # less the time base and axis
        pane.update(render.signals(s, SIGNALS_W, min(max(rows, TRACE_ROWS[0]), TRACE_ROWS[1])))
        self.query_one("#stage", Static).update(render.stage(s, 34))
        self.query_one("#emg", Static).update(render.emg(s, 34))
        self.query_one("#alarms", Static).update(render.alarms(s, 34))
        self.query_one("#actuators", Static).update(render.actuators(s, 78))
        self.query_one("#recent", Static).update(render.recent(s, 78, 12))
        lines = [render.journal_line(e) for e in s.get("journal") or []]
        self.query_one("#journal-log", Static).update(
            Text("\n".join(lines) if lines else "no change yet", style="" if lines else "dim"))

    def _fill_table(self) -> None:
        table = self.query_one("#params-table", DataTable)
        table.clear()
        order = {"live": 0, "restart": 1, "read_only": 2}  # what can change now comes first
        for key, p in sorted(self.params.items(), key=lambda kv: order[kv[1]["mode"]]):
            if self._filter and self._filter not in key:
                continue
            table.add_row(*self._cells(p), key=key)
        self._show_doc()

    def _cells(self, p: dict[str, Any]) -> tuple[Any, ...]:
        style = {"live": "green", "restart": "dim", "read_only": "red"}[p["mode"]]
        key = p["key"] if len(p["key"]) <= 36 else "…" + p["key"][-35:]  # the end says most
        return (Text(key, style=style), json.dumps(p["value"])[:16], _range(p)[:12],
                Text(MODE_SHORT[p["mode"]], style=style))

    def _update_row(self, key: str) -> None:
        table = self.query_one("#params-table", DataTable)
        if key in table.rows:
            table.update_cell(key, "value", json.dumps(self.params[key]["value"])[:16])
        self._show_doc()

    def _selected(self) -> str | None:
        table = self.query_one("#params-table", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def _show_doc(self) -> None:
        key = self._selected()
        p = self.params.get(key or "")
        doc = self.query_one("#param-doc", Static)
        if p is None:
            doc.update("")
            return
        unit = f" [{p['unit']}]" if p.get("unit") else ""
        doc.update(Text(f"{p['key']} = {json.dumps(p['value'])}{unit}: {p.get('doc') or ''}\n"
                        f"{p['mode']}: {p['applied']}"))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Show the highlighted parameter's doc."""
        self._show_doc()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter the parameter table as the engineer types."""
        if event.input.id == "filter":
            self._filter = event.value.strip()
            self._fill_table()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Filter: go to the table. Edit: send the new value."""
        if event.input.id == "filter":
            self.query_one("#params-table", DataTable).focus()
            self.query_one("#params-table", DataTable).move_cursor(row=0)
        elif event.input.id == "edit" and self._editing:
            key, self._editing = self._editing, None
            self.client.send({"op": "set", "key": key, "value": parse_value(event.value)})
            self._end_edit()

    # ----------------------------------------------------------------- actions
    def action_tab(self, tab: str) -> None:
        """Show a tab."""
        self.query_one(TabbedContent).active = tab
        self._focus_for(tab)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """Keys go to the table on Params and to the tab bar elsewhere (never to an input)."""
        self._focus_for(event.pane.id or "")

    def _focus_for(self, tab: str) -> None:
        if self._editing or isinstance(self.focused, Input):
            return  # typing in the filter or the edit line: leave the keys there
        if tab == "params":
            self.query_one("#params-table", DataTable).focus()
        else:
            self.query_one(Tabs).focus()

    def action_filter(self) -> None:
        """Focus the parameter filter."""
        self.query_one(TabbedContent).active = "params"
        self.query_one("#filter", Input).focus()

    def action_edit(self) -> None:
        """Edit the highlighted parameter (Enter applies, Escape cancels)."""
        self.action_tab("params")
        key = self._selected()
        if key is None:
            self.say("no parameter selected (press / to filter)", error=True)
            return
        p = self.params[key]
        if p["mode"] != "live":
            self.say(f"{key}: {p['applied']}", error=True)
            return
        self._editing = key
        edit = self.query_one("#edit", Input)
        edit.value = json.dumps(p["value"])
        edit.placeholder = f"{key} ({_range(p)})"
        edit.disabled = False
        edit.add_class("editing")
        edit.focus()
        self.say(f"editing {key}: Enter applies, Escape cancels")

    def _end_edit(self) -> None:
        edit = self.query_one("#edit", Input)
        edit.remove_class("editing")
        edit.disabled = True
        self.query_one("#params-table", DataTable).focus()

    def action_cancel(self) -> None:
        """Leave the edit line without applying."""
        if self._editing:
            self._editing = None
            self._end_edit()
            self.say("edit cancelled")

    def action_zoom(self, step: int) -> None:
        """Show a longer (``step`` 1) or shorter (-1) time base in the signal traces."""
        i = min(max(SPANS_S.index(self.span_s) + step, 0), len(SPANS_S) - 1)
        self.span_s = SPANS_S[i]
        self._subscribe()
        self.say(f"traces: the last {self.span_s:g} s")

    def action_undo(self) -> None:
        """Revert the last change."""
        self.client.send({"op": "undo"})

    def action_save(self) -> None:
        """Write the changes to the override file (loaded at the next start)."""
        self.client.send({"op": "save"})

    def action_control(self) -> None:
        """Take control (or release it when held)."""
        op = "release_control" if self.control == "CONTROL" else "take_control"
        self.client.send({"op": op})

    def action_ack(self) -> None:
        """Acknowledge the most urgent alarm not yet acknowledged."""
        pending = [a for a in self.state.get("alarms") or [] if not a.get("acknowledged")]
        if not pending:
            self.say("no alarm to acknowledge")
            return
        self.client.send({"op": "ack_alarm", "code": pending[0]["code"]})

    def action_safe_state(self) -> None:
        """Every actuator to its safe state (x twice within 3 s: one stray key does not
        hold the night's programme)."""
        now = time.monotonic()
        if now - self._safe_armed > 3.0:
            self._safe_armed = now
            self.say("press x again within 3 s to send every actuator to its safe state", error=True)
            return
        self._safe_armed = 0.0
        self.span_s = SPANS_S[1]
        self.client.send({"op": "safe_state"})

    async def action_quit(self) -> None:
        """Leave the console (the loop goes on)."""
        self._reader_stop = True
        self.exit()
