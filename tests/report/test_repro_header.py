"""A replay script's header says in commands what the check did."""

from __future__ import annotations

from conformance.report.writers.repro_scripts import MAX_LISTED_STEPS, describe_steps, render

TRAIL = {
    "homes": 1,
    "steps": [
        {"kind": "run", "home": 1, "operation": "login",
         "args": ["login", "{{host console}}", "--password", "{{key user:alice@example.com#1 0}}"],
         "env": {}, "outcome": {"exit": "0"}},
        {"kind": "run", "home": 1, "operation": "switch", "args": ["switch", "acme/staging"],
         "env": {"CONVOX_RACK": "acme/staging"}, "outcome": {"exit": "0"}},
        {"kind": "world", "call": "inject", "args": [{"server": "console", "status": 503}]},
        {"kind": "edit", "home": 1, "action": "remove", "path": ".convox/host"},
        {"kind": "run", "home": 1, "operation": "apps",
         "args": ["apps", "line one\nline two"], "env": {}, "outcome": {"exit": "1"}},
    ],
}


def test_steps_read_as_commands_with_keys_named_by_owner() -> None:
    lines = describe_steps(TRAIL)
    assert lines[0] == ("1. convox login '<Console>' --password '<key of alice@example.com>'"
                        "  (exit 0)")
    assert lines[1] == "2. CONVOX_RACK=acme/staging convox switch acme/staging  (exit 0)"
    assert lines[2].startswith("3. fault injected: inject(") and "503" in lines[2]
    assert lines[3] == "4. remove by hand: .convox/host"
    assert "\n" not in lines[4] and lines[4].endswith("(exit 1)")


def test_a_long_trail_is_counted_not_listed() -> None:
    trail = {"steps": [TRAIL["steps"][1]] * (MAX_LISTED_STEPS + 5)}
    lines = describe_steps(trail)
    assert len(lines) == MAX_LISTED_STEPS + 1
    assert lines[-1] == "... and 5 more steps"


def test_the_header_lists_the_steps_as_comments() -> None:
    doc = {"check": "test_x.py::test_y", "rules": ["LOGIN-001"], "outcome": "failed",
           "run_id": "r1", "reason": "it broke", "trail": TRAIL}
    script = render(doc)
    header = script.split("set -u", 1)[0]
    assert "#   1. convox login '<Console>'" in header
    assert all(line.startswith("#") for line in header.splitlines()[1:] if line)
