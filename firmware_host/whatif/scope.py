"""Which part of the loop an edit touches, so replay re-runs only that part.

Each deciding stage owns a config section and the decision kinds it emits. An edit of
``[programme]`` alone replays the recorded decisions through the rule engine; an edit of a
stage's section re-runs that stage over the recorded samples and takes every other
decision from the journal. An edit anywhere else (the source, quality, filters, the loop)
can change what every stage saw, so the whole night is re-run through the loop.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Deciding stage -> (its config sections, the decision kinds it emits).
STAGES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "stager": (("stager",), ("stage",)),
    "emg": (("emg",), ("grip",)),
    "microstructure": (("spindles", "slow_oscillations"), ("spindle", "slow_oscillation")),
    "neurofeedback": (("neurofeedback",),
                      ("neurofeedback", "neurofeedback_phase", "neurofeedback_threshold")),
}
#: Sections replayed by the rule engine alone.
PROGRAMME_SECTIONS = ("programme",)


@dataclass(frozen=True)
class Scope:
    """What a set of edits makes replay re-run.

    Attributes
    ----------
    stages
        Deciding stages re-run over the recorded samples (names of :data:`STAGES`).
    full
        Re-run the whole night through the loop (an edit outside the deciding stages).
    quality
        Re-run the quality stage too (a ``signal`` rule reads its per-second decisions, which
        the journal keeps folded per epoch).
    """

    stages: frozenset[str] = frozenset()
    full: bool = False
    quality: bool = False

    @property
    def name(self) -> str:
        """``full``, ``programme`` or the re-run stages joined by ``+``."""
        if self.full:
            return "full"
        parts = sorted(self.stages) + (["quality"] if self.quality else [])
        return "+".join(parts) if parts else "programme"

    def kinds(self) -> frozenset[str]:
        """Decision kinds the re-run stages emit (replacing the journal's)."""
        return frozenset(k for s in self.stages for k in STAGES[s][1])


def scope_of(keys: list[str] | tuple[str, ...], *, signal_rules: bool = False) -> Scope:
    """The scope of edits to dotted ``keys``; ``signal_rules`` when a programme reads quality."""
    stages: set[str] = set()
    full = False
    for key in keys:
        section = key.split(".", 1)[0]
        owner = [name for name, (sections, _) in STAGES.items() if section in sections]
        if owner:
            stages.update(owner)
        elif section not in PROGRAMME_SECTIONS:
            full = True
    if full:
        return Scope(full=True)
    return Scope(frozenset(stages), quality=signal_rules)
