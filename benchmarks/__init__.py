"""Benchmarks (tox -e bench); not tests, never gating."""
