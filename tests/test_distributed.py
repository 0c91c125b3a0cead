"""The suite spread over pytest-xdist `--tx` workers: the mechanism multi-host runs use.

`--tx popen` starts a worker as a local subprocess through execnet, exactly
as `--tx ssh=user@host` would start one on another machine, so two popen
workers prove the mechanism without leaving this machine. Each worker has
its own fakes (in-process backend), or all share serve processes through
the remote backend, which is how workers on other hosts reach the fakes.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.suite_support import SLICE, run_slice, serve_process

TWO_WORKERS = ("-v", "--dist", "load", "--tx", "popen", "--tx", "popen")


def _workers(output: str) -> set[str]:
    return set(re.findall(r"^\[(gw\d+)\] .*PASSED", output, re.M))


def _check_results(results: dict, output: str) -> None:
    checks = results["checks"]
    assert len(checks) >= len(SLICE)
    assert {c["outcome"] for c in checks} == {"passed"}
    assert {rule for c in checks for rule in c["rules"]} >= set(SLICE)
    assert all(c["evidence"]["invocations"] for c in checks)  # evidence came back from workers
    assert results["verdict"]["status"] == "conformant"
    assert _workers(output) == {"gw0", "gw1"}, output[-2000:]


def test_two_tx_workers_each_with_their_own_fakes(tmp_path: Path) -> None:
    results, output = run_slice(tmp_path / "report", pytest_args=TWO_WORKERS)
    _check_results(results, output)


def test_two_tx_workers_sharing_a_serve_process(tmp_path: Path) -> None:
    with serve_process(tmp_path) as url:
        results, output = run_slice(tmp_path / "report", "--backend", "remote", "--serve", url,
                                    pytest_args=TWO_WORKERS)
    _check_results(results, output)
