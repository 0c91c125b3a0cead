"""Fake Convox Console and Rack servers: a pure world model plus thin HTTP layers.

The checks need a Console and racks that speak the real protocol over real HTTPS
on loopback, can be put in any state the FAQ describes, and journal what they
saw; nothing real may be touched. The bundled reference CLI lives here too.
"""
