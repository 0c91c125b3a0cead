"""Fake Convox Console and Rack servers: a pure world model plus thin HTTP layers."""
