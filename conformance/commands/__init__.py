"""The `convox-conformance` command and its subcommands."""
