"""From pytest reports to :class:`CheckResult`: the only place reading reports.

Only report data is used (never items or exceptions), because under
pytest-xdist that is all the controller receives. The three phase reports of
one check (setup, call, teardown) arrive separately and are kept together by
node id until the teardown report completes the check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from conformance.report.model.outcomes import (
    BLOCKED_OUTCOME,
    Phase,
    blocked_rule,
    classify,
    one_line,
)
from conformance.report.model.results import Attempt, CheckResult, RuleInfo
from conformance.report.pytest_wiring.check_identity import check_id
from conformance.report.writers.redact import SECRETS_PROPERTY

#: Set by the convox fixture: the check's redacted evidence (conformance.harness.evidence).
EVIDENCE_PROPERTY = "conformance.evidence"
RULES_PROPERTY = "conformance.rules"
EXCEPTION_PROPERTY = "conformance.exception"
ATTEMPTS_PROPERTY = "conformance.attempts"
#: Set by the harness before it ends a check as blocked: {rule, step, detail}.
BLOCKED_PROPERTY = "conformance.blocked"
#: Set by a multi-rule check before it fails: the rule ids that really failed.
FAILED_RULES_PROPERTY = "conformance.failed_rules"
MAX_DETAILS = 20_000


def properties(report: Any, name: str) -> list[Any]:
    return [value for key, value in getattr(report, "user_properties", []) if key == name]


def phase_of(report: Any) -> Phase:
    """The facts of one phase report that decide the outcome."""
    exception = next(iter(properties(report, EXCEPTION_PROPERTY)), None)
    message = ""
    details = ""
    if report.skipped and isinstance(report.longrepr, tuple):
        message = str(report.longrepr[2])
    elif report.failed:
        details = report.longreprtext or ""
        crash = getattr(report.longrepr, "reprcrash", None)
        if exception and exception.get("message"):
            message = exception["message"]
        elif crash is not None:
            message = crash.message
        else:
            message = one_line(details)
    elif report.skipped:  # xfail: wasxfail carries the reason
        message = str(getattr(report, "wasxfail", "") or "")
    return Phase(
        when=report.when,
        outcome=report.outcome,
        message=reason_line(message),
        details=details[-MAX_DETAILS:],
        assertion=exception.get("assertion") if exception else None,
        wasxfail=getattr(report, "wasxfail", None),
        duration=float(getattr(report, "duration", 0.0) or 0.0),
    )


def reason_line(message: str, limit: int = 240) -> str:
    """One line from an exception message: the first line, plus the next when it
    ends with a colon ("expected success:\\n$ convox login ..." reads as one)."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if not lines:
        return ""
    text = lines[0]
    if text.endswith(":") and len(lines) > 1:
        text = f"{text} {lines[1]}"
    if text.startswith("AssertionError: "):
        text = text[len("AssertionError: "):]
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Collector:
    """Gathers phase reports per node id and turns finished checks into results."""

    def __init__(self) -> None:
        self._reports: dict[str, list[Any]] = {}
        self._order: list[str] = []
        self.digests: set[str] = set()

    def add(self, report: Any) -> bool:
        """Keep one phase report; True when it finished its check (teardown)."""
        if report.nodeid not in self._reports:
            self._reports[report.nodeid] = []
            self._order.append(report.nodeid)
        self._reports[report.nodeid].append(report)
        for value in properties(report, SECRETS_PROPERTY):
            self.digests.update(value)
        return report.when == "teardown"

    def order(self) -> list[str]:
        """The node ids of every check seen, in the order their first report came."""
        return list(self._order)

    def reports_of(self, nodeid: str) -> list[Any]:
        return list(self._reports.get(nodeid, []))

    def rule_ids(self, nodeid: str) -> list[str]:
        for report in self._reports.get(nodeid, []):
            for value in properties(report, RULES_PROPERTY):
                return list(value)
        return []

    def any_spec(self) -> bool:
        """Whether this session ran conformance checks (marked with ``spec``)."""
        return any(self.rule_ids(nodeid) for nodeid in self._order)

    def all_rule_ids(self) -> list[str]:
        seen: dict[str, None] = {}
        for nodeid in self._order:
            seen.update(dict.fromkeys(self.rule_ids(nodeid)))
        return list(seen)

    def results(self, rules: Iterable[RuleInfo]) -> list[CheckResult]:
        by_id = {rule.id: rule for rule in rules}
        return [build(nodeid, self._reports[nodeid], self.rule_ids(nodeid), by_id)
                for nodeid in self._order]


def build(nodeid: str, reports: list[Any], rule_ids: list[str],
          rules: Mapping[str, RuleInfo]) -> CheckResult:
    """One check's result from its phase reports."""
    phases = [phase_of(report) for report in reports]
    outcome, reason = classify(phases)
    details = "\n\n".join(f"[{p.when}]\n{p.details}" for p in phases if p.details)
    known = [rules[r] for r in rule_ids if r in rules]
    levels = sorted({r.level for r in known}, key=lambda lv: {"MUST": 0, "SHOULD": 1}.get(lv, 2))
    area = known[0].area if known else (rule_ids[0].split("-", 1)[0] if rule_ids else None)
    last = reports[-1]
    evidence = merge_evidence(properties(last, EVIDENCE_PROPERTY))
    attempts = [Attempt(**a) for value in properties(last, ATTEMPTS_PROPERTY) for a in value]
    blocked: dict[str, Any] | None = None
    blocked_by: str | None = None
    if outcome == BLOCKED_OUTCOME:
        recorded = [v for r in reports for v in properties(r, BLOCKED_PROPERTY)
                    if isinstance(v, dict)]
        blocked = {str(k): str(v) for k, v in recorded[-1].items()} if recorded else None
        blocked_by = (blocked or {}).get("rule") or blocked_rule(reason)
    failed_rules = _failed_rules(reports, rule_ids)
    return CheckResult(
        id=check_id(nodeid),
        nodeid=nodeid,
        rules=list(rule_ids),
        outcome=outcome,
        raw_outcome=outcome,
        reason=reason,
        details=details[-MAX_DETAILS:],
        duration=round(sum(p.duration for p in phases), 4),
        level=levels[0] if levels else None,
        area=area,
        attempts=attempts,
        evidence=evidence,
        blocked_by=blocked_by,
        blocked=blocked,
        failed_rules=failed_rules,
    )


def _failed_rules(reports: list[Any], rule_ids: list[str]) -> list[str] | None:
    """The rules a check said it failed for, in the marker's order; None when unsaid."""
    named: dict[str, None] = {}
    for report in reports:
        for value in properties(report, FAILED_RULES_PROPERTY):
            if isinstance(value, (list, tuple)):
                named.update(dict.fromkeys(str(v) for v in value))
            elif isinstance(value, str):
                named[value] = None
    if not named:
        return None
    return [r for r in rule_ids if r in named] + [r for r in named if r not in rule_ids]


def merge_evidence(values: list[Any]) -> dict[str, Any]:
    """One evidence record, however many times a check recorded some."""
    merged: dict[str, Any] = {"invocations": [], "journal": []}
    for value in values:
        if not isinstance(value, dict):
            continue
        for key, items in value.items():
            if isinstance(items, list):
                merged.setdefault(key, []).extend(items)
            else:
                merged[key] = items
    return merged
