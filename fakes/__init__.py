"""Fake Convox Console and Rack servers: a pure world model plus thin HTTP layers.

The checks need a Console and racks that speak the real protocol over real HTTPS
on loopback, can be put in any state the FAQ describes, and journal what they
saw; nothing real may be touched. Layers, each importing only those before it:
``model`` (the world and its rules), ``http`` (listener, messages, faults,
journal), ``servers`` (Console, Rack, the egress guard), ``backends`` (where
worlds live, all driven by the one table of world actions in
``backends/actions.py``) and ``sandbox`` (the network sandbox's server side).
"""
