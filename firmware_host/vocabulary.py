"""The loop's shared vocabulary, defined once: sleep stages and grip intents.

The actuators' own names (fingers, grip patterns, zones, vibration patterns) live in
:mod:`actuators.vocabulary`; actuator names come from the device-kind table
(:data:`firmware_host.actuation.kinds.ACTUATOR_NAMES`).
"""

from __future__ import annotations

#: Sleep stages (AASM), in the order of every stage table and probability vector.
STAGES: tuple[str, ...] = ("W", "N1", "N2", "N3", "REM")

#: Classes of the EMG grip decoder (and of the synthetic forearm's truth), in model order:
#: rest and every grip pattern a hand knows.
GRIP_INTENTS: tuple[str, ...] = ("rest", "power", "open", "pinch", "tripod", "key", "point")

#: Decoder labels that mean "no grip intent" (the hand holds what it does).
REST_LABELS: tuple[str, ...] = ("rest", "relax", "none")

#: Decoder label -> hand grip pattern (labels of other datasets included; others are ignored).
GRIP_LABELS: dict[str, str] = {
    "power": "power", "power_grip": "power", "open": "open", "open_hand": "open",
    "pinch": "pinch", "tripod": "tripod", "chuck": "tripod", "chuck_grip": "tripod",
    "key": "key", "lateral": "key", "point": "point", "index_point": "point",
}
