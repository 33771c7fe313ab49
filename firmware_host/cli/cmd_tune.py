"""``somnoloop tune``: the engineer's console on a running loop."""

from __future__ import annotations

import argparse

from firmware_host.control.client import ControlClient, ControlError, default_socket_path
from firmware_host.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``tune`` sub-command."""
    p = sub.add_parser(
        "tune", help="live console of a running loop: signals, stage, actuators, parameters",
        description="Attach to 'somnoloop run --control-socket PATH': watch what the loop sees "
        "and edit live parameters (validated, journalled, undoable, savable as overrides).")
    p.add_argument("--socket", help="control socket (default: $RUNTIME_DIRECTORY/control.sock, "
                   "else ./control.sock)")
    p.add_argument("--watch", action="store_true", help="watch only; never take control")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the console until the engineer quits."""
    from firmware_host.console.app import TuneApp  # Textual loads only for this command

    path = args.socket or str(default_socket_path())
    try:
        client = ControlClient(path, name="tune")
    except (TimeoutError, ConnectionError, ControlError) as exc:  # BadReply included
        raise UsageError(f"{path}: {exc}") from None
    try:
        TuneApp(client, watch=args.watch).run()
    finally:
        client.close()
    return 0
