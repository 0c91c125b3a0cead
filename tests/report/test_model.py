"""The pure parts: classification, rule aggregation, scoring, the verdict."""

from __future__ import annotations

from dataclasses import asdict, fields

import pytest

from conformance.report.gate.verdict import decide
from conformance.report.model.outcomes import Phase, classify, not_applicable_reason, worst
from conformance.report.model.records import Attempt
from conformance.report.model.results import CheckResult, must_score


def test_pytest_xfail_marks_are_honoured():
    assert classify([Phase("setup", "passed"), Phase("call", "skipped", wasxfail="known")]) == \
        ("expected-fail", "known")
    assert classify([Phase("setup", "passed"), Phase("call", "passed", wasxfail="known")]) == \
        ("unexpected-pass", "known")


def test_failure_without_recorder_data_falls_back_on_the_crash_line():
    assert classify([Phase("call", "failed", "assert 1 == 2")])[0] == "failed"
    assert classify([Phase("call", "failed", "ValueError: x")])[0] == "error"


@pytest.mark.parametrize(("message", "reason"), [
    ("Skipped: not applicable: no logout", "no logout"),
    ("not applicable: x", "x"),
    ("Skipped: slow", "skipped: slow"),
])
def test_skip_reasons(message, reason):
    assert not_applicable_reason(message) == reason


def test_worst_and_score():
    assert worst(["passed", "not-applicable", "flaky"]) == "flaky"
    assert worst(["expected-fail", "error"]) == "error"
    assert worst([]) == "not-run"
    assert must_score({"A": "passed", "B": "not-applicable", "C": "expected-fail",
                       "D": "not-run"}) == (1, 2)


def _check(outcome: str) -> CheckResult:
    return CheckResult(id=outcome, nodeid=outcome, rules=["R-001"], outcome=outcome,
                       raw_outcome=outcome)


@pytest.mark.parametrize(("outcomes", "code"), [
    (["passed", "not-applicable", "expected-fail", "flaky"], 0),
    (["passed", "failed"], 1),
    (["unexpected-pass"], 1),
    (["new-failure"], 1),
    (["failed", "error"], 3),
])
def test_decide(outcomes, code):
    assert decide([_check(o) for o in outcomes]).exit_code == code


def test_decide_pending_and_expectation_problems():
    assert decide([_check("new-failure")], new_checks="pending").exit_code == 0
    verdict = decide([_check("passed")], expectation_problems=["expired"])
    assert verdict.exit_code == 1 and verdict.reasons == ["expired"]


def test_scores_count_rules_by_what_really_happened():
    assert must_score({"A": "unexpected-pass", "B": "blocked", "C": "error",
                       "D": "expected-fail"}) == (1, 2)


def test_decide_gates_on_the_chosen_level():
    should = CheckResult(id="s", nodeid="s", rules=["S-001"], outcome="failed",
                         raw_outcome="failed")
    levels = {"S-001": "SHOULD", "M-001": "MUST"}
    assert decide([should], levels=levels).exit_code == 1
    verdict = decide([should], levels=levels, fail_on="must")
    assert (verdict.exit_code, verdict.status, verdict.not_gated) == (0, "gate-passed", ["s"])
    must = CheckResult(id="m", nodeid="m", rules=["S-001", "M-001"], outcome="failed",
                       raw_outcome="failed", failed_rules=["S-001"])
    assert decide([must], levels=levels, fail_on="must").exit_code == 0, \
        "blamed on its SHOULD rule only"
    blocked = _check("blocked")
    blocked.blocked_by = "LOGIN-004"
    assert decide([blocked]).exit_code == 0, "blocked alone is no failure (its cause is)"
    assert decide([_check("blocked")]).exit_code == 1, "but a blocked check needs a cause"


def _unchecked(rule: str) -> CheckResult:
    return CheckResult(id=rule, nodeid=rule, rules=[rule], outcome="not-checked",
                       raw_outcome="not-checked",
                       reason=f"{rule} needs the network sandbox, and this run is on the host "
                              "network (...)")


