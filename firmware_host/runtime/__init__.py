"""A run's life: build from config, open, ready, iterate, stop, close; hooks and the command queue."""
