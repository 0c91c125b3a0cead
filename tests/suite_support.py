"""Running the real conformance suite, and `serve`, as subprocesses from the tests.

Shared by the tests that prove the suite spreads out (the remote backend,
pytest-xdist over `--tx` workers): each needs a serve process to talk to and
a way to run a slice of the suite and read its results.json.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.forked_runs import ForkServer

ROOT = Path(__file__).resolve().parents[1]
#: Logins, a proxied command, a key roll and transport faults: every kind of world use.
SLICE = ("LOGIN-001", "PROXY-001", "KEYROLL-006", "RELIABILITY-005")
#: The property-based and stateful checks span many rules (LOGIN-001 among them) and
#: draw random keys; they would only make a slice slow, not more telling.
NOT_GENERATED = "not test_model and not test_properties"


def environment() -> dict[str, str]:
    """This environment, minus anything that would point the suite elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVOX_CONFORMANCE_")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def serve_process(cwd: Path, world: str = "minimal") -> contextlib.AbstractContextManager[str]:
    """`convox-conformance serve` in a subprocess, as a replay starts it; its admin URL."""
    from conformance.replay.serve_process import serve

    return serve(world, cwd=cwd, env=environment())


def run_slice(report_dir: Path, *options: str, pytest_args: tuple[str, ...] = ()
              ) -> tuple[dict[str, Any], str]:
    """Run SLICE with `convox-conformance run`; (results.json, its output). Must pass."""
    args = [sys.executable, "-m", "conformance", "run", "--report-dir", str(report_dir)]
    for rule in SLICE:
        args += ["--rule", rule]
    done = subprocess.run(
        [*args, *options, "--", "-p", "no:randomly", "-k", NOT_GENERATED, *pytest_args],
        capture_output=True, text=True, cwd=ROOT, env=environment(), timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results: dict[str, Any] = json.loads((report_dir / "latest" / "results.json").read_text())
    return results, done.stdout


def run_suite(report_dir: Path, *args: str, pytest_args: tuple[str, ...] = (),
              shrink: bool = False, timeout: float = 900, via: ForkServer | None = None,
              ) -> dict[str, Any]:
    """One ``convox-conformance run`` as a user's CI would start it; its results.json.

    ``exit_code`` is added to the data. Without ``shrink`` a failing property or
    model check stops at its first failing example: a verdict needs one, not the
    smallest. ``via``: the run is a child of that fork server, which has the libraries
    imported already (tests/forked_runs.py), for tests that start the suite many times.
    """
    # The host network unless asked otherwise: verdicts about recorded CLI behaviour
    # (the emulations) are stated for runs without the sandbox, and it is faster.
    network = [] if "--network" in args else ["--network", "host"]
    # One worker unless asked: the kill and precision tests run two suites at a time.
    workers = [] if "--workers" in args else ["--workers", "1"]
    argv = ["run", "--report-dir", str(report_dir), *network, *workers, *args,
            "--", "-q", "--no-header", *pytest_args]
    if not shrink:
        argv += ["--shrink-seconds", "0"]
    env = {**environment(), "PYTHONPATH": str(ROOT)}
    env.pop("PYTEST_XDIST_WORKER", None)
    if via is not None:
        output_file = report_dir.with_name(report_dir.name + ".out")
        code = via.run(argv, env, ROOT, output_file, ROOT, timeout)
        output = output_file.read_text(errors="replace") if output_file.exists() else ""
    else:
        done = subprocess.run([sys.executable, "-m", "conformance", *argv], capture_output=True,
                              text=True, env=env, cwd=ROOT, timeout=timeout, check=False)
        code, output = done.returncode, done.stdout[-3000:] + "\n" + done.stderr
    results = report_dir / "latest" / "results.json"
    if not results.exists():
        raise AssertionError(f"no results.json (exit {code}):\n{output[-6000:]}")
    data: dict[str, Any] = json.loads(results.read_text())
    data["exit_code"] = code
    data["run_dir"] = str(results.parent)
    return data


def sandbox_rules() -> frozenset[str]:
    """The rules only a run in the network sandbox checks (they need ``resolve``)."""
    from conformance.catalogue import load_catalogue
    from conformance.running.profiles import MACHINE_CAPABILITIES

    return frozenset(rule.id for rule in load_catalogue().rules.values()
                     if MACHINE_CAPABILITIES & set(rule.needs))


def best_network() -> tuple[str, str]:
    """``--network sandbox`` where it can be made, else ``--network host``."""
    from conformance.network import sandbox

    return ("--network", "sandbox" if sandbox.why_not() is None else "host")


def require_sandbox() -> None:
    """Skip here when the network sandbox cannot be made; in CI, fail instead."""
    import pytest

    from conformance.network import sandbox

    reason = sandbox.why_not()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must be able to make the network sandbox: {reason}")
        pytest.skip(f"no network sandbox here: {reason}")
