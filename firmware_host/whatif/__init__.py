"""What-if replay: recorded nights re-run through edited parameters, and what would change."""
