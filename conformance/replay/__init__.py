"""A check's steps recorded as it runs, and replaying them against a fresh `serve`.

Recording: tokens.py (the token format keys, hosts and homes are written in),
signatures.py (what one step did), trail.py (a check's steps, exported key-free),
record.py (the hooks that feed a trail). Replaying: values.py (what tokens stand
for in one replay), comparison.py (replayed run against recorded run), player.py
(the steps repeated), serve_process.py (the world to repeat them against),
commands.py (`replay` and `repro`) and scripts.py (the repro scripts a run writes).
"""
