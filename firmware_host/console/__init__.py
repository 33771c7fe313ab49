"""``somnoloop tune``: the engineer's Textual console, a client of the control socket."""
