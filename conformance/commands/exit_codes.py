"""The exit codes of ``convox-conformance`` (the contract CI pipelines rely on), and the
prefix of its one-line errors, shared by every subcommand."""

EXIT_OK, EXIT_FAILURES, EXIT_USAGE, EXIT_HARNESS = 0, 1, 2, 3
#: Every one-line error of the command starts with this.
PREFIX = "convox-conformance: "

EXIT_CODES_HELP = """exit codes:
  0  conformant (every applicable check passed, or no regression)
  1  conformance failures
  2  usage or configuration error (bad profile, missing CLI, nothing selected)
  3  harness error (fakes failed to start, run interrupted)"""
