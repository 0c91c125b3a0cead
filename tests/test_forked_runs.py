"""A run forked from the fork server decides exactly as a run started from scratch."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.forked_runs import ForkServer, RunTimedOut
from tests.mutants import all_mutants
from tests.official import run_verdicts
from tests.suite_support import NOT_GENERATED, ROOT, environment, run_suite


def outcomes(data: dict[str, object]) -> dict[str, tuple[str, str | None]]:
    checks = data["checks"]
    assert isinstance(checks, list)
    return {c["id"]: (c["outcome"], c.get("blocked_by")) for c in checks}


def test_a_forked_run_decides_as_a_started_one(tmp_path: Path, fork_server: ForkServer) -> None:
    variant = all_mutants()["switch-accepts-unlisted-rack"]
    args = ("--cli", variant.command(), "--profile", variant.profile, "--rule", "SWITCH-003")
    started = run_suite(tmp_path / "started", *args, pytest_args=("-k", NOT_GENERATED))
    forked = run_suite(tmp_path / "forked", *args, pytest_args=("-k", NOT_GENERATED),
                       via=fork_server)
    assert started["exit_code"] == forked["exit_code"] == 1
    assert outcomes(forked) == outcomes(started)
    assert "failed" in {outcome for outcome, _ in outcomes(forked).values()}
    assert run_verdicts(forked) == run_verdicts(started)


def running_with(text: str) -> list[str]:
    """Pids of the processes whose command line mentions ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in command:
                found.append(entry.name)
    return found


def test_a_forked_run_that_outlives_its_limit_is_stopped(
    tmp_path: Path, fork_server: ForkServer,
) -> None:
    # The CLI never answers and the run gives it 600 s: however busy the machine, the
    # run cannot end before its 2 s limit.
    hanging = tmp_path / "hanging-cli"
    hanging.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(600)\n")
    hanging.chmod(0o755)
    argv = ["run", "--report-dir", str(tmp_path / "r"), "--network", "host", "--workers", "1",
            "--cli", str(hanging), "--cli-timeout", "600", "--profile", "convox-rack",
            "--rule", "LOGIN-001"]
    # Its temporary files (a killed run leaves them) go in the test's directory.
    env = {**environment(), "TMPDIR": str(tmp_path)}
    try:
        with pytest.raises(RunTimedOut):
            fork_server.run(argv, env, ROOT, tmp_path / "out", ROOT, timeout=2.0)
    finally:
        # The CLI has a session of its own (the harness's doing): the run's group is not it.
        for pid in running_with(str(hanging)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
    # The server goes on serving, and the killed run's status is not taken for the next's.
    listing = tmp_path / "rules.out"
    assert fork_server.run(["rules"], environment(), ROOT, listing, ROOT, timeout=300) == 0
    assert "SWITCH-003" in listing.read_text()
