"""What the shipped suite promises as a whole, beyond any single check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from conformance.catalogue import check_links, load_catalogue

REPO = Path(__file__).resolve().parents[1]


def test_every_rule_has_a_check_and_every_check_a_rule() -> None:
    """`convox-conformance rules --check` on the shipped catalogue and checks."""
    assert check_links(load_catalogue()) == []


def test_rules_check_command_exits_zero() -> None:
    done = subprocess.run([sys.executable, "-m", "conformance", "rules", "--check"],
                          capture_output=True, text=True, cwd=REPO, check=False,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "every one linked to a check" in done.stdout


def test_a_broken_binary_gives_failures_not_harness_errors(tmp_path: Path) -> None:
    """`--profile convox-rack --cli /bin/false`: the run finishes, reports, and fails (exit 1)."""
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--profile", "convox-rack", "--network",
         "host", "--cli", "/bin/false", "--report-dir", str(tmp_path), "--", "-q", "--no-header"],
        capture_output=True, text=True, cwd=REPO, check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    results = json.loads((tmp_path / "latest" / "results.json").read_text())
    outcomes = Counter(check["outcome"] for check in results["checks"])
    assert outcomes["error"] == 0, outcomes
    # Checks whose set-up (a login) fails are blocked by the login rules, which fail.
    assert outcomes["failed"] + outcomes["blocked"] >= len(results["checks"]) * 0.8, outcomes
    assert 1 <= len(results["root_causes"]) <= 2, results["summary"]["root_causes"]
    # convox-rack has no logout: those rules are not applicable, not passed; and
    # --network host gives no sandbox, so SECURITY-003 is not checked, not passed.
    not_applicable = {rule for check in results["checks"]
                      if check["outcome"] == "not-applicable" for rule in check["rules"]}
    assert {"LOGOUT-010", "LOGOUT-011"} <= not_applicable
    not_checked = {rule for check in results["checks"]
                   if check["outcome"] == "not-checked" for rule in check["rules"]}
    assert "SECURITY-003" in not_checked
    for name in ("results.json", "junit.xml", "report.html", "summary.md"):
        assert (tmp_path / "latest" / name).stat().st_size > 0


def test_a_missing_binary_is_one_usage_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--cli", str(tmp_path / "nope"),
         "--report-dir", str(tmp_path)],
        capture_output=True, text=True, cwd=REPO, check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 2
    assert "CLI not found" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_an_unknown_rule_id_is_one_usage_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--rule", "LOGN-001",
         "--report-dir", str(tmp_path)],
        capture_output=True, text=True, cwd=REPO, check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 2
    assert "unknown rule id LOGN-001" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_a_rules_own_checks_run_before_the_checks_of_many_rules(tmp_path: Path) -> None:
    """With --rule (and --stop-at-rule, as the kill test runs), a short check of the rule
    comes before the model check, which explores at length before it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--rule", "PROXY-001", "--network",
         "host", "--report-dir", str(tmp_path), "--", "--collect-only", "-q"],
        capture_output=True, text=True, cwd=REPO, check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    checks = [line for line in done.stdout.splitlines() if "::" in line]
    assert checks[-1].startswith("test_model.py::"), checks
    assert any(line.startswith("test_proxy.py::") for line in checks[:-1]), checks


def test_workers_default_to_the_processors_and_one_for_a_few_rules() -> None:
    from conformance.cli import MAX_AUTO_WORKERS, worker_count

    assert 1 <= worker_count("auto", []) <= MAX_AUTO_WORKERS
    assert worker_count("auto", ["LOGIN-001"]) == 1
    assert worker_count("3", []) == 3 and worker_count("1", []) == 1


def test_bad_workers_are_one_usage_line(tmp_path: Path) -> None:
    for bad in (["--workers", "0"], ["--workers", "two"], ["--workers", "2", "--", "-n", "2"]):
        done = subprocess.run(
            [sys.executable, "-m", "conformance", "run", "--report-dir", str(tmp_path), *bad],
            capture_output=True, text=True, cwd=REPO, check=False,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert done.returncode == 2, (bad, done.stderr)
        assert "workers" in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_bad_number_of_examples_is_one_usage_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--report-dir", str(tmp_path)],
        capture_output=True, text=True, cwd=REPO, check=False,
        env={**os.environ, "PYTHONPATH": str(REPO), "CONFORMANCE_EXAMPLES": "lots"},
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        "convox-conformance: CONFORMANCE_EXAMPLES: expected how many examples the model check "
        "and the properties try (1 or more), got 'lots'")
