"""Blocked checks, per-rule blame and root causes (the shared *blocked* protocol).

The synthetic checks do what the harness does when a set-up step fails:
record ``conformance.blocked`` and skip with ``blocked by RULE-ID: ...``;
and what a multi-rule check does when only some of its rules failed:
record ``conformance.failed_rules`` before failing.
"""

from __future__ import annotations

import textwrap

import jsonschema

from conformance.report.model.outcomes import BLOCKED
from conformance.report.writers import json_report

BLOCKED_MODULE = '''
import pytest
from conformance.report.model.outcomes import BLOCKED

def block(request, rule, step):
    request.node.user_properties.append(
        ("conformance.blocked", {"rule": rule, "step": step, "detail": "$ convox login -> exit 1"}))
    pytest.skip(BLOCKED + rule + ": " + step + " failed")

@pytest.mark.spec("ALPHA-001")
def test_login_itself_fails():
    assert False, "login refused a good key"

@pytest.mark.spec("BETA-001")
def test_blocked_by_login(request):
    block(request, "ALPHA-001", "log in to Console as alice")

@pytest.mark.spec("BETA-002")
def test_blocked_without_property():
    pytest.skip("blocked by ALPHA-001: log in to Console as bob failed")

@pytest.mark.spec("BETA-003", "ALPHA-002")
def test_model_blames_one_rule(request):
    request.node.user_properties.append(("conformance.failed_rules", ["ALPHA-002"]))
    assert False, "the key was altered in transit"

@pytest.mark.spec("BETA-003")
def test_beta3_own_check():
    pass
'''

#: Only blocked checks: the blocking rule failed nowhere itself.
ONLY_BLOCKED_MODULE = '''
import pytest
from conformance.report.model.outcomes import BLOCKED

@pytest.mark.spec("ALPHA-001")
def test_login_passes():
    pass

@pytest.mark.spec("BETA-001")
def test_blocked(request):
    request.node.user_properties.append(
        ("conformance.blocked", {"rule": "ALPHA-002", "step": "log in to the rack", "detail": ""}))
    pytest.skip(BLOCKED + "ALPHA-002: log in to the rack failed")

@pytest.mark.spec("ALPHA-003")
def test_should_blocked(request):
    pytest.skip(BLOCKED + "ALPHA-003: log out failed")
'''


def test_blocked_outcome_and_its_rule(run_checks):
    run = run_checks({"test_blocked": BLOCKED_MODULE})
    assert run.outcomes() == {
        "test_login_itself_fails": "failed",
        "test_blocked_by_login": "blocked",
        "test_blocked_without_property": "blocked",
        "test_model_blames_one_rule": "failed",
        "test_beta3_own_check": "passed",
    }
    blocked = run.check("test_blocked_by_login")
    assert blocked["blocked_by"] == "ALPHA-001"
    assert blocked["blocked"]["step"] == "log in to Console as alice"
    assert blocked["reason"] == "blocked by ALPHA-001: log in to Console as alice failed"
    assert run.check("test_blocked_without_property")["blocked_by"] == "ALPHA-001", \
        "parsed from the reason when the property is missing"
    jsonschema.validate(run.data, json_report.schema())


def test_blocked_counts_neither_as_pass_nor_failure(run_checks):
    run = run_checks({"test_blocked": BLOCKED_MODULE})
    rules = {r["id"]: r for r in run.data["rules"]}
    assert rules["BETA-001"]["outcome"] == "blocked"
    assert rules["BETA-001"]["status"] == "undecided"
    must = run.data["summary"]["must"]
    # ALPHA-001 and ALPHA-002 failed; BETA-001 and BETA-002 are undecided. BETA-003's own
    # check passed, and only the model check (of two rules) was stopped: it is decided.
    assert (must["passed"], must["decided"]) == (1, 3)
    assert {u["id"] for u in must["undecided"]} == {"BETA-001", "BETA-002"}
    assert "2 undecided (BETA-001 blocked by ALPHA-001" in must["text"]
    assert run.ret == 1, "the root cause ALPHA-001 failed, so the gate fails"


def test_failed_rules_blame_only_the_listed_rules(run_checks):
    run = run_checks({"test_blocked": BLOCKED_MODULE})
    rules = {r["id"]: r for r in run.data["rules"]}
    assert rules["ALPHA-002"]["outcome"] == "failed"
    assert rules["BETA-003"]["outcome"] == "blocked", \
        "its own check passed; the model check ended on ALPHA-002 before deciding BETA-003"
    assert rules["BETA-003"]["status"] == "passed", "decided by its own check"
    assert run.check("test_model_blames_one_rule")["failed_rules"] == ["ALPHA-002"]
    reasons = run.data["verdict"]["reasons"]
    assert any(r.startswith("ALPHA-002 (test_blocked.py::test_model_blames_one_rule) failed")
               for r in reasons)
    assert not any(r.startswith("BETA-003") for r in reasons)
    assert "  ALPHA-002  failed: the key was altered in transit" in run.text()


