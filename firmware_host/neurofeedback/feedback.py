"""The default feedback mapping: a neurofeedback decision → actuator commands.

``configs/neurofeedback.toml`` drives the vibration through two programme rules on the
decisions' ``details.reward``; :func:`feedback_commands` is the same default mapping as a
function, for a caller that maps decisions directly (and for a feedback LED, which the
programme has no output for). Every command it returns still passes the safety layer, which
clamps intensities to ``[safety]`` and refuses unknown targets. Only decisions of a training
block (``details["feedback"]``) give feedback; all others (baseline, rest, transfer, after
the plan) switch it off, so a trainee is never rewarded outside training.

* vibration (the GPIO ``vibration`` motor or the ``mattress`` vibration): a ``pulse`` at
  ``vibration_intensity`` while rewarded, ``off`` otherwise;
* an optional feedback LED (``led_target``): ``set_color`` with the reward colour, brighter
  the further the feature is past the threshold, or the idle colour.

:class:`FeedbackChanges` wraps the mapping so a command is sent only when it differs from
the last one sent to that target (4 updates a second would otherwise resend the same state).
"""

from __future__ import annotations

from typing import Any

from actuators.base import Command
from firmware_host.decision import Decision
from firmware_host.neurofeedback.config import FeedbackOutputsConfig

#: Brightness of the reward colour at the threshold; full at 50 % past it.
MIN_BRIGHTNESS = 0.3
FULL_MARGIN = 0.5


def _margin(details: dict[str, Any]) -> float:
    """How far past the threshold the feature is, as a fraction of the threshold."""
    feature, threshold = details.get("feature"), details.get("threshold")
    if feature is None or not threshold:
        return 0.0
    return abs(feature - threshold) / abs(threshold)


def feedback_commands(decision: Decision, outputs_cfg: FeedbackOutputsConfig) -> list[Command]:
    """Commands expressing one ``neurofeedback`` decision (empty for other kinds).

    Parameters
    ----------
    decision
        A decision of :class:`~firmware_host.neurofeedback.stage.NeurofeedbackStage`.
    outputs_cfg
        ``[neurofeedback.outputs]``.

    Returns
    -------
    list of Command
        One per configured output, in the order vibration, LED.
    """
    if decision.kind != "neurofeedback":
        return []
    rewarded = decision.label == "reward" and bool(decision.details.get("feedback"))
    commands = []
    if outputs_cfg.vibration_target:
        params = ({"intensity": outputs_cfg.vibration_intensity, "pattern": "pulse"} if rewarded
                  else {"intensity": 0.0, "pattern": "off"})
        commands.append(Command(outputs_cfg.vibration_target, "set_vibration", params))
    if outputs_cfg.led_target:
        if rewarded:
            level = MIN_BRIGHTNESS + (1 - MIN_BRIGHTNESS) * min(1.0, _margin(decision.details) / FULL_MARGIN)
            rgb = [round(c * level, 3) for c in outputs_cfg.led_reward_rgb]
        else:
            rgb = list(outputs_cfg.led_idle_rgb)
        commands.append(Command(outputs_cfg.led_target, "set_color", {"rgb": rgb}))
    return commands


class FeedbackChanges:
    """:func:`feedback_commands`, passing on only what changed per target.

    Parameters
    ----------
    outputs_cfg
        ``[neurofeedback.outputs]``.
    """

    def __init__(self, outputs_cfg: FeedbackOutputsConfig) -> None:
        self.outputs_cfg = outputs_cfg
        self._last: dict[str, Command] = {}

    def reset(self) -> None:
        """Forget what was sent (after a safe state, resend everything)."""
        self._last.clear()

    def update(self, decisions: list[Decision]) -> list[Command]:
        """Commands for a batch of decisions, without repeats of the current state."""
        out = []
        for decision in decisions:
            for command in feedback_commands(decision, self.outputs_cfg):
                if self._last.get(command.target) != command:
                    self._last[command.target] = command
                    out.append(command)
        return out
