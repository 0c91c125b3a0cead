"""Replay scripts: every failed or blocked check gets one, and it reproduces the failure.

A sample of mutants from every area (plus a property check with drawn keys and
the state machine) is run as a user would, against its own rule; each failing
check's script is then run with bash, in a fresh process, with nothing but the
suite installed: it must print the failing run's observation, say REPRODUCED
and exit 1. Running the same script against the reference CLI (``--cli``) must
say NOT REPRODUCED and exit 0, since the reference does not fail. The
reference's own run writes no script (tests/test_kill.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.forked_runs import ForkServer
from tests.mutants import all_mutants
from tests.suite_support import ROOT, environment, run_suite

pytestmark = pytest.mark.slow

PLAIN = "not test_model and not test_properties"
#: (mutant, its rule, which checks to run): one or more per area, each area's own world
#: event, hand edit or fault, a drawn-key property and a stateful failure.
SAMPLE = [
    ("login-checks-with-rack-route", "LOGIN-004", PLAIN),
    ("switch-accepts-unlisted-rack", "SWITCH-003", PLAIN),
    ("proxy-caches-rack-selection", "PROXY-007", PLAIN),
    ("logout-bare-unauthorized", "LOGOUT-007", PLAIN),
    ("logout-caches-credentials", "LOGOUT-005", PLAIN),
    ("sharing-403-is-empty-answer", "SHARING-005", PLAIN),
    ("keyroll-502-clears-selection", "KEYROLL-006", PLAIN),
    ("reliability-corrupt-auth-is-empty", "RELIABILITY-002", PLAIN),
    ("reliability-errors-on-stdout", "RELIABILITY-008", PLAIN),
    ("key-whitespace-trimmed", "SECURITY-001", "test_properties"),
    ("selection-forgotten-after-proxied-command", "PROXY-001", "test_model"),
]
REPLAYED = ("failed", "blocked")


def replay(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``bash SCRIPT`` as a user runs it: from another directory, the suite on PATH."""
    env = environment()
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return subprocess.run(["bash", str(script), *args], capture_output=True, text=True,
                          cwd=script.parent, env=env, timeout=300, check=False)


@pytest.fixture(scope="module")
def reference_command() -> str:
    return f"{sys.executable} -m reference_cli"


@pytest.mark.parametrize(("name", "rule", "only"), SAMPLE, ids=[s[0] for s in SAMPLE])
def test_the_script_of_a_failing_check_reproduces_it(
    name: str, rule: str, only: str, tmp_path: Path, reference_command: str,
    fork_server: ForkServer,
) -> None:
    variant = all_mutants()[name]
    data = run_suite(tmp_path, "--cli", variant.command(), "--profile", variant.profile,
                     "--rule", rule, pytest_args=("-k", only), via=fork_server)
    run_dir = tmp_path / "latest"
    failing = [c for c in data["checks"] if c["outcome"] in REPLAYED]
    assert failing, f"{name}: nothing failed"
    assert all(c["repro"] for c in failing), [c["id"] for c in failing if not c["repro"]]
    assert not [c for c in data["checks"] if c["outcome"] == "passed" and c["repro"]]
    own = [c for c in failing if rule in (c["failed_rules"] or c["rules"])]
    assert own, f"{name}: no failing check of {rule}"
    # A copy of the script alone, elsewhere, is enough.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = elsewhere / Path(own[0]["repro"]).name
    script.write_bytes((run_dir / own[0]["repro"]).read_bytes())
    done = replay(script)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "REPRODUCED: every invocation" in done.stdout
    assert "observation of the failing run:" in done.stdout
    # The same steps against the reference CLI do not fail the same way.
    fixed = replay(script, "--cli", reference_command)
    assert fixed.returncode == 0, fixed.stdout[-3000:] + fixed.stderr[-3000:]
    assert "NOT REPRODUCED" in fixed.stdout


