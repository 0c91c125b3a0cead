"""convox-conformance: executable specs for Convox command-line clients."""

__version__ = "0.1.0"
