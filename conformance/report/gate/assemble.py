"""From raw check results to a judged run: expectations, baseline, verdict.

Pure (no pytest, no files) so every gating rule can be tested on hand-made
results; the pytest plugin only gathers the inputs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from conformance.report.gate import baseline as baseline_mod
from conformance.report.gate import expectations as expectations_mod
from conformance.report.gate.verdict import decide
from conformance.report.model.outcomes import FLAKY, PASSED, RAW_FAILING
from conformance.report.model.results import CheckResult, RuleInfo, RunInfo, RunResult
from conformance.report.model.scoring import Scope, root_causes


def judge_attempts(checks: Sequence[CheckResult]) -> None:
    """``--verify``: a failing check whose reruns disagree with it is flaky."""
    for check in checks:
        if check.outcome in RAW_FAILING and check.attempts:
            outcomes = {check.outcome, *(a.outcome for a in check.attempts)}
            if PASSED in outcomes:
                seen = ", ".join([check.outcome, *(a.outcome for a in check.attempts)])
                check.outcome = FLAKY
                check.reason = f"outcomes differ over {len(check.attempts) + 1} runs ({seen}): " \
                               f"{check.reason}"


def assemble(
    run: RunInfo,
    rules: list[RuleInfo],
    checks: list[CheckResult],
    *,
    expectations: Sequence[expectations_mod.Expectation] = (),
    expectations_source: str = "",
    baseline: RunResult | None = None,
    new_checks: str = "fail",
    today: dt.date | None = None,
    warnings: Sequence[str] = (),
    fail_on: str = "should",
    scope: Scope | None = None,
    strict_expectations: bool = False,
    host_chosen: bool = False,
    network_why: str = "",
) -> RunResult:
    """Apply --verify, expectations and the baseline, in that order, then decide.

    ``host_chosen`` and ``network_why``: see :func:`conformance.report.gate.verdict.decide`.
    """
    scope = scope or Scope()
    judge_attempts(checks)
    problems: list[str] = []
    notes_warnings = list(warnings)
    used: list[dict] = []
    unexercised: list[str] = []
    live: list[expectations_mod.Expectation] = []
    causes = []
    if expectations:
        applied = expectations_mod.apply(checks, expectations, expectations_source, today)
        problems += applied.problems
        used = applied.used
        live = applied.live
        causes = root_causes(rules, checks)
        for cause in causes:
            # An entry for a rule that failed only as a set-up step excuses that failure.
            entry = next((e for e in live if e.id == cause.rule), None)
            if entry is not None and not cause.own_failure and cause.blocked:
                applied.unexercised.pop(cause.rule, None)
                used.append({**entry.as_dict(), "checks": list(cause.blocked)})
        unexercised = list(applied.unexercised.values())
        if strict_expectations:
            problems += [f"{line} (--strict-expectations)" for line in unexercised]
        else:
            notes_warnings += unexercised
    fixed: list[str] = []
    if baseline is not None:
        fixed = baseline_mod.apply(checks, baseline)
    flaky = [c.id for c in checks if c.outcome == FLAKY]
    if flaky:
        notes_warnings.append(f"{len(flaky)} flaky check(s) (not failing the run): "
                              + ", ".join(flaky))
    causes = root_causes(rules, checks)
    expiries = sorted(str(entry["expires"]) for entry in used if entry.get("expires"))
    verdict = decide(
        checks,
        levels={rule.id: rule.level for rule in rules},
        causes=causes,
        excused=frozenset(entry.id for entry in live),
        expectation_problems=problems,
        new_checks=new_checks,
        warnings=notes_warnings,
        fail_on=fail_on,
        partial=scope.partial,
        soonest_expiry=expiries[0] if expiries else None,
        host_chosen=host_chosen,
        network_why=network_why,
    )
    notes: dict[str, list] = {"expectation_problems": problems, "expectations": used,
                              "unexercised": unexercised, "fixed": fixed}
    return RunResult(run=run, rules=rules, checks=checks, verdict=verdict, notes=notes,
                     scope=scope)
