"""What-if replay: recorded nights re-run through edited parameters, and what would change.

``replay`` (the entry point, and what each kind of edit re-runs), ``scope`` (which part an
edit touches), ``recorded`` (what a session holds for replay), ``redecide`` (a deciding stage
over the recorded samples), ``programme_replay`` (decisions through the rule engine),
``full_rerun`` (the whole loop again), ``diff`` (actions added, removed, shifted).
"""
