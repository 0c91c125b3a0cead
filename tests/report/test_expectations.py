"""Expectations: known failures pass the run, strictness, expiry, and `update`."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest
from freezegun import freeze_time

from conformance.report.gate import expectations as exp
from conformance.report.model.results import CheckResult
from tests.report.conftest import OUTCOMES_MODULE

MIXED_MODULE = '''
import pytest

@pytest.mark.spec("ALPHA-001")
def test_pass():
    pass

@pytest.mark.spec("ALPHA-002")
def test_fail():
    assert False, "auth was rewritten"

@pytest.mark.spec("BETA-001")
def test_beta_fail_one():
    assert False, "switch forgot the rack"

@pytest.mark.spec("BETA-001")
def test_beta_pass_two():
    pass
'''


def write(pytester: pytest.Pytester, text: str, name: str = "expectations.toml") -> str:
    path = pytester.path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


def test_without_expectations_failures_fail_the_run(run_checks):
    run = run_checks({"test_mixed": MIXED_MODULE})
    assert run.ret == 1


def test_expected_failures_do_not_fail_the_run(run_checks, pytester):
    path = write(pytester, '''
        [[expected-failure]]
        id = "ALPHA-002"
        reason = "we rewrite auth"
        link = "https://example.invalid/issues/1"

        [[expected-failure]]
        id = "test_mixed.py::test_beta_fail_one"
        reason = "switch bug"
        expires = 2999-01-01
    ''')
    run = run_checks({"test_mixed": MIXED_MODULE}, "--expectations", path)
    assert run.ret == 0, run.text()
    assert run.outcomes() == {"test_pass": "passed", "test_fail": "expected-fail",
                              "test_beta_fail_one": "expected-fail",
                              "test_beta_pass_two": "passed"}
    assert run.check("test_fail")["expectation"]["link"] == "https://example.invalid/issues/1"
    assert run.check("test_fail")["raw_outcome"] == "failed"
    assert run.data["verdict"]["status"] == "no-regression", "known failures are not conformance"
    assert "2 expected-fail" in run.text(), "the terminal counts them apart from failures"


def test_unexpected_pass_fails_the_run_and_says_to_update(run_checks, pytester):
    path = write(pytester, '''
        [[expected-failure]]
        id = "ALPHA-001"
        reason = "used to fail"
        [[expected-failure]]
        id = "ALPHA-002"
        reason = "still fails"
    ''')
    run = run_checks({"test_mixed": MIXED_MODULE}, "--expectations", path,
                     "--deselect", "test_mixed.py::test_beta_fail_one")
    assert run.ret == 1
    assert run.outcomes()["test_pass"] == "unexpected-pass"
    assert run.outcomes()["test_fail"] == "expected-fail"
    reason = run.check("test_pass")["reason"]
    assert "remove ALPHA-001 from the expectations file" in reason
    assert any("remove it from the expectations file" in r for r in run.data["verdict"]["reasons"])


def test_rule_entry_is_strict_per_rule_not_per_check(run_checks, pytester):
    """BETA-001 has a failing and a passing check: the rule still fails, so no xpass."""
    path = write(pytester, '''
        [[expected-failure]]
        id = "BETA-001"
        reason = "one of two checks fails"
    ''')
    run = run_checks({"test_mixed": MIXED_MODULE}, "--expectations", path,
                     "--deselect", "test_mixed.py::test_fail")
    assert run.outcomes()["test_beta_fail_one"] == "expected-fail"
    assert run.outcomes()["test_beta_pass_two"] == "passed"
    assert run.ret == 0


def test_expired_entry_fails_the_run(run_checks, pytester):
    path = write(pytester, '''
        [[expected-failure]]
        id = "ALPHA-002"
        reason = "we rewrite auth"
        expires = 2001-02-03
    ''')
    run = run_checks({"test_mixed": MIXED_MODULE}, "--expectations", path,
                     "--deselect", "test_mixed.py::test_beta_fail_one")
    assert run.ret == 1
    assert run.outcomes()["test_fail"] == "failed", "an expired entry excuses nothing"
    problems = run.data["notes"]["expectation_problems"]
    assert len(problems) == 1 and "expired on 2001-02-03" in problems[0]
    assert "expired on 2001-02-03" in run.text()


@pytest.mark.parametrize(("today", "expired"), [("2030-06-30", False), ("2030-07-01", True)])
def test_expiry_is_inclusive_of_the_date(today, expired):
    entry = exp.Expectation("ALPHA-002", "reason", expires=dt.date(2030, 6, 30))
    check = CheckResult(id="t.py::test_fail", nodeid="t.py::test_fail", rules=["ALPHA-002"],
                        outcome="failed", raw_outcome="failed")
    with freeze_time(today):
        problems = exp.apply([check], [entry], "x.toml").problems
    assert bool(problems) is expired
    assert check.outcome == ("failed" if expired else "expected-fail")


def test_expiry_in_a_frozen_run(run_checks, pytester):
    path = write(pytester, '''
        [[expected-failure]]
        id = "ALPHA-002"
        reason = "we rewrite auth"
        expires = 2030-06-30
    ''')
    with freeze_time("2030-07-01"):
        run = run_checks({"test_mixed": MIXED_MODULE}, "--expectations", path,
                         "--deselect", "test_mixed.py::test_beta_fail_one")
    assert run.ret == 1
    assert "expired on 2030-06-30" in run.data["notes"]["expectation_problems"][0]


def test_harness_errors_are_never_excused(run_checks, pytester):
    path = write(pytester, '''
        [[expected-failure]]
        id = "BETA-002"
        reason = "no"
    ''')
    run = run_checks({"test_outcomes": OUTCOMES_MODULE}, "--expectations", path)
    assert run.outcomes()["test_harness_error"] == "error"
    assert run.ret == 3


@pytest.mark.parametrize(("text", "message"), [
    ("[[expected-failure]]\nid = 'X-1'\n", "expected-failure[0].reason: required"),
    ("[[expected-failure]]\nid = 'X-1'\nreason = 'r'\nexpires = '2025-01-01'\n",
     "expires: must be a TOML date"),
    ("[[expected-failure]]\nid = 'X-1'\nreason = 'r'\ncolour = 'red'\n",
     "expected-failure[0].colour: unknown field"),
    ("[[expected-failure]]\nid = 'X-1'\nreason = 'r'\n[[expected-failure]]\nid = 'X-1'\n"
     "reason = 'r'\n", "X-1 is listed twice"),
    ("expected-failure = 3\n", "must be an array of tables"),
    ("not toml [", "not valid TOML"),
])
def test_bad_files_are_usage_errors(run_checks, pytester, text, message):
    path = write(pytester, text)
    with pytest.raises(exp.ExpectationsError, match="expectations .*" + message.replace("[", r"\[")
                       .replace("]", r"\]")):
        exp.load(path)
    run = run_checks({"test_mixed": MIXED_MODULE}, "--expectations", path)
    assert run.ret == 4  # pytest's usage error; `convox-conformance run` maps it to 2
    assert message.split(":")[0] in run.text()


def test_update_writes_a_file_that_makes_the_next_run_pass(run_checks, pytester):
    from conformance.commands.main import main

    run = run_checks({"test_mixed": MIXED_MODULE})
    assert run.ret == 1
    output = pytester.path / "mine.toml"
    output.write_text('[[expected-failure]]\nid = "ALPHA-002"\nreason = "we know, see #12"\n'
                      'link = "https://example.invalid/12"\n\n[[expected-failure]]\n'
                      'id = "GONE-001"\nreason = "fixed long ago"\n', encoding="utf-8")
    code = main(["expectations", "update", "--from", str(run.report_dir / "latest"),
                 "--output", str(output)])
    assert code == 0
    entries = {e.id: e for e in exp.load(output)}
    assert set(entries) == {"ALPHA-002", "test_mixed.py::test_beta_fail_one"}
    assert entries["ALPHA-002"].reason == "we know, see #12", "what people wrote is kept"
    assert entries["test_mixed.py::test_beta_fail_one"].reason.startswith("fails: ")
    again = run_checks({}, "--expectations", str(output), report_dir="reports2")
    assert again.ret == 0, again.text()


def test_update_usage_error_for_a_missing_run(tmp_path, capsys):
    from conformance.commands.main import main

    assert main(["expectations", "update", "--from", str(tmp_path / "nope")]) == 2
    assert "--from" in capsys.readouterr().err
