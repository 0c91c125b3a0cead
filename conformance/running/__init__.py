"""Running the CLI under test: profiles, one isolated invocation, its output,
its files, and what it leaves running."""

#: Seconds one CLI invocation may take (``--cli-timeout``). Here, not in the session's
#: module, so that every command's options can name it without loading the runner.
DEFAULT_TIMEOUT = 20.0
