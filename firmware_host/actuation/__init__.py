"""The actuation side: drivers behind the safety layer, built from config, fed by the policy."""
