"""systemd notification (``sd_notify``) from the loop: READY, WATCHDOG, STATUS, STOPPING.

The protocol is implemented here rather than through a library. It is one datagram of
newline-separated ``KEY=VALUE`` lines sent over an ``AF_UNIX``/``SOCK_DGRAM`` socket to the
address in ``$NOTIFY_SOCKET`` (a file-system path, or an abstract-namespace name written with
a leading ``@``) — a dozen lines over the standard library. The libraries that wrap it
(``sdnotify``, ``systemd-python``/``cysystemd``) add either an unmaintained package or a C
extension that needs libsystemd headers to build on the Pi, for no extra function we use.
The protocol is specified in ``sd_notify(3)`` and has been stable since systemd 209.

Without ``NOTIFY_SOCKET`` every call is a no-op, so ``somnoloop run`` behaves the same in a
terminal and under systemd.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from firmware_host.runtime.hooks import IterationInfo, RunObserver
from firmware_host.service.nights import ROLLOVER_PREFIX
from firmware_host.service.runview import active_alarms

if TYPE_CHECKING:  # pragma: no cover - typing only
    from firmware_host.runtime.run import Run
    from firmware_host.runtime.summary import RunSummary


class NotifyError(ValueError):
    """``$NOTIFY_SOCKET`` holds an address this implementation cannot use."""


def socket_address(value: str) -> str | bytes:
    """The ``connect`` address for a ``$NOTIFY_SOCKET`` value.

    Parameters
    ----------
    value
        ``/run/systemd/notify`` (a path) or ``@name`` (abstract namespace).

    Raises
    ------
    NotifyError
        For any other form (e.g. systemd 254's ``vsock:`` addresses), naming the allowed ones.
    """
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    raise NotifyError(
        f"NOTIFY_SOCKET={value!r} is not supported; allowed: an absolute socket path "
        "('/run/...') or an abstract name ('@name')"
    )


class Notifier:
    """Sends ``sd_notify`` datagrams; a no-op when the process is not run by systemd.

    Parameters
    ----------
    environ
        Where to read ``NOTIFY_SOCKET``, ``WATCHDOG_USEC`` and ``WATCHDOG_PID``
        (default: :data:`os.environ`).
    pid
        This process's id (compared with ``WATCHDOG_PID``).

    An environment this class cannot use (an unsupported address, a malformed
    ``WATCHDOG_USEC``) disables what it concerns and is kept in :attr:`problem`: a notifier
    never stops a night from being recorded.
    """

    def __init__(self, environ: Mapping[str, str] | None = None, pid: int | None = None) -> None:
        env = os.environ if environ is None else environ
        raw = env.get("NOTIFY_SOCKET", "")
        #: Why notification (or the watchdog) is off despite the environment, or ``""``.
        self.problem = ""
        self.address: str | bytes | None = None
        self.watchdog_s: float | None = None
        try:
            self.address = socket_address(raw) if raw else None
            self.watchdog_s = _watchdog_interval(env, os.getpid() if pid is None else pid)
        except NotifyError as exc:
            self.problem = str(exc)
        self._sock: socket.socket | None = None

    @property
    def enabled(self) -> bool:
        """Whether a notification socket is configured."""
        return self.address is not None

    def send(self, **fields: str | int) -> bool:
        """Send one datagram of ``KEY=value`` lines; return whether it was sent.

        Keys are given as keyword arguments in upper case, e.g. ``send(READY=1, STATUS="…")``.
        Newlines inside a value would start a new field, so they are replaced by spaces.
        """
        if self.address is None:
            return False
        lines = [f"{key}={str(value).replace(chr(10), ' ')}" for key, value in fields.items()]
        if self._sock is None:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._sock.setblocking(False)
        self._sock.sendto("\n".join(lines).encode(), self.address)
        return True

    def close(self) -> None:
        """Close the socket; idempotent."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _watchdog_interval(env: Mapping[str, str], pid: int) -> float | None:
    """``WATCHDOG_USEC`` in seconds when the watchdog is meant for this process, else ``None``."""
    usec = env.get("WATCHDOG_USEC", "")
    if not usec:
        return None
    owner = env.get("WATCHDOG_PID", "")
    if owner and owner != str(pid):
        return None
    try:
        value = int(usec)
    except ValueError:
        raise NotifyError(f"WATCHDOG_USEC={usec!r} must be a whole number of microseconds") from None
    return value / 1e6 if value > 0 else None


def status_line(info: IterationInfo, alarms: list[str] | None = None) -> str:
    """What the loop is doing, in one line for ``systemctl status``.

    Parameters
    ----------
    info
        The iteration; its optional ``extra["stage"]`` is the current sleep stage label.
    alarms
        Codes of the active alarms, or ``None`` when unknown (then nothing is said about them).
    """
    total = int(info.data_s)
    parts = [f"recording {total // 3600:d}:{total % 3600 // 60:02d}:{total % 60:02d} of data"]
    stage = info.extra.get("stage")
    if stage:
        parts.append(f"stage {stage}")
    if alarms is not None:
        parts.append("alarms: " + ", ".join(alarms) if alarms else "no alarms")
    if not info.healthy:
        parts.append("UNHEALTHY")
    return "; ".join(parts)


class SystemdNotifier(RunObserver):
    """A run observer that keeps systemd informed.

    ``READY=1`` when the run is ready (source streaming, actuators answered); ``WATCHDOG=1``
    from the loop thread after an iteration, only while ``info.healthy`` and at most every
    ``WATCHDOG_USEC / 2`` — so a hung or unhealthy loop stops petting and systemd kills and
    restarts it; ``STATUS=`` lines at most every ``status_interval_s`` and whenever health
    changes; ``STOPPING=1`` with the stop reason.

    Parameters
    ----------
    notifier
        The datagram sender (default: one reading the process environment).
    status_interval_s
        Minimum monotonic seconds between two ``STATUS=`` lines.
    monotonic
        The rate limiter's clock (injected in tests). Rates are in real seconds whatever the
        run's clock does: systemd's watchdog counts real time.
    """

    name = "systemd"

    def __init__(self, notifier: Notifier | None = None, *, status_interval_s: float = 5.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        if status_interval_s <= 0:
            raise ValueError(f"status_interval_s must be > 0, got {status_interval_s}")
        self.notifier = Notifier() if notifier is None else notifier
        self.status_interval_s = status_interval_s
        self._monotonic = monotonic
        self._last_pet = -float("inf")
        self._last_status = -float("inf")
        self._last_healthy: bool | None = None
        self._failing = False
        self._ready = False

    def on_opened(self, run: Run) -> None:
        """Say that the run is starting (the source and actuators are being checked).

        Also a pet: when the next night's run opens in the same process, the watchdog keeps
        counting, and opening is progress; a start that then hangs is still caught.

        Raises
        ------
        NotifyError
            When the environment could not be used (journalled as a fault; the run goes on).
        """
        fields: dict[str, str | int] = {"STATUS": "starting: source open, waiting for data and actuators"}
        if self.notifier.watchdog_s is not None:
            fields["WATCHDOG"] = 1
        self._send(**fields)
        if self.notifier.problem:
            raise NotifyError(self.notifier.problem)

    def on_ready(self, run: Run) -> None:
        """``READY=1``: systemd considers the service started from here."""
        self._ready = True
        fields: dict[str, str | int] = {"READY": 1}
        if self.notifier.watchdog_s is not None:
            fields["WATCHDOG"] = 1
            self._last_pet = self._monotonic()
        self._send(STATUS="ready: source streaming, actuators answered", **fields)

    def on_iteration(self, run: Run, info: IterationInfo) -> None:
        """Pet the watchdog while healthy; refresh the status line, rate-limited.

        Before ``on_ready`` the "starting" status stands and nothing else is sent.
        """
        if not self._ready:
            return
        now = self._monotonic()
        fields: dict[str, str | int] = {}
        watchdog_s = self.notifier.watchdog_s
        if info.healthy and watchdog_s is not None and now - self._last_pet >= watchdog_s / 2:
            fields["WATCHDOG"] = 1
            self._last_pet = now
        if info.healthy != self._last_healthy or now - self._last_status >= self.status_interval_s:
            fields["STATUS"] = status_line(info, active_alarms(run))
            self._last_status = now
            self._last_healthy = info.healthy
        if fields:
            self._send(**fields)

    def on_stopping(self, run: Run, reason: str) -> None:
        """``STOPPING=1`` with the reason in the status line — except at a night's roll-over.

        A run that ends because its night ended is followed by the next night's run in the
        same process; ``STOPPING=1`` would make systemd wait for the process to exit and kill
        it after ``TimeoutStopSec``. Then only the status changes (and the watchdog is petted,
        so closing one night and opening the next has a whole watchdog period).
        """
        if reason.startswith(ROLLOVER_PREFIX):
            fields: dict[str, str | int] = {"STATUS": f"{reason}; opening the next night"}
            if self.notifier.watchdog_s is not None:
                fields["WATCHDOG"] = 1
            self._send(**fields)
            return
        self._send(STOPPING=1, STATUS=f"stopping: {reason}")

    def on_closed(self, run: Run, summary: RunSummary) -> None:
        """Release the socket."""
        self.notifier.close()

    def _send(self, **fields: str | int) -> None:
        """Send; a failure is raised once (the hooks journal it as a fault), then muted.

        A notification socket that went away would otherwise fill the journal with one fault
        per iteration; the next successful send re-arms the report.
        """
        try:
            self.notifier.send(**fields)
        except OSError:
            if self._failing:
                return
            self._failing = True
            raise
        self._failing = False
