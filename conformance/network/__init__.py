"""The network a CLI runs in: the sandbox and what the egress guard saw."""