def test_root_causes_come_first_everywhere(run_checks):
    run = run_checks({"test_blocked": BLOCKED_MODULE})
    causes = run.data["root_causes"]
    assert [c["rule"] for c in causes] == ["ALPHA-001", "ALPHA-002"]
    assert causes[0]["failed"] == ["test_blocked.py::test_login_itself_fails"]
    assert causes[0]["blocked"] == ["test_blocked.py::test_blocked_by_login",
                                    "test_blocked.py::test_blocked_without_property"]
    line = run.data["summary"]["root_causes"]
    assert line == ("ALPHA-001 Login records the host (1 check) · ALPHA-002 Login stores the key "
                    "(1 check) · 2 checks blocked by ALPHA-001")
    text = run.text()
    assert text.index("root causes (2):") < text.index("failing rules:")
    assert "ALPHA-001 MUST: Login records the host [1 failed, 2 blocked] — login refused" in text
    assert "blocked checks (2):" in text
    # The reports' rule table is the root causes: each failed rule once, first, worst first.
    summary = (run.run_dir / "summary.md").read_text("utf-8")
    order = ["| `ALPHA-001`", "| `ALPHA-002`", "| `BETA-001`", "| area (rules) |"]
    assert [summary.index(row) for row in order] == sorted(summary.index(r) for r in order)
    assert ("| `BETA-001` Switch is quick | MUST | undecided | blocked by ALPHA-001: log in to "
            "Console as alice failed |") in summary
    html = (run.run_dir / "report.html").read_text("utf-8")
    rows = ['id="rule-ALPHA-001"', 'id="rule-ALPHA-002"', 'id="rule-BETA-001"',
            'id="rule-BETA-003"', 'id="run"']
    assert [html.index(row) for row in rows] == sorted(html.index(r) for r in rows)
    assert "(+2 blocked)" in html and "badge o-blocked" in html
    junit = (run.run_dir / "junit.xml").read_text("utf-8")
    assert 'type="blocked"' in junit and "blocked by ALPHA-001" in junit


def test_terminal_letter_for_blocked(run_checks):
    run = run_checks({"test_blocked": BLOCKED_MODULE}, "--no-color", "-rA")
    assert "test_blocked.py FBBF." in run.text()
    run = run_checks({"test_blocked": BLOCKED_MODULE}, "--no-color", "-v")
    assert "test_blocked.py::test_blocked_by_login BLOCKED" in run.text()


def test_a_rule_that_failed_only_as_a_set_up_step_fails_the_gate(run_checks):
    run = run_checks({"test_only": ONLY_BLOCKED_MODULE})
    assert run.outcomes() == {"test_login_passes": "passed", "test_blocked": "blocked",
                              "test_should_blocked": "blocked"}
    assert run.ret == 1
    causes = {c["rule"]: c for c in run.data["root_causes"]}
    assert causes["ALPHA-002"]["failed"] == [] and causes["ALPHA-002"]["blocked"]
    assert any(r.startswith("ALPHA-002 failed as a set-up step of 1 check(s)")
               for r in run.data["verdict"]["reasons"])
    assert "ALPHA-002 Login stores the key (failed only as a set-up step)" in \
        run.data["summary"]["root_causes"]


def test_gate_on_must_ignores_a_should_rule_blocking(run_checks):
    module = ONLY_BLOCKED_MODULE.replace('"ALPHA-002"', '"ALPHA-003"').replace(
        "ALPHA-002:", "ALPHA-003:")
    run = run_checks({"test_only": module}, "--fail-on", "must")
    assert run.ret == 0, run.text()
    assert run.data["verdict"]["status"] == "gate-passed"
    assert run.data["verdict"]["not_gated"] == ["ALPHA-003"]


def test_an_expected_blocking_rule_is_a_known_failure(run_checks, pytester):
    path = pytester.path / "expectations.toml"
    path.write_text(textwrap.dedent('''
        [[expected-failure]]
        id = "ALPHA-002"
        reason = "rack logins do not work yet"
        [[expected-failure]]
        id = "ALPHA-003"
        reason = "no logout"
    '''), encoding="utf-8")
    run = run_checks({"test_only": ONLY_BLOCKED_MODULE}, "--expectations", str(path))
    assert run.ret == 0, run.text()
    assert run.data["verdict"]["status"] == "no-regression"
    assert run.data["verdict"]["known_failures"] == ["ALPHA-002", "ALPHA-003"]


def test_blocked_prefix_is_the_contract():
    assert BLOCKED == "blocked by "
