"""The gate: exit code and verdict word of a run, and the one line that says both.

Three words a CI log can be trusted with:

* ``CONFORMANT``: every selected, applicable rule passed, and no expectation
  or baseline was needed for that.
* ``NO REGRESSION``: the gate passed thanks to known failures (an
  expectations file or a baseline); the line names how many and the soonest
  expiry.
* ``NOT CONFORMANT``: the gate failed.

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

from conformance.report.model import CheckResult, RunResult, Verdict
from conformance.report.outcomes import (
    BLOCKED_OUTCOME,
    ERROR,
    EXPECTED_FAIL,
    FAILED,
    FLAKY,
    NEW_FAILURE,
    UNEXPECTED_PASS,
)
from conformance.report.scoring import RootCause

FAIL_ON = ("must", "should")
WORDS = {"conformant": "CONFORMANT", "no-regression": "NO REGRESSION",
         "gate-passed": "GATE PASSED", "failures": "NOT CONFORMANT",
         "harness-error": "HARNESS ERROR"}


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
) -> Verdict:
    """The exit code: 3 for harness errors, 1 when the gate fails, else 0.

    ``excused`` are rule and check ids an expectation covers: a rule that
    failed only as a set-up step is excused by an entry for it, like a
    failure of its own would be.
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
            line = f"{_label(check)} failed: {check.reason}"
        elif check.outcome == UNEXPECTED_PASS:
            line = (f"{_label(check)} passed although expected to fail: "
                    "remove it from the expectations file")
        elif check.outcome == NEW_FAILURE:
            line = f"{_label(check)} is new since the baseline and fails: {check.reason}"
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
            line = f"{_label(check)} is blocked by a step no rule covers: {check.reason}"
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
    if errors:
        return Verdict(3, "harness-error", reasons, notes, fail_on=fail_on, partial=partial)
    if reasons:
        return Verdict(1, "failures", reasons, notes, fail_on=fail_on, partial=partial)
    if known:
        return Verdict(0, "no-regression", [], notes, fail_on=fail_on, partial=partial,
                       known_failures=known, soonest_expiry=soonest_expiry, not_gated=not_gated)
    if not_gated:
        return Verdict(0, "gate-passed", [], notes, fail_on=fail_on, partial=partial,
                       not_gated=not_gated)
    return Verdict(0, "conformant", [], notes, fail_on=fail_on, partial=partial)


def _label(check: CheckResult) -> str:
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
    if verdict.not_gated:
        n = len(verdict.not_gated)
        parts.append(f"{n} failing but not gated ({', '.join(verdict.not_gated[:3])}"
                     + (", …" if n > 3 else "") + ")")
    parts.append(result.score("MUST").text())
    if verdict.partial:
        parts.append("partial: " + ("; ".join(result.scope.why) or "some checks did not run"))
    return " · ".join(parts)
