"""The default programme (built in; ``configs/default.toml`` carries the same rules).

Rationale and sources of each rule are in the README, section "Programmes":

* sleep onset — ``onset_rocking`` rocks gently while awake in bed, ``onset_rocking_fade``
  fades it out over 10 min once N2 (or deeper) has lasted 5 min; the fade outranks
  ``deep_sleep_hold`` because it only ever takes motion away;
* deep-sleep protection — ``deep_sleep_hold`` keeps bed sections and vibration still in N3
  (with hysteresis); ``cool_after_onset`` cools the surface by 1 °C at sleep onset,
  ``warm_before_wake`` warms it before the wake window;
* arousal response — ``arousal_restore`` returns the bed to the comfort profile over
  10 min, at most once per 30 min;
* smart wake — ``smart_wake_light`` (first N1/N2 epoch in the window),
  ``smart_wake_after_rem`` (end of a REM period in the window) and ``smart_wake_end``
  (the window's end, regardless) share the group ``wake``: one wake per night;
* grip control — ``grip`` (confident intent, decoded force), ``grip_hold`` (rest or a
  rejected window: stop, keep the grip), ``grip_open`` (only a confident open).
"""

from __future__ import annotations

from firmware_host.programme.rules import (
    ActionConfig,
    GuardsConfig,
    RuleConfig,
    TriggerConfig,
)

WAKE_WINDOW = ("06:30", "07:00")
GRIP_LABELS = ("power", "pinch", "tripod", "key", "point")
STILL_IN_N3 = ("mattress.head", "mattress.feet", "mattress.vibration")


def _wake_actions() -> tuple[ActionConfig, ...]:
    return (
        ActionConfig(kind="ramp", target="mattress.vibration", to=40.0, over="5m",
                     step="30s", pattern="wave"),
        ActionConfig(kind="ramp", target="mattress.head", to=30.0, over="5m", step="30s"),
    )


def default_rules() -> tuple[RuleConfig, ...]:
    """The rules of the default programme."""
    wake = GuardsConfig(max_per_night=1, group="wake")
    return (
        RuleConfig(
            name="onset_rocking", priority=10,
            trigger=TriggerConfig(kind="stage", stages=("W", "N1"), min_probability=0.5),
            actions=(ActionConfig(kind="set", target="mattress.vibration", value=15.0,
                                  pattern="wave"),),
            guards=GuardsConfig(max_per_night=1),
        ),
        RuleConfig(  # above deep_sleep_hold: a fade only ever takes motion away
            name="onset_rocking_fade", priority=110,
            trigger=TriggerConfig(kind="stage", stages=("N2", "N3"), min_probability=0.5,
                                  dwell="5m"),
            actions=(ActionConfig(kind="ramp", target="mattress.vibration", to=0.0,
                                  over="10m", step="1m", pattern="wave"),),
            guards=GuardsConfig(max_per_night=1),
        ),
        RuleConfig(
            name="deep_sleep_hold", priority=100,
            trigger=TriggerConfig(kind="stage", stages=("N3",), min_probability=0.5),
            actions=tuple(ActionConfig(kind="hold", target=t) for t in STILL_IN_N3),
            guards=GuardsConfig(exit_probability=0.3),
        ),
        RuleConfig(
            name="cool_after_onset", priority=20,
            trigger=TriggerConfig(kind="sleep_onset"),
            actions=(ActionConfig(kind="ramp", target="mattress.temperature", to=27.0,
                                  over="30m", step="5m"),),
        ),
        RuleConfig(
            name="warm_before_wake", priority=21,
            trigger=TriggerConfig(kind="clock", at="05:45"),
            actions=(ActionConfig(kind="ramp", target="mattress.temperature", to=29.0,
                                  over="45m", step="5m"),),
        ),
        RuleConfig(
            name="arousal_restore", priority=30,
            trigger=TriggerConfig(kind="arousal", stages=("W",), min_probability=0.5),
            actions=(ActionConfig(kind="restore", target="mattress", over="10m", step="1m"),),
            guards=GuardsConfig(min_interval="30m"),
        ),
        RuleConfig(
            name="smart_wake_light", priority=150,
            trigger=TriggerConfig(kind="stage", stages=("N1", "N2"), min_probability=0.5,
                                  window=WAKE_WINDOW),
            actions=_wake_actions(), guards=wake,
        ),
        RuleConfig(
            name="smart_wake_after_rem", priority=151,
            trigger=TriggerConfig(kind="transition", from_stages=("REM",),
                                  to_stages=("W", "N1", "N2"), min_probability=0.5,
                                  window=WAKE_WINDOW),
            actions=_wake_actions(), guards=wake,
        ),
        RuleConfig(
            name="smart_wake_end", priority=200,
            trigger=TriggerConfig(kind="clock", at=WAKE_WINDOW[1]),
            actions=_wake_actions(), guards=wake,
        ),
        RuleConfig(
            name="grip", priority=10,
            trigger=TriggerConfig(kind="intent", labels=GRIP_LABELS, min_probability=0.7,
                                  force_step=0.1),
            actions=(ActionConfig(kind="grip", target="hand"),),
        ),
        RuleConfig(
            name="grip_hold", priority=11,
            trigger=TriggerConfig(kind="intent", labels=("rest", "rejected")),
            actions=(ActionConfig(kind="stop", target="hand"),),
        ),
        RuleConfig(
            name="grip_open", priority=12,
            trigger=TriggerConfig(kind="intent", labels=("open",), min_probability=0.85),
            actions=(ActionConfig(kind="grip", target="hand", grip="open"),),
        ),
    )
