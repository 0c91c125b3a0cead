"""The gate: exit code and verdict word of a run, and the one line that says both.

Three words a CI log can be trusted with:

* ``CONFORMANT``: every selected, applicable rule passed, and no expectation
  or baseline was needed for that.
* ``NO REGRESSION``: the gate passed thanks to known failures (an
  expectations file or a baseline); the line names how many and the soonest
  expiry.
* ``NOT CONFORMANT``: the gate failed.
* ``NOT CHECKED``: nothing failed, but rules the gate looks at went
  unobserved because the machine could not give the run what they need
  (the network sandbox): exit 1, since a rule the machine could not check
  is not a rule the CLI passed. With the host network asked for
  (``--network host``, plain pytest) the loss is the user's choice, as a
  partial run's is: the gate passes as ``GATE PASSED`` and names the rules,
  never as ``CONFORMANT``.

Two more for the cases those do not cover: ``GATE PASSED`` when the gate
passed although something failed that it does not look at (SHOULD rules
under ``--fail-on must``, a flaky check), and ``HARNESS ERROR`` (exit 3) when
the suite itself broke, since failures next to a broken harness cannot be
trusted.

Blocked checks never fail the gate by themselves: their root cause is a
failure of another rule, which fails it. When the blocking rule failed
nowhere itself (its own checks did not run, or passed), that set-up failure
counts as a failure of the blocking rule, so a CLI that cannot log in is
never waved through.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from conformance.report.model.outcomes import (
    BLOCKED_OUTCOME,
    ERROR,
    EXPECTED_FAIL,
    FAILED,
    FLAKY,
    NEW_FAILURE,
    NOT_CHECKED,
    UNEXPECTED_PASS,
)
from conformance.report.model.results import CheckResult, RunResult, Verdict
from conformance.report.model.scoring import RootCause, rule_outcome

FAIL_ON = ("must", "should")
WORDS = {"conformant": "CONFORMANT", "no-regression": "NO REGRESSION",
         "gate-passed": "GATE PASSED", "failures": "NOT CONFORMANT",
         "not-checked": "NOT CHECKED", "harness-error": "HARNESS ERROR"}


def gated(rules: Sequence[str], levels: Mapping[str, str], fail_on: str) -> bool:
    """Whether a failure of these rules fails the gate (unknown levels always do)."""
    if fail_on == "should" or not rules:
        return True
    return any(levels.get(rule, "UNKNOWN") != "SHOULD" for rule in rules)


def decide(
    checks: list[CheckResult],
    *,
    levels: Mapping[str, str] | None = None,
    causes: Sequence[RootCause] = (),
    excused: frozenset[str] = frozenset(),
    expectation_problems: Sequence[str] = (),
    new_checks: str = "fail",
    warnings: Sequence[str] = (),
    fail_on: str = "should",
    partial: bool = False,
    soonest_expiry: str | None = None,
    host_chosen: bool = False,
    network_why: str = "",
) -> Verdict:
    """The exit code: 3 for harness errors, 1 when the gate fails, else 0.

    ``excused`` are rule and check ids an expectation covers: a rule that
    failed only as a set-up step is excused by an entry for it, like a
    failure of its own would be. ``host_chosen``: the run's host network was
    asked for, so its not-checked rules are given up, not held against it;
    ``network_why`` says why the run had no sandbox, and how to get one.
    """
    levels = levels or {}
    reasons: list[str] = []
    notes = list(warnings)
    not_gated: list[str] = []
    known: list[str] = []
    errors = [c for c in checks if c.outcome == ERROR]
    for check in errors:
        reasons.append(f"harness error in {check.id}: {check.reason}")
    for check in checks:
        blamed = check.blamed()
        counts = gated(blamed, levels, fail_on)
        line = ""
        if check.outcome == FAILED:
            line = f"{check_label(check)} failed: {check.reason}"
        elif check.outcome == UNEXPECTED_PASS:
            line = (f"{check_label(check)} passed although expected to fail: "
                    "remove it from the expectations file")
        elif check.outcome == NEW_FAILURE:
            line = f"{check_label(check)} is new since the baseline and fails: {check.reason}"
            if new_checks == "pending":
                notes.append(line + " (pending: --new-checks=pending)")
                continue
        elif check.outcome == EXPECTED_FAIL:
            ident = (check.expectation or {}).get("id") or check.id
            if ident not in known:
                known.append(ident)
            continue
        elif check.outcome == FLAKY:
            not_gated.append(check.id)
            continue
        elif check.outcome == BLOCKED_OUTCOME and not check.blocked_by:
            # No root cause to fail the gate for it; an undecided rule is not conformance.
            line = f"{check_label(check)} is blocked by a step no rule covers: {check.reason}"
        else:
            continue
        if counts:
            reasons.append(line)
        else:
            not_gated.append(check.id)
            notes.append(f"{line} (not gated: --fail-on {fail_on})")
    for cause in causes:
        if cause.own_failure or not cause.blocked:
            continue
        line = (f"{cause.rule} failed as a set-up step of {len(cause.blocked)} check(s), "
                f"so they are blocked ({cause.reason})")
        if cause.rule in excused:
            if cause.rule not in known:
                known.append(cause.rule)
        elif gated([cause.rule], levels, fail_on):
            reasons.append(line)
        else:
            not_gated.append(cause.rule)
            notes.append(f"{line} (not gated: --fail-on {fail_on})")
    reasons.extend(expectation_problems)
    unchecked, gated_unchecked, line = _not_checked(checks, levels, fail_on, network_why)
    if gated_unchecked and not host_chosen:
        reasons.append(line)
    if errors:
        return Verdict(3, "harness-error", reasons, notes, fail_on=fail_on, partial=partial)
    if reasons:
        status = "failures" if reasons != [line] else "not-checked"
        return Verdict(1, status, reasons, notes, fail_on=fail_on, partial=partial,
                       not_checked=unchecked, not_checked_why=line)
    if known:
        return Verdict(0, "no-regression", [], notes, fail_on=fail_on, partial=partial,
                       known_failures=known, soonest_expiry=soonest_expiry, not_gated=not_gated,
                       not_checked=unchecked, not_checked_why=line)
    if not_gated or unchecked:
        return Verdict(0, "gate-passed", [], notes, fail_on=fail_on, partial=partial,
                       not_gated=not_gated, not_checked=unchecked, not_checked_why=line)
    return Verdict(0, "conformant", [], notes, fail_on=fail_on, partial=partial)


def _not_checked(checks: list[CheckResult], levels: Mapping[str, str],
                 fail_on: str, why: str) -> tuple[list[str], list[str], str]:
    """The rules no check could observe, those of them the gate looks at, and one line
    naming them and why.

    A rule is unchecked as the scores see it: when not-checked is the worst of
    its checks' outcomes. Like a failure, one the gate does not look at (SHOULD
    under ``--fail-on must``) still keeps the run from being called conformant.
    """
    rules: dict[str, str] = {}
    for check in checks:
        if check.outcome == NOT_CHECKED:
            for rule in check.rules:
                if rule_outcome(checks, rule) == NOT_CHECKED:
                    rules.setdefault(rule, check.reason)
    if not rules:
        return [], [], ""
    counted = [rule for rule in rules if gated([rule], levels, fail_on)]
    named = [rule if rule in counted else f"{rule} (not gated: --fail-on {fail_on})"
             for rule in rules]
    why = why or next(iter(rules.values()))
    return list(rules), counted, f"{', '.join(named)} not checked: {why}"


def check_label(check: CheckResult) -> str:
    """``ALPHA-002 (test_x.py::test_y)``: how every gate line names a check."""
    blamed = check.blamed()
    return f"{', '.join(blamed)} ({check.id})" if blamed else check.id


def word(verdict: Verdict) -> str:
    return WORDS.get(verdict.status, verdict.status.upper())


def verdict_line(result: RunResult) -> str:
    """``verdict: NO REGRESSION (exit code 0, --fail-on should) · 1 known failure ...``."""
    verdict = result.verdict
    label = word(verdict) + (", PARTIAL RUN" if verdict.partial else "")
    parts = [f"verdict: {label} (exit code {verdict.exit_code}, --fail-on {verdict.fail_on})"]
    if verdict.known_failures:
        n = len(verdict.known_failures)
        known = f"{n} known failure{'s' if n != 1 else ''}"
        if verdict.soonest_expiry:
            known += f", soonest expiry {verdict.soonest_expiry}"
        parts.append(known)
    if verdict.not_checked:
        n = len(verdict.not_checked)
        parts.append(f"{n} not checked ({', '.join(verdict.not_checked[:3])}"
                     + (", …" if n > 3 else "") + ")")
    if verdict.not_gated:
        n = len(verdict.not_gated)
        parts.append(f"{n} failing but not gated ({', '.join(verdict.not_gated[:3])}"
                     + (", …" if n > 3 else "") + ")")
    parts.append(result.score("MUST").text())
    if verdict.partial:
        parts.append("partial: " + ("; ".join(result.scope.why) or "some checks did not run"))
    return " · ".join(parts)
