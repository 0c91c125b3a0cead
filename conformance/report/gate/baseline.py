"""Baseline gating (``--baseline results.json``): fail only on regressions.

A CI pipeline that adopts the suite midway cannot go red for every failure
its CLI already had. Against a baseline run, a check that passed there and
fails now is a regression (``failed``, fails the run); a check that already
failed there is not news (``expected-fail``); a check the baseline never ran
(new in the suite, or newly applicable) that fails is a ``new-failure``,
which fails the run unless ``--new-checks=pending``. Checks that failed in the
baseline and pass now are listed as fixed, so the baseline can be refreshed.
"""

from __future__ import annotations

import json
from pathlib import Path

from conformance.report.model.outcomes import (
    EXPECTED_FAIL,
    FAILED,
    FLAKY,
    NEW_FAILURE,
    PASSED,
    UNEXPECTED_PASS,
)
from conformance.report.model.results import CheckResult, RunResult
from conformance.report.writers.run_dirs import resolve_run_dir

#: Baseline outcomes that mean "this check was already failing".
WAS_FAILING = frozenset({FAILED, EXPECTED_FAIL, NEW_FAILURE, FLAKY})


class BaselineError(Exception):
    """The baseline cannot be read; ``str()`` is one line."""


def load(path: str | Path) -> RunResult:
    """A baseline from a results.json or a run directory (``reports/latest`` works)."""
    target = Path(path)
    if not target.is_file() or target.name != "results.json":
        try:
            target = resolve_run_dir(target) / "results.json"
        except FileNotFoundError as exc:
            raise BaselineError(f"baseline {path}: {exc}") from None
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
        return RunResult.from_dict(data)
    except FileNotFoundError:
        raise BaselineError(f"baseline {path}: {target} not found") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BaselineError(f"baseline {path}: not a results.json of this suite: {exc}") from None


def apply(checks: list[CheckResult], baseline: RunResult) -> list[str]:
    """Mark checks against the baseline; returns the ids of fixed checks."""
    before = {check.id: check.outcome for check in baseline.checks}
    fixed = []
    for check in checks:
        was = before.get(check.id)
        check.baseline = was if was is not None else "absent"
        if check.outcome == FAILED:
            if was in WAS_FAILING:
                check.outcome = EXPECTED_FAIL
                check.reason = f"{check.reason} (already failing in baseline {baseline.run.run_id})"
            elif was not in (PASSED, UNEXPECTED_PASS):
                check.outcome = NEW_FAILURE
        elif check.outcome == PASSED and was in WAS_FAILING:
            fixed.append(check.id)
    return fixed
