"""convox-conformance: executable specs for Convox command-line clients.

The package holds the suite a CLI author installs: the checks, the harness that
runs a CLI in an isolated home, the rule catalogue and the reports. The fakes it
runs against are the sibling package ``fakes``; docs/architecture.md maps both.
"""

__version__ = "0.1.0"
