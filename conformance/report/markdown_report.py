"""``summary.md``: a short table for CI step summaries and pull-request comments.

Kept short on purpose (GitHub caps step summaries and comments): the
verdict, the root causes, one row per area, the failing rules with one-line
reasons, and what the verdict rests on that a reader must know: expected
failures (reason, link, expiry), rules not applicable (and why) and blocked
checks. The details live in report.html.
"""

from __future__ import annotations

from conformance.report.model import RunResult
from conformance.report.outcomes import (
    BLOCKED_OUTCOME,
    ERROR,
    EXPECTED_FAIL,
    FAILED,
    FLAKY,
    NEW_FAILURE,
    NOT_APPLICABLE,
    NOT_CHECKED,
    PASSED,
    UNEXPECTED_PASS,
)
from conformance.report.scoring import not_applicable_why
from conformance.report.verdict import verdict_line, word

MAX_FAILURES = 25
ICONS = {"conformant": "✅", "no-regression": "🟡", "gate-passed": "🟡", "failures": "❌",
         "harness-error": "⚠️"}
OTHER = (BLOCKED_OUTCOME, ERROR, EXPECTED_FAIL, UNEXPECTED_PASS, NEW_FAILURE, FLAKY)


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(result: RunResult) -> str:
    run = result.run
    verdict = result.verdict
    partial = " (partial run)" if result.scope.partial else ""
    lines = [
        f"## Convox conformance: {ICONS.get(verdict.status, '')} {word(verdict)}{partial}",
        "",
        f"CLI `{cell(' '.join(run.cli_command))}` · profile `{run.profile.get('name')}` · "
        f"version `{cell(run.cli_version or 'unknown')}` · suite {run.suite_version} · "
        f"run `{run.run_id}`",
        "",
        f"`{cell(verdict_line(result))}`",
        "",
    ]
    if result.scope.partial:
        lines += [f"**Partial run** ({cell('; '.join(result.scope.why))}): scores cover only "
                  "the rules whose checks all ran.", ""]
    causes = result.root_causes()
    if causes:
        lines += ["### Root causes", ""]
        for cause in causes:
            known = " (known failure)" if cause.known else ""
            lines.append(f"- `{cause.rule}` {cause.level}{known} {cell(cause.title)}: "
                         f"{cause.counts()} — {cell(cause.reason)}")
        lines.append("")
    lines += [
        "| area | passed | failed | not applicable | other |",
        "|---|---:|---:|---:|---|",
    ]
    for area, tally in result.area_counts().items():
        if not sum(tally.values()):
            continue
        other = ", ".join(f"{tally[o]} {o}" for o in OTHER if tally[o]) or ""
        lines.append(f"| {area} | {tally[PASSED]} | {tally[FAILED]} | "
                     f"{tally[NOT_APPLICABLE]} | {other} |")
    failing = result.failing_checks()
    if failing:
        lines += ["", "### Failing checks", ""]
        for check in failing[:MAX_FAILURES]:
            rules = ", ".join(f"`{r}`" for r in check.blamed()) or "(no rule)"
            lines.append(f"- {rules} {check.outcome}: `{cell(check.id)}` — {cell(check.reason)}")
        if len(failing) > MAX_FAILURES:
            lines.append(f"- … and {len(failing) - MAX_FAILURES} more (see report.html)")
    lines += (repro_section(result) + expected_section(result)
              + unobserved_section(result, NOT_CHECKED) + unobserved_section(result)
              + blocked_section(result))
    notes = (list(result.notes.get("expectation_problems", []))[:10]
             + result.verdict.warnings[:10])
    fixed = result.notes.get("fixed", [])
    if fixed:
        notes.append(f"{len(fixed)} check(s) fixed since the baseline: refresh it")
    if notes:
        lines += ["", "### Notes", ""] + [f"- {cell(note)}" for note in notes]
    return "\n".join(lines) + "\n"


def repro_section(result: RunResult) -> list[str]:
    """The replay scripts of the failed and blocked checks, one command each."""
    replayable = [c for c in result.checks if c.repro]
    if not replayable:
        return []
    lines = ["", "### Reproduce a failure", "",
             "Run from the run directory; add `--cli PATH` to try another build. A script "
             "exits 1 when the failure recurs.", ""]
    for check in replayable[:MAX_FAILURES]:
        lines.append(f"- `bash {cell(check.repro or '')}` — {', '.join(check.rules)} "
                     f"{check.outcome}")
    if len(replayable) > MAX_FAILURES:
        lines.append(f"- … and {len(replayable) - MAX_FAILURES} more in repro/")
    return lines


def expected_section(result: RunResult) -> list[str]:
    entries = result.notes.get("expectations", [])
    baseline_known = [c for c in result.checks
                      if c.outcome == EXPECTED_FAIL and not c.expectation]
    if not entries and not baseline_known:
        return []
    lines = ["", "### Expected failures", "", "| id | reason | link | expires |",
             "|---|---|---|---|"]
    for entry in entries:
        link = f"[link]({entry['link']})" if entry.get("link") else "—"
        lines.append(f"| `{cell(entry['id'])}` | {cell(entry.get('reason') or '')} | {link} | "
                     f"{entry.get('expires') or 'never'} |")
    for check in baseline_known[:MAX_FAILURES]:
        lines.append(f"| `{cell(check.id)}` | {cell(check.reason)} | baseline | — |")
    return lines


def unobserved_section(result: RunResult, outcome: str = NOT_APPLICABLE) -> list[str]:
    """The rules not applicable to the CLI, or (``NOT_CHECKED``) that this run could not check."""
    rules = [rule for rule in result.rules if result.rule_status(rule.id) == outcome]
    if not rules:
        return []
    lines = ["", f"### {outcome.replace('-', ' ').capitalize()}", ""]
    for rule in rules:
        why = not_applicable_why(result.checks, rule.id, outcome)
        lines.append(f"- `{rule.id}` {rule.level} {cell(rule.title)}: {cell(why)}")
    return lines


def blocked_section(result: RunResult) -> list[str]:
    blocked = result.blocked_checks()
    if not blocked:
        return []
    lines = ["", f"### Blocked checks ({len(blocked)})", ""]
    for check in blocked[:MAX_FAILURES]:
        rules = ", ".join(f"`{r}`" for r in check.rules)
        lines.append(f"- {rules} `{cell(check.id)}` — {cell(check.reason)}")
    if len(blocked) > MAX_FAILURES:
        lines.append(f"- … and {len(blocked) - MAX_FAILURES} more (see report.html)")
    return lines
