"""Every outcome type, classified from pytest's reports, in-process and under xdist."""

from __future__ import annotations

import pytest

from tests.report.conftest import OUTCOMES_MODULE, PASSING_MODULE

EXPECTED = {
    "test_pass": "passed",
    "test_fail": "failed",
    "test_not_applicable": "not-applicable",
    "test_hang": "failed",  # CliTimeout is an AssertionError: a hanging CLI fails the check
    "test_harness_error": "error",
    "test_setup_error": "error",
    "test_teardown_error": "error",
}


def test_every_raw_outcome(run_checks):
    run = run_checks({"test_outcomes": OUTCOMES_MODULE})
    assert run.outcomes() == EXPECTED
    assert run.ret == 3, "harness errors make the run a harness error"
    na = run.check("test_not_applicable")
    assert na["reason"] == "profile plain has no logout"
    assert run.check("test_fail")["reason"].startswith("expected success: $ convox login")
    assert "KeyError" in run.check("test_harness_error")["reason"]
    assert run.check("test_setup_error")["reason"].startswith("setup: RuntimeError")
    assert run.check("test_teardown_error")["reason"].startswith("teardown: RuntimeError")
    assert run.check("test_hang")["reason"].startswith("CLI timed out")


def test_result_carries_rules_levels_areas_and_evidence(run_checks):
    run = run_checks({"test_outcomes": OUTCOMES_MODULE})
    check = run.check("test_pass")
    assert check["rules"] == ["ALPHA-001"]
    assert check["level"] == "MUST" and check["area"] == "ALPHA"
    assert check["evidence"]["invocations"][0]["operation"] == "login"
    assert check["evidence"]["journal"][0]["key_identity"] == "user:alice@example.com#1"
    rules = {r["id"]: r for r in run.data["rules"]}
    assert list(rules) == ["ALPHA-001", "ALPHA-002", "ALPHA-003", "BETA-001", "BETA-002",
                           "BETA-003", "GAMMA-001"]
    assert rules["GAMMA-001"]["outcome"] == "not-run"
    assert rules["BETA-003"]["outcome"] == "error"
    assert rules["BETA-003"]["checks"] == ["test_outcomes.py::test_setup_error",
                                           "test_outcomes.py::test_teardown_error"]
    assert rules["ALPHA-001"]["sources"][0] == {"kind": "faq", "text": "Login stores the host.",
                                                "ref": "", "url": ""}


def test_run_info(run_checks):
    run = run_checks({"test_ok": PASSING_MODULE}, "--hypothesis-seed", "4242")
    info = run.data["run"]
    assert info["profile"]["name"] == "reference"
    assert info["cli_version"] and "version failed" not in info["cli_version"]
    assert info["cli_command"][-2:] == ["-c", "from reference_cli.main import run; run()"]
    assert len(info["digest"]["combined"]) == 64
    assert info["seed"] == {"hypothesis": 4242}
    assert info["started"].endswith("Z") and info["finished"] >= info["started"]
    assert info["platform"]["python"]
    assert run.data["run"]["run_id"] == run.run_dir.name


def test_same_outcomes_under_xdist(run_checks):
    pytest.importorskip("xdist")
    run = run_checks({"test_outcomes": OUTCOMES_MODULE}, "-p", "xdist", "-n", "2",
                     subprocess=True)
    assert run.outcomes() == EXPECTED
    assert run.check("test_pass")["evidence"]["journal"], "evidence travels from the workers"
    assert run.ret == 3


def test_session_without_spec_checks_writes_nothing(run_checks, pytester):
    run = run_checks({"test_plain": "def test_x():\n    pass\n"})
    assert run.ret == 0
    assert not (pytester.path / "reports").exists()


def test_no_reports_option(run_checks, pytester):
    run = run_checks({"test_ok": PASSING_MODULE}, "--no-reports")
    assert run.ret == 0
    assert not (pytester.path / "reports").exists()
    assert "verdict: CONFORMANT" in run.text()


VERDICTS_MODULE = """
import pytest

@pytest.mark.spec("ALPHA-001")
def test_explicit_fail():
    pytest.fail("the CLI stored the key under the wrong host")

@pytest.mark.spec("ALPHA-002")
def test_several_failures():
    raise ExceptionGroup("Hypothesis found 2 distinct failures",
                         [AssertionError("target differs"), AssertionError("auth differs")])

@pytest.mark.spec("ALPHA-003")
def test_group_with_a_crash():
    raise ExceptionGroup("2 distinct failures", [AssertionError("x"), KeyError("y")])
"""


def test_verdicts_other_than_assert(run_checks):
    """pytest.fail() and groups of assertions are failures; a group with a crash is an error."""
    run = run_checks({"test_verdicts": VERDICTS_MODULE})
    assert run.outcomes() == {
        "test_explicit_fail": "failed",
        "test_several_failures": "failed",
        "test_group_with_a_crash": "error",
    }
    # A group's reason is each failure's own first line, not Hypothesis's count of them.
    assert run.check("test_several_failures")["reason"] == (
        "2 distinct failures: target differs | auth differs")


def test_cli_version_shows_what_the_cli_printed_whatever_its_exit_code(run_checks, pytester):
    """Issue 10 (f): a version command that needs a login is no "version failed"."""
    import sys

    shim = pytester.path / "cli.sh"
    shim.write_text('#!/bin/sh\nif [ "$1" = --version ]; then\n'
                    '  echo "ERROR: no racks found, try \\`convox login\\`" >&2; exit 1\nfi\n'
                    f'exec {sys.executable} -m reference_cli "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    run = run_checks({"test_ok": PASSING_MODULE}, "--cli", str(shim))
    assert run.data["run"]["cli_version"] == "ERROR: no racks found, try `convox login` (exit 1)"
    assert "CLI version: ERROR: no racks found, try `convox login` (exit 1)" in run.text()
