"""Baseline gating: only regressions fail; new failures; fixed checks are reported."""

from __future__ import annotations

import json

import pytest

from conformance.report.gate import baseline as baseline_mod
from conformance.report.model.results import CheckResult

BEFORE = '''
import pytest

@pytest.mark.spec("ALPHA-001")
def test_stays_green():
    pass

@pytest.mark.spec("ALPHA-002")
def test_regresses():
    pass

@pytest.mark.spec("BETA-001")
def test_already_red():
    assert False, "old bug"

@pytest.mark.spec("BETA-002")
def test_gets_fixed():
    assert False, "fixed later"
'''

AFTER = '''
import pytest

@pytest.mark.spec("ALPHA-001")
def test_stays_green():
    pass

@pytest.mark.spec("ALPHA-002")
def test_regresses():
    assert False, "now broken"

@pytest.mark.spec("BETA-001")
def test_already_red():
    assert False, "old bug"

@pytest.mark.spec("BETA-002")
def test_gets_fixed():
    pass

@pytest.mark.spec("BETA-003")
def test_brand_new():
    assert False, "new check fails"
'''


@pytest.fixture
def baseline_path(run_checks):
    first = run_checks({"test_gate": BEFORE}, report_dir="base")
    assert first.ret == 1
    return str(first.run_dir / "results.json")


def test_regression_and_new_failure_fail_the_run(run_checks, baseline_path):
    run = run_checks({"test_gate": AFTER}, "--baseline", baseline_path)
    assert run.ret == 1
    assert run.outcomes() == {
        "test_stays_green": "passed",
        "test_regresses": "failed",
        "test_already_red": "expected-fail",
        "test_gets_fixed": "passed",
        "test_brand_new": "new-failure",
    }
    assert run.check("test_regresses")["baseline"] == "passed"
    assert run.check("test_brand_new")["baseline"] == "absent"
    assert run.data["notes"]["fixed"] == ["test_gate.py::test_gets_fixed"]
    assert "refresh the baseline" in run.text()


def test_only_known_failures_pass_the_gate(run_checks, baseline_path, pytester):
    source = AFTER.replace('assert False, "now broken"', "pass")
    run = run_checks({"test_gate": source}, "--baseline", baseline_path,
                     "--deselect", "test_gate.py::test_brand_new")
    assert run.ret == 0, run.text()
    assert run.outcomes()["test_already_red"] == "expected-fail"


def test_new_checks_pending_lets_new_failures_through_with_a_warning(run_checks, baseline_path):
    source = AFTER.replace('assert False, "now broken"', "pass")
    run = run_checks({"test_gate": source}, "--baseline", baseline_path,
                     "--new-checks=pending")
    assert run.ret == 0, run.text()
    assert run.outcomes()["test_brand_new"] == "new-failure"
    assert any("pending" in w for w in run.data["verdict"]["warnings"])
    assert "warning:" in run.text()


def test_baseline_may_be_a_run_directory_or_latest(run_checks, baseline_path, pytester):
    run = run_checks({"test_gate": BEFORE}, "--baseline", str(pytester.path / "base" / "latest"))
    assert run.ret == 0, "the same failures as the baseline are not regressions"


@pytest.mark.parametrize("content", ["{}", "not json", json.dumps({"schema_version": 99})])
def test_unreadable_baseline_is_a_usage_error(run_checks, pytester, content):
    path = pytester.path / "results.json"
    path.write_text(content, encoding="utf-8")
    run = run_checks({"test_gate": BEFORE}, "--baseline", str(path))
    assert run.ret == 4
    assert "baseline" in run.text()


def test_apply_marks_checks():
    def check(name: str, outcome: str) -> CheckResult:
        return CheckResult(id=name, nodeid=name, rules=[], outcome=outcome, raw_outcome=outcome)

    from types import SimpleNamespace

    base = SimpleNamespace(
        checks=[check("a", "passed"), check("b", "failed"), check("c", "not-applicable"),
                check("d", "expected-fail")],
        run=SimpleNamespace(run_id="base-run"))
    now = [check("a", "failed"), check("b", "failed"), check("c", "failed"), check("d", "passed"),
           check("e", "failed")]
    fixed = baseline_mod.apply(now, base)  # type: ignore[arg-type]
    assert [c.outcome for c in now] == ["failed", "expected-fail", "new-failure", "passed",
                                        "new-failure"]
    assert fixed == ["d"]
    assert "already failing in baseline base-run" in now[1].reason
