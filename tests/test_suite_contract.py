"""What the shipped suite promises as a whole, beyond any single check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from conformance.catalogue import check_links, load_catalogue
from tests.suite_support import environment, run_suite

REPO = Path(__file__).resolve().parents[1]
#: Two quick checks of one rule each, for the --check runs.
LOGIN_CHECK = "test_login.py::test_login_stores_the_key_under_the_host"
CONTEXT_CHECK = "test_context.py::test_switch_never_changes_a_project_rack_file"


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


def test_check_runs_exactly_the_checks_it_names(tmp_path: Path) -> None:
    results = run_suite(tmp_path, "--check", LOGIN_CHECK, "--check", CONTEXT_CHECK)
    assert results["exit_code"] == 0, results["scope"]
    assert sorted(check["id"] for check in results["checks"]) == sorted(
        [LOGIN_CHECK, CONTEXT_CHECK])
    scope = results["scope"]
    assert scope["partial"] and scope["why"][0] == "--check 2 checks", scope["why"]
    assert LOGIN_CHECK not in {entry["id"] for entry in scope["not_run"]}
    assert results["run"]["options"]["checks"] == [LOGIN_CHECK, CONTEXT_CHECK]


def test_check_with_rule_runs_the_checks_of_either(tmp_path: Path) -> None:
    """--rule CONTEXT-001 (its one check) and --check of a LOGIN check: both run."""
    results = run_suite(tmp_path, "--rule", "CONTEXT-001", "--check", LOGIN_CHECK)
    assert results["exit_code"] == 0, results["scope"]
    assert sorted(check["id"] for check in results["checks"]) == sorted(
        [LOGIN_CHECK, "test_context.py::test_a_project_rack_file_selects_the_rack_there"])
    assert results["scope"]["why"][:2] == ["--rule CONTEXT-001", f"--check {LOGIN_CHECK}"]
    # The rule's own checks first, then the rest as collected, the model check last.
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--rule", "PROXY-001", "--check",
         LOGIN_CHECK, "--network", "host", "--no-reports", "--", "--collect-only", "-q",
         "-p", "no:randomly"],
        capture_output=True, text=True, cwd=REPO, check=False, env=environment(),
    )
    checks = [line for line in done.stdout.splitlines() if "::" in line]
    assert checks[-2:] == [LOGIN_CHECK, "test_model.py::"
                           "test_the_cli_agrees_with_the_model_over_random_sequences"], checks
    assert checks[:-2] and all(line.startswith("test_proxy.py::") for line in checks[:-2])


@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_unknown_check_id_is_one_usage_line(tmp_path: Path, workers: str) -> None:
    """Also with pytest-xdist workers, which collect the checks themselves."""
    env = environment()
    env.pop("PYTEST_XDIST_WORKER", None)
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--network", "host", "--workers", workers,
         "--check", LOGIN_CHECK, "--check", "test_login.py::test_nope",
         "--report-dir", str(tmp_path)],
        capture_output=True, text=True, cwd=REPO, check=False, env=env,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    said = [line for line in output.splitlines() if "--check" in line]
    assert len(said) == 1 and "no check test_login.py::test_nope (see the ids in results.json)" \
        in said[0], output
    assert "Traceback" not in output and "INTERNALERROR" not in output, output
    assert not (tmp_path / "latest").exists()


def test_workers_default_to_the_processors_and_one_for_a_few_rules() -> None:
    from conformance.commands.main import MAX_AUTO_WORKERS, worker_count

    assert 1 <= worker_count("auto", [], []) <= MAX_AUTO_WORKERS
    assert worker_count("auto", ["LOGIN-001"], []) == 1
    assert worker_count("auto", [], [LOGIN_CHECK]) == 1
    assert worker_count("3", [], [LOGIN_CHECK]) == 3 and worker_count("1", [], []) == 1


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


#: A pytest plugin that is only installed: pytest would load it through its entry point.
_INSTALLED_PLUGIN = '''
import os
from pathlib import Path

def pytest_configure(config):
    Path(os.environ["LOADED_MARKER"]).mkdir(exist_ok=True)
    Path(os.environ["LOADED_MARKER"], str(os.getpid())).touch()
'''


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_run_loads_only_the_pytest_plugins_it_names(tmp_path: Path, workers: str) -> None:
    """An installed plugin (as pytest-randomly would be) stays out of a run, also out of
    its xdist workers, until the user names it with ``-- -p``."""
    site = tmp_path / "site"
    (site / "installed_only-1.0.dist-info").mkdir(parents=True)
    (site / "installed_only.py").write_text(_INSTALLED_PLUGIN)
    (site / "installed_only-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: installed-only\nVersion: 1.0\n")
    (site / "installed_only-1.0.dist-info" / "entry_points.txt").write_text(
        "[pytest11]\ninstalled_only = installed_only\n")
    env = {**environment(), "PYTHONPATH": f"{REPO}{os.pathsep}{site}"}
    env.pop("PYTEST_XDIST_WORKER", None)

    def run(marker: Path, *pytest_args: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "conformance", "run", "--network", "host",
             "--workers", workers, "--check", LOGIN_CHECK, "--check", CONTEXT_CHECK,
             "--report-dir", str(tmp_path / f"reports-{marker.name}"), "--", "-q",
             *pytest_args],
            capture_output=True, text=True, cwd=tmp_path, check=False,
            env={**env, "LOADED_MARKER": str(marker)}, timeout=300,
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    # pytest itself loads it: the plugin works, so its absence below means something.
    plain = tmp_path / "plain-pytest"
    subprocess.run([sys.executable, "-m", "pytest", "--co", "-q", str(tmp_path / "none")],
                   capture_output=True, cwd=tmp_path, check=False,
                   env={**env, "LOADED_MARKER": str(plain)}, timeout=120)
    assert plain.is_dir()

    run(tmp_path / "not-named")
    assert not (tmp_path / "not-named").exists()
    run(tmp_path / "named", "-p", "installed_only")
    # The controller and, under xdist, each worker.
    assert len(list((tmp_path / "named").iterdir())) == int(workers) + (workers != "1")
