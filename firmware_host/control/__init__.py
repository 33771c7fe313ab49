"""The control channel of a running loop: a local Unix socket speaking newline-delimited JSON.

:class:`~firmware_host.control.server.ControlServer` is a run observer with its own I/O
thread; every change it receives reaches the loop through ``Run.submit`` and is applied
between two iterations. The protocol is documented in ``PROTOCOL.md`` beside this file;
:class:`~firmware_host.control.client.ControlClient` speaks it (``somnoloop status``,
``somnoloop tune``, tests). Kept import-free: the config schema imports ``control.config``.
"""
