"""Sleep microstructure detected on the live stream: spindles and slow oscillations.

Each detector is a stage (one ``update(chunk)``) that passes the chunk through unchanged and
emits decisions the moment it knows something (kind ``"spindle"``, ``"slow_oscillation"``).
(The room is not called ``events``: :mod:`firmware_host.events` is the journal's event
vocabulary.)
"""