NO_SANDBOX = "no network sandbox: unshare (util-linux) is not on PATH; fix: install util-linux"
LEVELS = {"M-001": "MUST", "S-001": "SHOULD", "P-001": "MUST"}


def test_a_rule_the_machine_could_not_check_is_no_pass():
    """Forced onto the host network: NOT CHECKED, exit 1, the rules and the fix named."""
    checks = [_unchecked("M-001"), _unchecked("S-001"),
              CheckResult(id="p", nodeid="p", rules=["P-001"], outcome="passed",
                          raw_outcome="passed")]
    verdict = decide(checks, levels=LEVELS, network_why=NO_SANDBOX)
    assert (verdict.exit_code, verdict.status) == (1, "not-checked")
    assert verdict.not_checked == ["M-001", "S-001"]
    assert verdict.not_checked_why == f"M-001, S-001 not checked: {NO_SANDBOX}"
    assert verdict.reasons == [verdict.not_checked_why]


def test_not_checked_follows_the_gates_level():
    """--fail-on must holds only the MUST rule against the run; a SHOULD alone passes the
    gate, as a SHOULD failure does, but the run is not called conformant."""
    verdict = decide([_unchecked("S-001")], levels=LEVELS, fail_on="must", network_why="x")
    assert (verdict.exit_code, verdict.status, verdict.not_checked) == (0, "gate-passed",
                                                                        ["S-001"])
    assert verdict.not_checked_why == "S-001 (not gated: --fail-on must) not checked: x"
    verdict = decide([_unchecked("M-001"), _unchecked("S-001")], levels=LEVELS,
                     fail_on="must", network_why="x")
    assert (verdict.exit_code, verdict.status) == (1, "not-checked")
    assert verdict.not_checked_why == ("M-001, S-001 (not gated: --fail-on must) "
                                       "not checked: x")


def test_failures_outrank_not_checked_and_a_chosen_host_network_passes_the_gate():
    failed = CheckResult(id="f", nodeid="f", rules=["P-001"], outcome="failed",
                         raw_outcome="failed", reason="boom")
    verdict = decide([failed, _unchecked("M-001")], levels=LEVELS, network_why="x")
    assert verdict.status == "failures" and len(verdict.reasons) == 2
    chosen = decide([_unchecked("M-001")], levels=LEVELS, host_chosen=True,
                    network_why="--network host was given")
    assert (chosen.exit_code, chosen.status) == (0, "gate-passed")
    assert chosen.not_checked == ["M-001"] and not chosen.reasons


def test_a_rule_decided_by_another_check_is_still_not_checked_while_one_could_not_run():
    """A rule is as its worst check: one unobserved check leaves it unchecked."""
    passed = CheckResult(id="p", nodeid="p", rules=["M-001"], outcome="passed",
                         raw_outcome="passed")
    assert worst(["passed", "not-checked"]) == "not-checked"
    assert decide([passed, _unchecked("M-001")], levels=LEVELS).status == "not-checked"


def test_a_checks_json_form_is_what_asdict_gives():
    """to_dict shares values instead of copying them; it must not drop or change one."""
    check = CheckResult(
        id="t.py::test_x", nodeid="t.py::test_x", rules=["R-001", "R-002"], outcome="failed",
        raw_outcome="failed", reason="why", details="more", duration=1.5, level="MUST",
        area="login", attempts=[Attempt("failed", "again", 0.5), Attempt("passed")],
        expectation={"rule": "R-001"}, baseline="passed",
        evidence={"invocations": [{"argv": ["login"], "exit_code": 1}], "journal": [{"a": 1}]},
        blocked_by="R-003", blocked={"rule": "R-003", "step": "login", "detail": "d"},
        failed_rules=["R-001"], repro="repro/t.sh",
    )
    assert check.to_dict() == asdict(check)
    assert set(check.to_dict()) == {f.name for f in fields(CheckResult)}
    assert CheckResult.from_dict(check.to_dict()) == check
