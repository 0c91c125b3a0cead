"""``summary.md``: a short table for CI step summaries and pull-request comments.

Kept short on purpose (GitHub caps step summaries and comments): the
verdict, one row per area, and the failing rules with one-line reasons; the
details live in report.html.
"""

from __future__ import annotations

from conformance.report.model import RunResult
from conformance.report.outcomes import (
    ERROR,
    EXPECTED_FAIL,
    FAILED,
    FLAKY,
    NEW_FAILURE,
    NOT_APPLICABLE,
    PASSED,
    UNEXPECTED_PASS,
)

MAX_FAILURES = 25
STATUS = {"conformant": "✅ conformant", "failures": "❌ conformance failures",
          "harness-error": "⚠️ harness error"}
OTHER = (ERROR, EXPECTED_FAIL, UNEXPECTED_PASS, NEW_FAILURE, FLAKY)


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(result: RunResult) -> str:
    run = result.run
    passed, applicable = result.must_score()
    score = f"{passed}/{applicable} ({100 * passed / applicable:.1f}%)" if applicable else "n/a"
    lines = [
        f"## Convox conformance: {STATUS.get(result.verdict.status, result.verdict.status)}",
        "",
        f"CLI `{cell(' '.join(run.cli_command))}` · profile `{run.profile.get('name')}` · "
        f"version `{cell(run.cli_version or 'unknown')}` · suite {run.suite_version} · "
        f"run `{run.run_id}`",
        "",
        f"MUST rules passed: **{score}** · exit code {result.verdict.exit_code}",
        "",
        "| area | passed | failed | not applicable | other |",
        "|---|---:|---:|---:|---|",
    ]
    for area, counts in result.area_counts().items():
        if not sum(counts.values()):
            continue
        other = ", ".join(f"{counts[o]} {o}" for o in OTHER if counts[o]) or ""
        lines.append(f"| {area} | {counts[PASSED]} | {counts[FAILED]} | "
                     f"{counts[NOT_APPLICABLE]} | {other} |")
    failing = result.failing_checks()
    if failing:
        lines += ["", "### Failing checks", ""]
        for check in failing[:MAX_FAILURES]:
            rules = ", ".join(f"`{r}`" for r in check.rules) or "(no rule)"
            lines.append(f"- {rules} {check.outcome}: `{cell(check.id)}` — {cell(check.reason)}")
        if len(failing) > MAX_FAILURES:
            lines.append(f"- … and {len(failing) - MAX_FAILURES} more (see report.html)")
    notes = list(result.notes.get("expectations", []))[:10] + result.verdict.warnings[:10]
    fixed = result.notes.get("fixed", [])
    if fixed:
        notes.append(f"{len(fixed)} check(s) fixed since the baseline: refresh it")
    if notes:
        lines += ["", "### Notes", ""] + [f"- {cell(note)}" for note in notes]
    return "\n".join(lines) + "\n"
