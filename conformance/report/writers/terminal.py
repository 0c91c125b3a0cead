"""What a person watching the run sees: live progress, then a per-area table.

Rich output only on a real terminal; in CI logs, pipes, with ``--no-color``
or ``NO_COLOR`` set, everything is plain text that greps well. The table and
the list of failing rules come from the same model as the report files.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO, Any

from conformance.report.gate.verdict import verdict_line
from conformance.report.model.outcomes import (
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
from conformance.report.model.results import RunResult

COLUMNS = (PASSED, FAILED, NOT_APPLICABLE)
OPTIONAL = (NOT_CHECKED, BLOCKED_OUTCOME, ERROR, EXPECTED_FAIL, UNEXPECTED_PASS, NEW_FAILURE,
            FLAKY)
HEADINGS = {NOT_APPLICABLE: "N/A"}
STYLES = {PASSED: "green", FAILED: "red", NOT_APPLICABLE: "yellow", ERROR: "magenta",
          EXPECTED_FAIL: "dark_orange", UNEXPECTED_PASS: "bright_red", NEW_FAILURE: "red",
          FLAKY: "yellow", BLOCKED_OUTCOME: "yellow", NOT_CHECKED: "bright_red"}
MAX_LISTED = 40


def wants_rich(stream: IO[str], no_color: bool, color_option: str | None, verbose: int) -> bool:
    """Rich only for a person at a terminal who did not ask for plain output."""
    if no_color or os.environ.get("NO_COLOR") or color_option == "no" or verbose > 0:
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    return color_option == "yes" or bool(getattr(stream, "isatty", lambda: False)())


class Progress:
    """Checks done / total and the area being checked, redrawn on each report.

    Redrawn only from pytest hooks (no refresh thread), so nothing is written
    while a check's own output is being captured.
    """

    def __init__(self, stream: IO[str]) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        self.console = Console(file=stream, force_terminal=True)
        self.bar = RichProgress(
            TextColumn("[bold]conformance[/]"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.description}"), TimeElapsedColumn(),
            console=self.console, auto_refresh=False, transient=True,
            redirect_stdout=False, redirect_stderr=False,
        )
        self.task: Any = None
        self.failed = 0

    def start(self, total: int | None) -> None:
        if self.task is None:
            self.bar.start()
            self.task = self.bar.add_task("", total=total)
            self.bar.refresh()

    def set_total(self, total: int) -> None:
        self.start(total)
        self.bar.update(self.task, total=total)
        self.bar.refresh()

    def area(self, area: str | None) -> None:
        self.start(None)
        self.bar.update(self.task, description=self._describe(area))
        self.bar.refresh()

    def advance(self, area: str | None, failed: bool) -> None:
        self.start(None)
        self.failed += int(failed)
        self.bar.update(self.task, advance=1, description=self._describe(area))
        self.bar.refresh()

    def _describe(self, area: str | None) -> str:
        failed = f" · [red]{self.failed} failing[/]" if self.failed else ""
        return f"area [cyan]{area or '-'}[/]{failed}"

    def stop(self) -> None:
        if self.task is not None:
            self.bar.stop()
            self.task = None


def table_rows(result: RunResult) -> tuple[list[str], list[list[str]]]:
    """Headings and rows of the per-area table (optional columns only when used)."""
    counts = result.area_counts()
    total = result.outcome_counts()
    outcomes = list(COLUMNS) + [o for o in OPTIONAL if total[o]]
    heads = ["area"] + [HEADINGS.get(o, o) for o in outcomes]
    rows = [[area] + [str(c[o]) for o in outcomes] for area, c in counts.items() if sum(c.values())]
    rows.append(["total"] + [str(total[o]) for o in outcomes])
    return heads, rows


def root_cause_lines(result: RunResult) -> list[str]:
    """Each failed rule once: how many checks failed for it and how many it blocked."""
    lines = []
    for cause in result.root_causes():
        counts = [f"{len(cause.failed)} failed"] if cause.failed else ["failed as a set-up step"]
        if cause.blocked:
            counts.append(f"{len(cause.blocked)} blocked")
        known = " (known)" if cause.known else ""
        lines.append(f"{cause.rule} {cause.level}{known}: {cause.title} "
                     f"[{', '.join(counts)}] — {cause.reason or '-'}")
    return lines


def blocked_lines(result: RunResult) -> list[str]:
    blocked = result.blocked_checks()
    lines = [f"{check.id}  {check.reason}" for check in blocked[:MAX_LISTED]]
    if len(blocked) > MAX_LISTED:
        lines.append(f"... and {len(blocked) - MAX_LISTED} more (see report.html)")
    return lines


def failing_lines(result: RunResult) -> list[str]:
    lines = []
    failing = result.failing_checks()
    for check in failing[:MAX_LISTED]:
        rules = ",".join(check.blamed()) or check.id
        lines.append(f"{rules}  {check.outcome}: {check.reason or '-'}  [{check.id}]")
    if len(failing) > MAX_LISTED:
        lines.append(f"... and {len(failing) - MAX_LISTED} more (see report.html)")
    return lines


def footer_lines(result: RunResult, report_path: str | None) -> list[str]:
    lines = [f"warning: {w}" for w in result.verdict.warnings]
    lines += [f"expectations: {p}" for p in result.notes.get("expectation_problems", [])]
    fixed = result.notes.get("fixed", [])
    if fixed:
        lines.append(f"fixed since the baseline ({len(fixed)}): {', '.join(fixed)}; "
                     "refresh the baseline")
    lines += [f"expected failure: {entry['id']}: {entry.get('reason')}"
              + (f" ({entry['link']})" if entry.get("link") else "")
              + (f", expires {entry['expires']}" if entry.get("expires") else "")
              for entry in result.notes.get("expectations", [])]
    if result.verdict.not_checked_why:
        lines.append(result.verdict.not_checked_why)
    lines.append(verdict_line(result))
    if report_path:
        lines.append(f"report: {report_path}")
        scripts = [check.repro for check in result.checks if check.repro]
        if scripts:
            run_dir = os.path.dirname(report_path)
            lines.append(f"reproduce: bash {os.path.join(run_dir, scripts[0])}"
                         + (f" (and {len(scripts) - 1} more in {os.path.join(run_dir, 'repro')})"
                            if len(scripts) > 1 else ""))
    return lines


def plain_summary(result: RunResult, write: Callable[[str], None],
                  report_path: str | None) -> None:
    heads, rows = table_rows(result)
    widths = [max(len(r[i]) for r in [heads, *rows]) for i in range(len(heads))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i])
                         for i, c in enumerate(cells))

    causes = root_cause_lines(result)
    if causes:
        write(f"root causes ({len(causes)}):")
        for text in causes:
            write(f"  {text}")
        write("")
    write(line(heads))
    for row in rows:
        write(line(row))
    failing = failing_lines(result)
    if failing:
        write("")
        write("failing rules:")
        for text in failing:
            write(f"  {text}")
    blocked = blocked_lines(result)
    if blocked:
        write("")
        write(f"blocked checks ({len(result.blocked_checks())}):")
        for text in blocked:
            write(f"  {text}")
    write("")
    for text in footer_lines(result, report_path):
        write(text)


def rich_summary(result: RunResult, stream: IO[str], report_path: str | None,
                 width: int | None = None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=stream, force_terminal=True, width=width, highlight=False)

    def section(title: str, lines: list[str]) -> None:
        if lines:
            console.print(title)
            for text in lines:
                console.print(Text("  " + text))

    causes = root_cause_lines(result)
    section(f"[bold red]root causes ({len(causes)})[/]", causes)
    heads, rows = table_rows(result)
    outcomes = [NOT_APPLICABLE if h == "N/A" else h for h in heads[1:]]
    table = Table(title="Conformance by area", title_justify="left")
    table.add_column("area", style="bold")
    for heading, outcome in zip(heads[1:], outcomes, strict=True):
        table.add_column(heading, justify="right", style=STYLES.get(outcome, ""))
    for index, row in enumerate(rows):
        table.add_row(*row, end_section=index == len(rows) - 2)
    console.print(table)
    section("[bold red]failing rules[/]", failing_lines(result))
    section(f"[bold yellow]blocked checks ({len(result.blocked_checks())})[/]",
            blocked_lines(result))
    style = {"conformant": "bold green", "no-regression": "bold yellow",
             "gate-passed": "bold yellow", "failures": "bold red",
             "not-checked": "bold red"}.get(result.verdict.status,
                                                                       "bold magenta")
    for text in footer_lines(result, report_path):
        console.print(Text(text, style=style if text.startswith("verdict:") else ""))
