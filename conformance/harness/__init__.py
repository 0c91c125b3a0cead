"""What a check touches: the handle on the CLI under test, its evidence,
the rule a failure belongs to, and the pytest plugin."""
