"""From raw check results to a judged run: expectations, baseline, verdict.

Pure (no pytest, no files) so every gating rule can be tested on hand-made
results; the pytest plugin only gathers the inputs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from conformance.report import baseline as baseline_mod
from conformance.report import expectations as expectations_mod
from conformance.report.model import CheckResult, RuleInfo, RunInfo, RunResult, decide
from conformance.report.outcomes import FLAKY, PASSED, RAW_FAILING


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
) -> RunResult:
    """Apply --verify, expectations and the baseline, in that order, then decide."""
    judge_attempts(checks)
    problems: list[str] = []
    notes_warnings = list(warnings)
    if expectations:
        found, warned = expectations_mod.apply(checks, expectations, expectations_source, today)
        problems += found
        notes_warnings += warned
    fixed: list[str] = []
    if baseline is not None:
        fixed = baseline_mod.apply(checks, baseline)
    flaky = [c.id for c in checks if c.outcome == FLAKY]
    if flaky:
        notes_warnings.append(f"{len(flaky)} flaky check(s) (not failing the run): "
                              + ", ".join(flaky))
    verdict = decide(checks, expectation_problems=problems, new_checks=new_checks,
                     warnings=notes_warnings)
    notes: dict[str, list] = {"expectations": problems, "fixed": fixed}
    result = RunResult(run=run, rules=rules, checks=checks, verdict=verdict, notes=notes)
    return result
