"""``junit.xml``: what CI systems (GitHub, GitLab, Jenkins) render natively.

One ``testsuite`` per area; each check is a ``testcase`` whose name starts
with its rule ids, so a CI page reads "LOGIN-003 test_login.py::test_keeps"
and the evidence sits in ``system-out``. Expected failures and not-applicable
checks are ``skipped`` (with the reason), and so are blocked checks, so the
CI's red/green matches the suite's verdict.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict

from conformance.report.model.outcomes import (
    BLOCKED_OUTCOME,
    ERROR,
    EXPECTED_FAIL,
    FAILED,
    FLAKY,
    NEW_FAILURE,
    NOT_APPLICABLE,
    NOT_CHECKED,
    UNEXPECTED_PASS,
)
from conformance.report.model.results import CheckResult, RunResult
from conformance.report.writers.plain_text import check_text

_CONTROL = {c: None for c in range(32) if c not in (9, 10, 13)}


def clean(text: str) -> str:
    """XML 1.0 cannot carry most control characters; CLIs print them anyway."""
    return text.translate(_CONTROL)


def testcase_name(check: CheckResult) -> str:
    return f"{' '.join(check.rules)} {check.id}".strip()


def render(result: RunResult, new_checks: str = "fail") -> str:
    by_area: dict[str, list[CheckResult]] = defaultdict(list)
    for check in result.checks:
        by_area[check.area or "UNMARKED"].append(check)
    root = ET.Element("testsuites", name="convox-conformance",
                      tests=str(len(result.checks)),
                      time=f"{result.run.duration:.3f}")
    for area in result.areas():
        checks = by_area.get(area, [])
        if not checks:
            continue
        suite = ET.SubElement(root, "testsuite", name=f"conformance.{area}",
                              tests=str(len(checks)), timestamp=result.run.started,
                              time=f"{sum(c.duration for c in checks):.3f}")
        counts: dict[str, int] = {"failures": 0, "errors": 0, "skipped": 0}
        for check in checks:
            case = ET.SubElement(suite, "testcase", name=clean(testcase_name(check)),
                                 classname=f"conformance.{area}", time=f"{check.duration:.3f}")
            kind = _element(check, new_checks)
            if kind is not None:
                tag, message = kind
                counts[{"failure": "failures", "error": "errors", "skipped": "skipped"}[tag]] += 1
                element = ET.SubElement(case, tag, message=clean(message[:1000]),
                                        type=check.outcome)
                if tag != "skipped":
                    element.text = clean(check.details or check.reason)
            ET.SubElement(case, "system-out").text = clean(check_text(check))
        for name, count in counts.items():
            suite.set(name, str(count))
    properties = ET.Element("properties")
    for name, value in (("run_id", result.run.run_id), ("suite_version", result.run.suite_version),
                        ("profile", result.run.profile.get("name", "")),
                        ("cli_version", result.run.cli_version or ""),
                        ("verdict", result.verdict.status),
                        ("fail_on", result.verdict.fail_on),
                        ("partial", str(result.scope.partial).lower())):
        ET.SubElement(properties, "property", name=name, value=clean(str(value)))
    for suite in root:
        suite.insert(0, _copy(properties))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _copy(element: ET.Element) -> ET.Element:
    return ET.fromstring(ET.tostring(element))


def _element(check: CheckResult, new_checks: str) -> tuple[str, str] | None:
    reason = check.reason or check.outcome
    if check.outcome == FAILED:
        return "failure", reason
    if check.outcome == NEW_FAILURE:
        if new_checks == "pending":
            return "skipped", f"new check, pending: {reason}"
        return "failure", f"new since the baseline: {reason}"
    if check.outcome == UNEXPECTED_PASS:
        return "failure", reason
    if check.outcome == ERROR:
        return "error", reason
    if check.outcome == NOT_APPLICABLE:
        return "skipped", f"not applicable: {reason}"
    if check.outcome == NOT_CHECKED:
        return "skipped", f"not checked: {reason}"
    if check.outcome == EXPECTED_FAIL:
        return "skipped", f"expected failure: {reason}"
    if check.outcome == BLOCKED_OUTCOME:
        return "skipped", reason  # "blocked by RULE-ID: ..."
    if check.outcome == FLAKY:
        return None  # passes the run; system-out says it was flaky
    return None
