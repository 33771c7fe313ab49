"""``ControlServer``: the control socket of a running loop (a run observer with an I/O thread).

The socket is a Unix-domain stream socket only (never a network listener), created with
mode 0600 — or 0660 and the configured group. One thread serves every client with
non-blocking I/O; it never calls into the loop: changes go through ``Run.submit`` (applied
by the loop between two iterations and journalled), live state comes from snapshots the
loop takes in ``on_iteration`` and from the session journal. A slow, silent, flooding or
dead client costs the loop nothing. The rules (one controller, many watchers; size and
time limits) are in PROTOCOL.md.
"""

from __future__ import annotations

import contextlib
import dataclasses
import grp
import itertools
import os
import queue
import selectors
import socket
import stat
import struct
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firmware_host import __version__
from firmware_host.config import Config
from firmware_host.control import protocol as P
from firmware_host.control.changes import ChangeManager
from firmware_host.control.params import ParamError, get_value, mode_of, param_specs
from firmware_host.control.snapshot import LoopSnapshotter
from firmware_host.control.state import CpuMeter, build_state
from firmware_host.control.tail import JournalTail
from firmware_host.control.tap import TraceTap
from firmware_host.control.views import TraceView
from firmware_host.errors import UsageError
from firmware_host.runtime.hooks import IterationInfo, RunObserver
from firmware_host.session.recorder import EVENTS

#: Seconds between journal polls while clients are connected.
TAIL_INTERVAL_S = 0.2
#: Wall seconds between snapshots while any client is connected but none subscribed faster.
IDLE_SNAPSHOT_S = 1.0
#: A ``status`` request waits at most this long for a fresh snapshot.
STATUS_WAIT_S = 2.0
#: The I/O thread rests this many times as long as it worked in a round (it then holds the
#: interpreter lock at most 1/(1+REST_PER_WORK) of the time, however hard clients flood it).
REST_PER_WORK = 4.0
#: The longest rest after one round, so a reply is never held back for long.
MAX_REST_S = 0.1


@dataclass
class _Client:
    sock: socket.socket
    name: str
    inbuf: bytearray = field(default_factory=bytearray)
    outbuf: bytearray = field(default_factory=bytearray)
    partial_since: float | None = None
    rate_hz: float = 0.0
    view: TraceView = TraceView(traces=True)
    next_state: float = 0.0
    closing: bool = False


def prepare_socket_path(path: Path) -> None:
    """Remove a stale socket file at ``path``; refuse one that is live or not a socket.

    Raises
    ------
    UsageError
        Another process listens there, the path is not a socket or is too long for one.
    """
    P.check_socket_path(path, "--control-socket")
    if not path.exists() and not path.is_symlink():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--control-socket {path}: cannot create its folder {path.parent} "
                             f"({exc.strerror}); allowed: a path in a writable folder") from None
        return
    if not stat.S_ISSOCK(path.lstat().st_mode):
        raise UsageError(f"--control-socket {path}: exists and is not a socket; choose another path")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        path.unlink()  # stale: nobody listens
        return
    finally:
        probe.close()
    raise UsageError(f"--control-socket {path}: another somnoloop is listening there")


