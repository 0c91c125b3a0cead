"""The gate cannot mislead: verdict words, partial runs, --fail-on, expectations that stay.

Each test replays one finding of a maintainer who went through the README's
whole flow with their own CLI (numbers as in the issue), with synthetic
checks instead of a CLI so every case takes a fraction of a second.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from conformance.commands.main import main
from conformance.report.gate import expectations as exp

#: ALPHA-002 (MUST) fails, ALPHA-001 (MUST) passes.
ONE_MUST_FAILURE = '''
import pytest

@pytest.mark.spec("ALPHA-001")
def test_pass():
    pass

@pytest.mark.spec("ALPHA-002")
def test_fail():
    assert False, "auth was rewritten"
'''

#: Three rules; "model" is a check of several rules, like the state machine.
PARTIAL_MODULE = '''
import pytest

@pytest.mark.spec("ALPHA-001")
def test_alpha_one():
    pass

@pytest.mark.spec("ALPHA-001", "BETA-002", "BETA-003")
def test_alpha_model():
    pass

@pytest.mark.spec("BETA-002")
def test_beta_two():
    pass
'''


def write(pytester: pytest.Pytester, text: str, name: str = "expectations.toml") -> Path:
    path = pytester.path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# ---------------------------------------------------------------- finding 1

def test_1_update_from_a_partial_run_cannot_lose_expectations(run_checks, pytester, capsys):
    module = ONE_MUST_FAILURE + '''
@pytest.mark.spec("BETA-001")
def test_beta_fails():
    assert False, "switch forgot the rack"
'''
    run_checks({"test_cli": module})
    target = pytester.path / "expectations.toml"
    latest = str(pytester.path / "reports" / "latest")
    assert main(["expectations", "update", "--from", latest, "--output", str(target)]) == 0
    assert {e.id for e in exp.load(target)} == {"ALPHA-002", "BETA-001"}
    before = target.read_text("utf-8")

    # A run of one rule now overwrites reports/latest ...
    partial = run_checks({"test_cli": module}, "-k", "test_pass")
    assert partial.data["scope"]["partial"] is True
    capsys.readouterr()
    # ... and updating from it used to write 0 entries, dropping both failures.
    assert main(["expectations", "update", "--from", latest, "--output", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("convox-conformance: expectations update:")
    assert "is a partial run (-k test_pass" in err and "--merge" in err
    assert target.read_text("utf-8") == before, "the file is left alone"

    # --merge updates what the run decided and keeps the rest.
    assert main(["expectations", "update", "--from", latest, "--output", str(target),
                 "--merge"]) == 0
    assert {e.id for e in exp.load(target)} == {"ALPHA-002", "BETA-001"}
    assert "dropped" not in capsys.readouterr().out


def test_1_merge_drops_a_decided_rule_that_now_passes(run_checks, pytester):
    target = write(pytester, '''
        [[expected-failure]]
        id = "ALPHA-001"
        reason = "used to fail"
        [[expected-failure]]
        id = "BETA-001"
        reason = "not run below"
    ''')
    run_checks({"test_cli": ONE_MUST_FAILURE}, "-k", "test_pass")
    latest = str(pytester.path / "reports" / "latest")
    assert main(["expectations", "update", "--from", latest, "--output", str(target),
                 "--merge"]) == 0
    assert [e.id for e in exp.load(target)] == ["BETA-001"]


def test_1_an_entry_never_exercised_warns_and_strict_fails(run_checks, pytester):
    path = write(pytester, '''
        [[expected-failure]]
        id = "ALPHA-002"
        reason = "we rewrite auth"
        [[expected-failure]]
        id = "BETA-001"
        reason = "no check of it runs here"
    ''')
    run = run_checks({"test_cli": ONE_MUST_FAILURE}, "--expectations", str(path))
    assert run.ret == 0
    warning = f"expectation BETA-001 in {path} was never exercised: no check of it ran"
    assert warning in run.data["verdict"]["warnings"]
    assert f"warning: {warning}" in run.text()
    strict = run_checks({"test_cli": ONE_MUST_FAILURE}, "--expectations", str(path),
                        "--strict-expectations")
    assert strict.ret == 1
    assert f"{warning} (--strict-expectations)" in strict.data["verdict"]["reasons"]


# ---------------------------------------------------------------- finding 2

def test_2_a_known_must_failure_is_no_regression_not_conformant(run_checks, pytester):
    path = write(pytester, '''
        [[expected-failure]]
        id = "ALPHA-002"
        reason = "we rewrite auth"
        link = "https://example.invalid/issues/7"
        expires = 2999-01-31
    ''')
    run = run_checks({"test_cli": ONE_MUST_FAILURE}, "--expectations", str(path), "--no-color")
    assert run.ret == 0
    verdict = run.data["verdict"]
    assert verdict["status"] == "no-regression"
    assert verdict["known_failures"] == ["ALPHA-002"]
    assert verdict["soonest_expiry"] == "2999-01-31"
    assert ("verdict: NO REGRESSION (exit code 0, --fail-on should) · 1 known failure, "
            "soonest expiry 2999-01-31 · MUST 1/2 passed") in run.text()
    assert "CONFORMANT (" not in run.text()
    used = run.data["notes"]["expectations"]
    assert used == [{"id": "ALPHA-002", "reason": "we rewrite auth",
                     "link": "https://example.invalid/issues/7", "expires": "2999-01-31",
                     "checks": ["test_cli.py::test_fail"]}]
    summary = (run.run_dir / "summary.md").read_text("utf-8")
    assert summary.startswith("## Convox conformance: 🟡 NO REGRESSION")
    assert "conformant" not in summary.splitlines()[0].lower().replace("no regression", "")
    assert ("| `ALPHA-002` | we rewrite auth | [link](https://example.invalid/issues/7) | "
            "2999-01-31 |") in summary
    html = (run.run_dir / "report.html").read_text("utf-8")
    assert 'id="expected-failures"' in html and "we rewrite auth" in html
    assert "2999-01-31" in html


def test_2_an_expected_failure_that_passes_scores_as_passed(run_checks, pytester):
    path = write(pytester, '''
        [[expected-failure]]
        id = "ALPHA-001"
        reason = "used to fail"
    ''')
    run = run_checks({"test_cli": ONE_MUST_FAILURE}, "--expectations", str(path),
                     "-k", "test_pass")
    assert run.ret == 1, "an unexpected pass fails the gate"
    must = run.data["summary"]["must"]
    assert (must["passed"], must["decided"]) == (1, 1), "the rule passed: 1/1, not 0/1"
    assert "MUST 1/1 passed" in run.text()


def test_2_conformant_only_without_expectations(run_checks):
    run = run_checks({"test_cli": ONE_MUST_FAILURE}, "-k", "test_pass")
    assert run.data["verdict"]["status"] == "conformant"


# ---------------------------------------------------------------- finding 3

def test_3_partial_run_scores_only_rules_whose_checks_all_ran(run_checks):
    run = run_checks({"test_cli": PARTIAL_MODULE}, "-k", "alpha", "--no-color")
    assert run.ret == 0
    must = run.data["summary"]["must"]
    # ALPHA-001: both its checks ran. BETA-002: its own check was deselected.
    # BETA-003: only the multi-rule check touched it, so nothing decided it.
    assert (must["passed"], must["decided"]) == (1, 1)
    assert {"BETA-002", "BETA-003"} <= set(must["not_run"])
    assert run.data["scope"]["not_run"] == [{"id": "test_cli.py::test_beta_two",
                                             "rules": ["BETA-002"]}]
    assert "verdict: CONFORMANT, PARTIAL RUN (exit code 0" in run.text()
    assert "partial: -k alpha; 1 of 3 checks did not run" in run.text()
    summary = (run.run_dir / "summary.md").read_text("utf-8")
    assert "(partial run)" in summary.splitlines()[0]
    assert "**Partial run**" in summary
    html = (run.run_dir / "report.html").read_text("utf-8")
    assert "PARTIAL RUN" in html and "not decided by this partial run" in html
    junit = (run.run_dir / "junit.xml").read_text("utf-8")
    assert '<property name="partial" value="true"' in junit


def test_3_a_whole_run_is_not_partial(run_checks):
    run = run_checks({"test_cli": PARTIAL_MODULE})
    assert run.data["scope"]["partial"] is False
    assert run.data["summary"]["must"]["passed"] == 3
    assert "PARTIAL" not in run.text()


def test_3_partial_under_xdist(run_checks):
    pytest.importorskip("xdist")
    run = run_checks({"test_cli": PARTIAL_MODULE}, "-k", "alpha", "-p", "xdist", "-n", "2",
                     subprocess=True)
    assert run.data["scope"]["partial"] is True
    assert run.data["summary"]["must"]["decided"] == 1


# ---------------------------------------------------------------- finding 4

def test_4_a_not_applicable_must_rule_is_shown_beside_the_score(run_checks):
    module = '''
import pytest

@pytest.mark.spec("ALPHA-001")
def test_pass():
    pass

@pytest.mark.spec("ALPHA-002")
def test_na():
    pytest.skip("not applicable: ALPHA-002 needs resolve, which profile mine lacks")
'''
    run = run_checks({"test_cli": module}, "--no-color")
    assert run.ret == 0
    assert ("MUST 1/1 passed · 1 not applicable (ALPHA-002: needs resolve, which profile "
            "mine lacks)") in run.text()
    assert run.data["summary"]["must"]["not_applicable"] == [
        {"id": "ALPHA-002", "reason": "needs resolve, which profile mine lacks"}]
    summary = (run.run_dir / "summary.md").read_text("utf-8")
    assert ("| `ALPHA-002` Login stores the key | MUST | not applicable | needs resolve, which "
            "profile mine lacks |") in summary
    html = (run.run_dir / "report.html").read_text("utf-8")
    assert 'id="rule-ALPHA-002" data-outcome="not-applicable"' in html
    assert "needs resolve, which profile mine lacks</summary>" in html


# ---------------------------------------------------------------- finding 5

SHOULD_FAILURE = '''
import pytest

@pytest.mark.spec("ALPHA-001")
def test_must_passes():
    pass

@pytest.mark.spec("ALPHA-003")
def test_should_fails():
    assert False, "no logout"
'''


def test_5_fail_on_must_ignores_should_failures(run_checks):
    default = run_checks({"test_cli": SHOULD_FAILURE}, "--no-color")
    assert default.ret == 1
    assert default.data["verdict"]["fail_on"] == "should"
    assert "verdict: NOT CONFORMANT (exit code 1, --fail-on should)" in default.text()
    must = run_checks({"test_cli": SHOULD_FAILURE}, "--fail-on", "must", "--no-color")
    assert must.ret == 0
    assert must.data["verdict"]["fail_on"] == "must"
    assert must.data["verdict"]["status"] == "gate-passed"
    assert ("verdict: GATE PASSED (exit code 0, --fail-on must) · 1 failing but not gated "
            "(test_cli.py::test_should_fails)") in must.text()
    assert must.data["run"]["options"]["fail_on"] == "must"


def test_5_fail_on_must_still_fails_on_must_rules(run_checks):
    run = run_checks({"test_cli": ONE_MUST_FAILURE}, "--fail-on", "must")
    assert run.ret == 1


def test_5_fail_on_is_a_run_option():
    from conformance.commands.main import build_parser

    args = build_parser().parse_args(["run", "--fail-on", "must"])
    from conformance.run_options import pytest_arguments

    assert "--fail-on" in pytest_arguments(args)
    assert pytest_arguments(args)[pytest_arguments(args).index("--fail-on") + 1] == "must"


# ---------------------------------------------------------------- finding 8

def test_8_generated_reasons_carry_no_ports_paths_or_timings(run_checks, pytester):
    module = '''
import pytest

@pytest.mark.spec("ALPHA-002")
def test_fail():
    raise AssertionError(
        "expected success: $ /opt/venv/bin/python -m mycli login 127.0.0.1:41234 --password "
        "<user:alice@example.com#1>  -> exit 1 in 0.23s, wrote /tmp/pytest-7/cli0/.mycvx/auth")
'''
    run_checks({"test_cli": module})
    target = pytester.path / "expectations.toml"
    assert main(["expectations", "update", "--from", str(pytester.path / "reports" / "latest"),
                 "--output", str(target)]) == 0
    reason = exp.load(target)[0].reason
    assert reason == ("fails: expected success: $ <path> -m mycli login <host> --password "
                      "<user:alice@example.com> -> exit 1 in <time>, wrote <path>")
    text = target.read_text("utf-8")
    assert "41234" not in text and "/tmp/" not in text and "from run" not in text
