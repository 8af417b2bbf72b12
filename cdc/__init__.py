"""Change data capture: triggers and changelog in SQLite, the tailer that publishes them."""