class ControlServer(RunObserver):
    """Serves the control protocol for one run.

    Parameters
    ----------
    path
        Socket path.
    base_config
        The config file's config (``save`` writes the differences from it).
    overrides_path
        Override file for ``save`` (``None`` refuses ``save``).
    group
        Group allowed to connect (mode 0660); ``""`` for owner only (0600).
    """

    name = "control"

    def __init__(self, path: str | Path, base_config: Config | None = None, *,
                 overrides_path: str | Path | None = None, group: str = "") -> None:
        self.path = Path(path)
        self.group = group
        self._base = base_config
        self._overrides_path = Path(overrides_path) if overrides_path else None
        self.tap = TraceTap(keep_s=P.MAX_SPAN_S)
        self.snapshots = LoopSnapshotter(self.tap)
        self.changes: ChangeManager | None = None
        self._run: Any = None
        self._sock: socket.socket | None = None
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._replies: queue.SimpleQueue[tuple[_Client, dict[str, Any]]] = queue.SimpleQueue()
        self._clients: dict[int, _Client] = {}
        self._controller: _Client | None = None
        self._status_waiting: list[tuple[_Client, Any, float]] = []
        self._tail: JournalTail | None = None
        self._cpu = CpuMeter()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)
        self._run_info: dict[str, Any] = {}
        self._closed_reason = ""
        self._params: list[dict[str, Any]] = []
        self._params_for: Config | None = None

    # ----------------------------------------------------------------- run hooks
    def on_opened(self, run: Any) -> None:
        """Put the trace tap first in the chain, bind the socket, start the I/O thread."""
        self._run = run
        base = self._base if self._base is not None else run.config
        self.changes = ChangeManager(run, base, run.config, self._overrides_path)
        run.controller.pipeline.stages.insert(0, self.tap)
        self._run_info = {k: v for k, v in run.describe().items() if k != "unavailable"}
        self._tail = JournalTail(Path(run.session_dir) / EVENTS)
        if self._sock is None:
            self.listen()
        self._thread = threading.Thread(target=self._serve, name="somnoloop-control", daemon=True)
        self._thread.start()

    def on_iteration(self, run: Any, info: IterationInfo) -> None:
        """Latency figures always; a snapshot when a client wants one (loop thread)."""
        self.snapshots.on_iteration(run, info)

    def on_stopping(self, run: Any, reason: str) -> None:
        """Remember why the run ends (told to clients when the socket closes)."""
        self._closed_reason = reason

    def on_closed(self, run: Any, summary: Any) -> None:
        """Tell clients, stop the thread, remove the socket file."""
        self.close()

    # ----------------------------------------------------------------- socket
    def listen(self) -> None:
        """Create the socket (before the run opens, so a bad path fails the start loudly).

        Raises
        ------
        UsageError
            The path is in use, not a socket, or cannot be created; the group is unknown.
        """
        prepare_socket_path(self.path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # created 0600: never a moment with wider permissions
        try:
            sock.bind(str(self.path))
        except OSError as exc:
            sock.close()
            raise UsageError(f"--control-socket {self.path}: cannot listen "
                             f"({exc.strerror or exc})") from None
        finally:
            os.umask(old)
        if self.group:
            try:
                os.chown(self.path, -1, grp.getgrnam(self.group).gr_gid)
            except (KeyError, PermissionError) as exc:
                sock.close()
                self.path.unlink(missing_ok=True)
                raise UsageError(f"control.group = {self.group!r}: cannot give the socket to "
                                 f"that group ({exc})") from None
            os.chmod(self.path, 0o660)
        sock.listen(P.MAX_CLIENTS)
        sock.setblocking(False)
        self._sock = sock
        self._sel.register(sock, selectors.EVENT_READ, "listen")
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")

    def close(self) -> None:
        """Stop serving (idempotent): a ``closed`` message to every client, socket removed."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        for client in list(self._clients.values()):
            with contextlib.suppress(OSError):
                client.sock.setblocking(True)
                client.sock.settimeout(0.2)
                client.sock.sendall(bytes(client.outbuf) + P.encode(
                    {"type": "closed", "reason": self._closed_reason or "run closed"}))
            self._drop(client)
        if self._sock is not None:
            self._sel.unregister(self._sock)
            self._sock.close()
            self._sock = None
            self.path.unlink(missing_ok=True)
        if self._tail is not None:
            self._tail.close()
        for s in (self._wake_r, self._wake_w):
            s.close()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    # ----------------------------------------------------------------- I/O thread
    def _serve(self) -> None:
        """Serve every client until stopped; after each round, rest in proportion to the work
        it took, so a flood of requests cannot starve the loop thread of the interpreter lock
        (the flooding client's replies wait, its socket buffers fill and its sends block)."""
        last_tail = 0.0
        while not self._stop.is_set():
            events = self._sel.select(timeout=0.05)
            work_from = time.monotonic()
            self._serve_round(events)
            now = time.monotonic()
            if self._clients and now - last_tail >= TAIL_INTERVAL_S and self._tail is not None:
                self._tail.poll()
                last_tail = now
            self._timeouts(now)
            self._publish(now)
            self._want_snapshots()
            rest = min(MAX_REST_S, REST_PER_WORK * (time.monotonic() - work_from))
            if rest > 0.001:
                self._stop.wait(rest)

    def _serve_round(self, events: list[tuple[selectors.SelectorKey, int]]) -> None:
        """Accept, read and write what ``select`` found ready, then send the loop's replies."""
        for key, mask in events:
            if key.data == "listen":
                self._accept()
            elif key.data == "wake":
                with contextlib.suppress(OSError):
                    self._wake_r.recv(4096)
            else:
                client = key.data
                if mask & selectors.EVENT_READ:
                    self._read(client)
                if mask & selectors.EVENT_WRITE and not client.closing:
                    self._flush(client)
        while True:
            try:
                client, reply = self._replies.get_nowait()
            except queue.Empty:
                break
            self._send(client, reply)

    def _accept(self) -> None:
        assert self._sock is not None  # noqa: S101 - registered only while bound
        try:
            conn, _ = self._sock.accept()
        except OSError:
            return
        conn.setblocking(False)
        name = f"pid{_peer_pid(conn)}#{next(self._ids)}"
        client = _Client(conn, name)
        if len(self._clients) >= P.MAX_CLIENTS:
            with contextlib.suppress(OSError):
                conn.send(P.encode(P.error("too_many_clients",
                                           f"{P.MAX_CLIENTS} clients are connected already")))
            conn.close()
            return
        self._clients[conn.fileno()] = client
        self._sel.register(conn, selectors.EVENT_READ, client)

    def _read(self, client: _Client) -> None:
        try:
            data = client.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._drop(client)
            return
        client.inbuf += data
        while not client.closing:
            nl = client.inbuf.find(b"\n")
            if nl < 0:
                break
            line = bytes(client.inbuf[:nl])
            del client.inbuf[:nl + 1]
            if nl + 1 > P.MAX_REQUEST_BYTES:
                self._fail(client, "too_large", f"request of {nl + 1} bytes; the limit is "
                           f"{P.MAX_REQUEST_BYTES} bytes per line")
                return
            if line.strip():
                self._handle_line(client, line)
        if len(client.inbuf) >= P.MAX_REQUEST_BYTES:
            self._fail(client, "too_large", f"request longer than {P.MAX_REQUEST_BYTES} bytes "
                       "without a newline")
            return
        client.partial_since = (client.partial_since or time.monotonic()) if client.inbuf else None

    def _timeouts(self, now: float) -> None:
        for client in list(self._clients.values()):
            if client.partial_since is not None and now - client.partial_since > P.REQUEST_TIMEOUT_S:
                self._fail(client, "timeout", f"request not completed by a newline within "
                           f"{P.REQUEST_TIMEOUT_S:g} s")

    def _fail(self, client: _Client, code: str, message: str) -> None:
        """Error reply, then close: after a broken line the stream cannot be trusted."""
        self._send(client, P.error(code, message))
        client.closing = True
        with contextlib.suppress(OSError):
            client.sock.send(bytes(client.outbuf))
        self._drop(client)

    def _send(self, client: _Client, message: dict[str, Any]) -> None:
        if client.closing or client.sock.fileno() < 0:
            return
        client.outbuf += P.encode(message)
        if len(client.outbuf) > P.MAX_PENDING_OUT:
            client.closing = True  # a stuck reader: drop it rather than grow without bound
            self._drop(client)
            return
        self._flush(client)

    def _flush(self, client: _Client) -> None:
        try:
            n = client.sock.send(client.outbuf)
        except BlockingIOError:
            n = 0
        except OSError:
            self._drop(client)
            return
        del client.outbuf[:n]
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if client.outbuf else 0)
        with contextlib.suppress(KeyError, ValueError):
            self._sel.modify(client.sock, events, client)

    def _drop(self, client: _Client) -> None:
        client.closing = True
        if self._controller is client:
            self._controller = None
        fd = client.sock.fileno()
        self._clients.pop(fd, None)
        with contextlib.suppress(KeyError, ValueError):
            self._sel.unregister(client.sock)
        client.sock.close()

    # ----------------------------------------------------------------- requests
    def _handle_line(self, client: _Client, line: bytes) -> None:
        req_id = None
        try:
            msg = P.decode_request(line)
            req_id = msg.get("id")
            reply = getattr(self, f"_op_{msg['op']}")(client, msg)
        except P.ProtocolError as exc:
            reply = P.error(exc.code, exc.message, req_id)
        except ParamError as exc:
            reply = P.error("bad_param", str(exc), req_id)
        if reply is not None:
            self._send(client, {**reply, "id": req_id})

    def _op_hello(self, client: _Client, msg: dict[str, Any]) -> dict[str, Any]:
        version = msg.get("version", P.VERSION)
        if version != P.VERSION:
            raise P.ProtocolError("version", f"protocol version {version!r} not served; "
                                  f"this server speaks {P.VERSION}")
        if isinstance(msg.get("name"), str) and msg["name"]:
            client.name = f"{msg['name'][:40]}@{client.name}"
        return {"type": "hello", "version": P.VERSION, "server": f"somnoloop {__version__}",
                "client": client.name, "controller": self._holder(), "ops": P.OPS,
                "run": self._run_info,
                "limits": {"max_request_bytes": P.MAX_REQUEST_BYTES,
                           "request_timeout_s": P.REQUEST_TIMEOUT_S,
                           "rate_hz": [P.MIN_RATE_HZ, P.MAX_RATE_HZ], "max_clients": P.MAX_CLIENTS,
                           "span_s": [P.MIN_SPAN_S, P.MAX_SPAN_S],
                           "points": [P.MIN_POINTS, P.MAX_POINTS]}}

    def _op_subscribe(self, client: _Client, msg: dict[str, Any]) -> dict[str, Any]:
        rate = _number(msg, "rate_hz", 2.0, P.MIN_RATE_HZ, P.MAX_RATE_HZ)
        client.view = TraceView(
            traces=bool(msg.get("traces", True)),
            points=int(_number(msg, "points", P.DEFAULT_POINTS, P.MIN_POINTS, P.MAX_POINTS)),
            span_s=_number(msg, "span_s", P.DEFAULT_SPAN_S, P.MIN_SPAN_S, P.MAX_SPAN_S),
            envelope=bool(msg.get("envelope", False)))
        client.rate_hz = rate
        client.next_state = 0.0
        return {"type": "subscribed", "rate_hz": rate, **dataclasses.asdict(client.view)}

    def _op_unsubscribe(self, client: _Client, msg: dict[str, Any]) -> dict[str, Any]:
        client.rate_hz = 0.0
        return {"type": "unsubscribed"}

    def _op_status(self, client: _Client, msg: dict[str, Any]) -> None:
        self._status_waiting.append((client, msg.get("id"), time.monotonic()))
        return None

    def _op_params(self, client: _Client, msg: dict[str, Any]) -> dict[str, Any]:
        cfg = self._current()
        if self._params_for is not cfg:  # ~60 ms of Python for 600 keys: once per config
            self._params = [s.to_json() | {"value": get_value(cfg, s.key)} for s in param_specs(cfg)]
            self._params_for = cfg
        return {"type": "params", "params": self._params}

    def _op_get(self, client: _Client, msg: dict[str, Any]) -> dict[str, Any]:
        key = _key(msg)
        mode, how = mode_of(key)
        return {"type": "value", "key": key, "value": get_value(self._current(), key),
                "mode": mode, "applied": how}

    def _op_take_control(self, client: _Client, msg: dict[str, Any]) -> dict[str, Any]:
        if self._controller is not None and self._controller is not client:
            raise P.ProtocolError("control_held", f"control is held by {self._controller.name}; "
                                  "watch, or wait until it releases control or disconnects")
        self._controller = client
        return {"type": "control", "controller": client.name}

    def _op_release_control(self, client: _Client, msg: dict[str, Any]) -> dict[str, Any]:
        if self._controller is client:
            self._controller = None
        return {"type": "control", "controller": self._holder()}

    def _op_set(self, client: _Client, msg: dict[str, Any]) -> None:
        key = _key(msg)
        if "value" not in msg:
            raise P.ProtocolError("bad_request", "set needs 'key' and 'value'")
        return self._submit(client, msg, "set", {"key": key, "value": msg["value"]},
                            lambda c: c.set(key, msg["value"], client.name))

    def _op_undo(self, client: _Client, msg: dict[str, Any]) -> None:
        return self._submit(client, msg, "undo", {}, lambda c: c.undo(client.name))

    def _op_save(self, client: _Client, msg: dict[str, Any]) -> None:
        return self._submit(client, msg, "save", {}, lambda c: c.save())

    def _op_safe_state(self, client: _Client, msg: dict[str, Any]) -> None:
        return self._submit(client, msg, "safe_state", {}, lambda c: c.safe_state(client.name))

    def _op_ack_alarm(self, client: _Client, msg: dict[str, Any]) -> None:
        code = msg.get("code")
        if not isinstance(code, str) or not code:
            raise P.ProtocolError("bad_request", "ack_alarm needs 'code' (an active alarm's code)")
        return self._submit(client, msg, "ack_alarm", {"code": code}, lambda c: c.ack_alarm(code))

    def _submit(self, client: _Client, msg: dict[str, Any], op: str, params: dict[str, Any],
                make: Any) -> None:
        if self._controller is not client:
            holder = self._holder()
            raise P.ProtocolError("not_controller", f"{op} needs control; " + (
                f"it is held by {holder}" if holder else "send take_control first"))
        assert self.changes is not None  # noqa: S101 - set in on_opened
        try:
            future = self._run.submit(op, make(self.changes), client=client.name, params=params)
        except queue.Full:
            raise P.ProtocolError("busy", "too many changes waiting for the loop; retry") from None
        req_id = msg.get("id")
        future.add_done_callback(lambda f: self._done(client, op, req_id, f))
        return None

    def _done(self, client: _Client, op: str, req_id: Any, future: Future[Any]) -> None:
        """Loop thread: hand the outcome to the I/O thread."""
        exc = future.exception()
        if exc is None:
            reply = {"type": "result", "op": op, "id": req_id, "result": future.result()}
        elif isinstance(exc, ValueError):
            reply = P.error("refused", str(exc), req_id) | {"op": op}
        else:
            reply = P.error("failed", f"{type(exc).__name__}: {exc}", req_id) | {"op": op}
        self._replies.put((client, reply))
        self._wake()

    # ----------------------------------------------------------------- live state
    def _publish(self, now: float) -> None:
        snap = self.snapshots.latest
        for client in list(self._clients.values()):
            if client.rate_hz > 0 and now >= client.next_state and snap is not None:
                client.next_state = now + 1.0 / client.rate_hz
                self._send(client, self._state(client.view))
        waiting, self._status_waiting = self._status_waiting, []
        for client, req_id, asked in waiting:
            fresh = snap is not None and snap.wall >= asked
            if fresh or now - asked > STATUS_WAIT_S:
                self._send(client, self._state(TraceView()) | {"id": req_id})
            else:
                self._status_waiting.append((client, req_id, asked))

    def _state(self, view: TraceView) -> dict[str, Any]:
        assert self._tail is not None and self.changes is not None  # noqa: S101 - after on_opened
        return build_state(self.snapshots.latest, self._tail, acknowledged=self.changes.acknowledged,
                           cpu_percent=self._cpu.read(), quality=self.changes.current.quality,
                           view=view, staging=self.changes.current.stager.enabled, run_info=self._run_info)

    def _want_snapshots(self) -> None:
        rates = [c.rate_hz for c in self._clients.values() if c.rate_hz > 0]
        spans = [c.view.span_s for c in self._clients.values() if c.rate_hz > 0 and c.view.traces]
        self.snapshots.span_s = max([P.DEFAULT_SPAN_S, self._current().quality.window_s, *spans])
        if self._status_waiting:
            self.snapshots.interval_s = 0.0
        elif rates:
            self.snapshots.interval_s = 1.0 / max(rates)
        else:
            self.snapshots.interval_s = IDLE_SNAPSHOT_S if self._clients else None

    # ----------------------------------------------------------------- helpers
    def _holder(self) -> str | None:
        return self._controller.name if self._controller is not None else None

    def _current(self) -> Config:
        assert self.changes is not None  # noqa: S101 - after on_opened
        return self.changes.current

    @property
    def n_clients(self) -> int:
        """Connected clients."""
        return len(self._clients)


def _key(msg: dict[str, Any]) -> str:
    key = msg.get("key")
    if not isinstance(key, str) or not key:
        raise P.ProtocolError("bad_request", f"{msg.get('op')} needs 'key' (a dotted parameter name)")
    return key


def _number(msg: dict[str, Any], name: str, default: float, lo: float, hi: float) -> float:
    value = msg.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise P.ProtocolError("bad_request", f"{name} = {value!r}; allowed: a number from {lo:g} to {hi:g}")
    return float(value)


def _peer_pid(conn: socket.socket) -> int:
    try:
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        return struct.unpack("3i", creds)[0]
    except (OSError, AttributeError):
        return 0
