"""A slice of the real conformance suite, with the fakes in a `serve` subprocess.

`--backend remote` must be invisible to the checks: the same checks pass
and the fakes see the same traffic as with the in-process backend. Both
runs use the bundled reference CLI; everything stays on loopback.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.suite_support import SLICE, run_slice, serve_process


def traffic(check: dict[str, Any]) -> list[tuple[Any, ...]]:
    """What the fakes saw, without what differs by nature (ports, request ids, random keys)."""
    return [
        (e["server"], e["hop"], e["method"], e["path"],
         re.sub(r"^unknown:.*", "unknown", e["key_identity"]), e["rack_header"], e["status"])
        for e in check["evidence"]["journal"]
    ]


def test_a_slice_passes_with_the_remote_backend_exactly_as_in_process(tmp_path: Path) -> None:
    with serve_process(tmp_path) as url:
        remote, _ = run_slice(tmp_path / "remote", "--backend", "remote", "--serve", url)
    local, _ = run_slice(tmp_path / "local")

    outcomes = {c["id"]: c["outcome"] for c in remote["checks"]}
    assert outcomes == {c["id"]: c["outcome"] for c in local["checks"]}
    assert set(outcomes.values()) == {"passed"}
    assert {rule for c in remote["checks"] for rule in c["rules"]} >= set(SLICE)
    assert remote["verdict"]["status"] == "conformant"
    local_traffic = {c["id"]: traffic(c) for c in local["checks"]}
    for check in remote["checks"]:
        assert traffic(check), f"{check['id']}: no journal evidence came back from serve"
        assert traffic(check) == local_traffic[check["id"]], check["id"]
