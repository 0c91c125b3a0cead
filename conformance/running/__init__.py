"""Running the CLI under test: profiles, one isolated invocation, its output,
its files, and what it leaves running."""