def test_scripts_are_indexed_and_hold_tokens_not_keys(tmp_path: Path) -> None:
    """Scripts are runnable files listed in summary.md and report.html; keys in them are
    tokens (this mutant also stores basic-auth base64 of its keys, which must not pass).
    That no key of a run reaches a script is tests/report/test_redaction.py's."""
    variant = all_mutants()["logout-caches-credentials"]
    run_suite(tmp_path, "--cli", variant.command(), "--rule", "LOGOUT-005",
              pytest_args=("-k", PLAIN))
    run_dir = tmp_path / "latest"
    scripts = sorted((run_dir / "repro").glob("*.sh"))
    assert scripts
    summary = (run_dir / "summary.md").read_text()
    html = (run_dir / "report.html").read_text()
    for script in scripts:
        text = script.read_text()
        assert text.startswith("#!/usr/bin/env bash\n")
        assert os.access(script, os.X_OK)
        doc = json.loads(next(line for line in text.splitlines() if line.startswith("{")))
        assert doc["trail"]["steps"]
        assert "{{key " in text and "{{basic " in text
        assert "Y29udm94" not in text, "basic-auth base64 ('convox:...') of a key in a script"
        assert f"repro/{script.name}" in summary
        assert f"repro/{script.name}" in html


def test_repro_runs_one_check_and_replays_it(tmp_path: Path) -> None:
    variant = all_mutants()["switch-accepts-unlisted-rack"]
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "repro",
         "test_switch_refuses_a_rack_console_does_not_list", "--cli", variant.command()],
        capture_output=True, text=True, cwd=tmp_path, env=environment(), timeout=300,
        check=False)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "REPRODUCED: every invocation" in done.stdout
    passing = subprocess.run(
        [sys.executable, "-m", "conformance", "repro", "SWITCH-003"],
        capture_output=True, text=True, cwd=tmp_path, env=environment(), timeout=300,
        check=False)
    assert passing.returncode == 0, passing.stdout[-3000:] + passing.stderr[-3000:]
    assert "nothing to replay" in passing.stdout


def test_a_bad_script_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sh"
    bad.write_text("{not json\n")
    done = subprocess.run([sys.executable, "-m", "conformance", "replay", str(bad)],
                          capture_output=True, text=True, cwd=ROOT, env=environment(),
                          timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "not a repro document" in done.stderr


def test_a_script_runs_from_anywhere_and_says_when_it_cannot(tmp_path: Path) -> None:
    """A run with a user's profile given by a relative path: the script, run from another
    directory after the profile file moved away, still replays (it carries the profile);
    without the suite installed it exits 2 and says so, never 1 ("reproduced")."""
    variant = all_mutants()["reliability-racks-swallows-server-errors"]
    own = tmp_path / "mine.toml"
    own.write_bytes((ROOT / "conformance" / "profiles" / "reference.toml").read_bytes())
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--cli", variant.command(),
         "--profile", "mine.toml", "--rule", "RELIABILITY-008", "--network", "host",
         "--report-dir", str(tmp_path / "reports")],
        capture_output=True, text=True, cwd=tmp_path, env=environment(), timeout=600,
        check=False)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    script = next((tmp_path / "reports" / "latest" / "repro").glob("*.sh"))
    own.rename(tmp_path / "moved.toml")
    reproduced = replay(script)
    assert reproduced.returncode == 1, reproduced.stdout[-3000:] + reproduced.stderr[-3000:]
    assert "repro: reproduced (exit 1)" in reproduced.stdout
    bare = subprocess.run(["bash", str(script)], capture_output=True, text=True,
                          cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
                          timeout=60, check=False)
    assert bare.returncode == 2, bare.stdout + bare.stderr
    assert "convox-conformance is not installed" in bare.stderr


def test_a_script_of_a_check_of_several_rules_is_named_for_the_rule_it_failed() -> None:
    from conformance.report.model.results import CheckResult
    from conformance.report.writers.repro_scripts import script_name

    check = CheckResult(id="test_model.py::test_the_cli_agrees", nodeid="x", outcome="failed",
                        rules=["LOGIN-001", "SWITCH-003"], raw_outcome="failed",
                        failed_rules=["SWITCH-003"])
    assert script_name(check) == "SWITCH-003--test_the_cli_agrees.sh"
