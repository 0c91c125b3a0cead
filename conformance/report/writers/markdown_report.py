"""``summary.md``: the report's first screen as Markdown, for CI step summaries and PR comments.

Kept short on purpose (GitHub caps step summaries and comments) and in
report.html's order: the verdict, then the rule table, failures first (rule,
level, verdict, one line of evidence, replay script), with the rules that
hold counted rather than listed; then a table per area, the expected
failures (reason, link, expiry), what the gate said that no row says, and
the run's facts. The details live in report.html.
"""

from __future__ import annotations

from conformance.report.gate.verdict import verdict_line, word
from conformance.report.model.outcomes import EXPECTED_FAIL
from conformance.report.model.results import RunResult
from conformance.report.writers.glance import (
    CATEGORIES,
    NEEDS_WORK,
    Row,
    area_tally,
    gate_notes,
    network_text,
    rows,
)

MAX_ROWS = 40
MAX_FAILURES = 25
ICONS = {"conformant": "✅", "no-regression": "🟡", "gate-passed": "🟡", "failures": "❌",
         "not-checked": "🔵", "harness-error": "⚠️"}
#: The chart categories the area table counts in its last column.
OTHER = ("known", "undecided", "not-checked", "not-run")
#: Rows the table lists one by one; the others (holds, not run) are counted.
LISTED = NEEDS_WORK | {"not-checked", "not-applicable"}


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(result: RunResult) -> str:
    verdict = result.verdict
    partial = " (partial run)" if result.scope.partial else ""
    reasons, warnings = gate_notes(result)
    lines = [
        f"## Convox conformance: {ICONS.get(verdict.status, '')} {word(verdict)}{partial}",
        "",
        f"`{cell(verdict_line(result))}`",
        "",
    ]
    if result.scope.partial:
        lines += [f"**Partial run** ({cell('; '.join(result.scope.why))}): scores cover only "
                  "the rules whose checks all ran.", ""]
    if reasons:
        lines += [f"- {cell(line)}" for line in reasons[:MAX_FAILURES]] + [""]
    table = rows(result)
    lines += rule_table(table)
    lines += area_table(table) + replay_lines(table, result) + expected_section(result)
    if warnings:
        lines += ["", "### Notes", ""] + [f"- {cell(note)}" for note in warnings[:20]]
    lines += run_section(result)
    return "\n".join(lines) + "\n"


def listed_rows(table: list[Row]) -> list[Row]:
    """The rows the table shows one by one: those that need a look, or say why not."""
    return [row for row in table if row.failing or row.category in LISTED][:MAX_ROWS]


def rule_table(table: list[Row]) -> list[str]:
    """The rules that need a look, failures first; the others counted in one line."""
    listed = listed_rows(table)
    lines = ["| rule | level | verdict | evidence | repro |", "|---|---|---|---|---|"]
    for row in listed:
        verdict = f"**{row.word}**" if row.failing or row.category == "fails" else row.word
        script = f"`{cell(row.repro[0])}`" if row.repro else ""
        if len(row.repro) > 1:
            script += f" +{len(row.repro) - 1}"
        lines.append(f"| `{row.rule.id}` {cell(row.rule.title)} | {row.rule.level} | "
                     f"{verdict} | {cell(row.evidence)} | {script} |")
    shown = {id(row) for row in listed}
    rest = [row for row in table if id(row) not in shown]
    counted = ", ".join(f"{n} {word}" for word, n in _words(rest).items())
    if counted:
        lines += ["", f"Not listed: {counted} (report.html has every rule)."]
    return lines


def _words(table: list[Row]) -> dict[str, int]:
    found: dict[str, int] = {}
    for row in table:
        found[row.word] = found.get(row.word, 0) + 1
    return found


def replay_lines(table: list[Row], result: RunResult) -> list[str]:
    """How to run a replay script, and the scripts the table's one-per-row cell leaves out."""
    if not any(c.repro for c in result.checks):
        return []
    shown = {row.repro[0] for row in listed_rows(table) if row.repro}
    more = [c for c in result.checks if c.repro and c.repro not in shown]
    lines = ["", "Replay a failure from the run directory: `bash repro/NAME.sh` (add "
             "`--cli PATH` to try another build); it exits 1 when the failure recurs."]
    if more:
        lines += ["", "More replay scripts:", ""]
        lines += [f"- `{cell(c.repro or '')}` — {', '.join(c.blamed())} {c.outcome}"
                  for c in more[:MAX_FAILURES]]
        if len(more) > MAX_FAILURES:
            lines.append(f"- … and {len(more) - MAX_FAILURES} more in repro/")
    return lines


def area_table(table: list[Row]) -> list[str]:
    """Rules per area by verdict: report.html's chart as a table."""
    lines = ["", "| area (rules) | hold | fail | not applicable | other |",
             "|---|---:|---:|---:|---|"]
    for area, tally in area_tally(table).items():
        other = ", ".join(f"{tally[c]} {CATEGORIES[c]}" for c in OTHER if tally[c])
        lines.append(f"| {area} | {tally['holds']} | {tally['fails']} | "
                     f"{tally['not-applicable']} | {other} |")
    return lines


def run_section(result: RunResult) -> list[str]:
    run = result.run
    return ["", f"CLI `{cell(' '.join(run.cli_command))}` · version "
            f"`{cell(run.cli_version or 'unknown')}` · profile `{run.profile.get('name')}` · "
            f"network {cell(network_text(result))} · suite {run.suite_version} · run "
            f"`{run.run_id}` · {run.duration:.0f} s"]


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
