"""The implementation matrix: rules down, implementations across.

Like wpt.fyi or bowtie.report, but static: ``matrix.html`` (self-contained,
a grid of coloured squares, each linking to that run's evidence for the rule)
and ``matrix.md``.
The score of an implementation is MUST rules passed / MUST rules decided,
so a CLI is not punished for features it does not claim (not applicable) or
for rules another failure kept from being observed (blocked), and is not
rewarded for known failures (expected-fail is not a pass).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from string import Template

from conformance.report.model.outcomes import FAILED, FAILING, NOT_RUN, PASSED, SEVERITY
from conformance.report.model.results import RuleInfo, RunResult
from conformance.report.model.runinfo import now_iso, suite_version
from conformance.report.writers import json_report
from conformance.report.writers.html_report import anchor, e, template
from conformance.report.writers.run_dirs import resolve_run_dir

SHORT = {"passed": "pass", "failed": "FAIL", "not-applicable": "n/a", "error": "ERROR",
         "expected-fail": "known", "unexpected-pass": "XPASS", "new-failure": "NEW",
         "flaky": "flaky", "blocked": "blocked", "not-checked": "unchecked", NOT_RUN: "—"}


@dataclass
class Column:
    """One implementation: its name, its run directory and its results."""

    name: str
    run_dir: Path
    result: RunResult

    def outcome(self, rule_id: str) -> str:
        if not any(rule.id == rule_id for rule in self.result.rules):
            return NOT_RUN
        return self.result.rule_outcome(rule_id)

    def score(self, rules: list[RuleInfo]) -> tuple[int, int]:
        """(MUST rules passed, MUST rules decided), as the run's own reports count them."""
        known = {rule.id for rule in self.result.rules}
        statuses = [self.result.rule_status(r.id) if r.id in known else NOT_RUN
                    for r in rules if r.level == "MUST"]
        return statuses.count(PASSED), statuses.count(PASSED) + statuses.count(FAILED)


class MatrixError(Exception):
    """A run cannot be read; ``str()`` is one line."""


def parse_run(spec: str) -> tuple[str, Path]:
    """``NAME=PATH`` (PATH: a run directory, a results.json or a ``latest`` link)."""
    name, sep, path = spec.partition("=")
    if not sep or not name or not path:
        raise MatrixError(f"--run {spec!r}: expected NAME=PATH, e.g. mycli=reports/latest")
    return name, Path(path)


def load_column(name: str, path: Path) -> Column:
    try:
        run_dir = path.parent if path.is_file() and path.suffix == ".json" else \
            resolve_run_dir(path)
        run_dir = run_dir.resolve()
        return Column(name, run_dir, json_report.read(run_dir / "results.json"))
    except FileNotFoundError as exc:
        raise MatrixError(f"--run {name}={path}: {exc}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise MatrixError(f"--run {name}={path}: not a results.json of this suite: {exc}") \
            from None


def all_rules(columns: list[Column]) -> list[RuleInfo]:
    """Every rule of every run, in the first run's order, then the others'."""
    seen: dict[str, RuleInfo] = {}
    for column in columns:
        for rule in column.result.rules:
            if rule.known or rule.id not in seen:
                seen.setdefault(rule.id, rule)
    return list(seen.values())


def warnings_for(columns: list[Column]) -> list[str]:
    digests = {c.result.run.digest.get("combined", "") for c in columns}
    if len(digests) > 1:
        return ["the runs used different rules or checks (digests differ); cells are comparable "
                "only where both runs have the rule"]
    return []


def render_html(columns: list[Column], out_dir: Path) -> str:
    rules = all_rules(columns)
    heads = "".join(f"<th>{e(c.name)}</th>" for c in columns)
    scores = "".join(f'<td class="num">{score_text(c.score(rules))}</td>' for c in columns)
    rows = []
    for rule in rules:
        outcomes = [c.outcome(rule.id) for c in columns]
        failing = " failing" if any(o in FAILING for o in outcomes) else ""
        cells = [cell(rule.id, column, outcome, out_dir)
                 for column, outcome in zip(columns, outcomes, strict=True)]
        cls = "mrow rule" if rule.known else "mrow extra-rule"
        rows.append(f'<tr class="{cls}{failing}" id="{anchor("rule", rule.id)}"><td>'
                    f"<code>{e(rule.id)}</code></td><td>{e(rule.level)}</td><td>{e(rule.title)}"
                    f"</td>{''.join(cells)}</tr>")
    runs = []
    for column in columns:
        run = column.result.run
        link = os.path.relpath(column.run_dir / "report.html", out_dir)
        runs.append(f"<tr><td>{e(column.name)}</td><td><a href=\"{e(link)}\">{e(run.run_id)}</a>"
                    f"</td><td><code>{e(' '.join(run.cli_command))}</code></td>"
                    f"<td>{e(run.profile.get('name'))}</td><td>{e(run.cli_version)}</td>"
                    f"<td>{e(run.suite_version)}</td><td>{e(column.result.verdict.status)}</td></tr>")
    warnings = "".join(f'<p class="warning">{e(w)}</p>' for w in warnings_for(columns))
    seen = {c.outcome(r.id) for c in columns for r in rules}
    fields = {
        "title": e("Convox conformance matrix"),
        "warnings": warnings,
        "legend": legend(seen),
        "impl_heads": heads,
        "scores": scores,
        "rows": "\n".join(rows),
        "runs": "\n".join(runs),
        "version": e(suite_version()),
        "generated": e(now_iso()),
        "css": template("report.css"),
        "js": template("report.js"),
    }
    return Template(template("matrix.html")).substitute(fields)


def cell(rule_id: str, column: Column, outcome: str, out_dir: Path) -> str:
    """A coloured square; the verdict is its title and its hidden text, for copy and readers."""
    title = f"{rule_id} · {column.name}: {outcome}"
    square = (f'<span class="sq" aria-hidden="true"></span>'
              f'<span class="sr">{e(SHORT.get(outcome, outcome))}</span>')
    if outcome != NOT_RUN:
        link = os.path.relpath(column.run_dir / "report.html", out_dir)
        square = f'<a href="{e(link)}#{anchor("rule", rule_id)}">{square}</a>'
    return f'<td class="cell o-{e(outcome)}" title="{e(title)}">{square}</td>'


def legend(outcomes: set[str]) -> str:
    """The colours the grid uses, worst first."""
    items = "".join(f'<span class="o-{e(o)}"><span class="sq"></span>{e(o.replace("-", " "))}'
                    "</span>" for o in SEVERITY if o in outcomes)
    return f'<p class="legend">{items}</p>'


def score_text(score: tuple[int, int]) -> str:
    passed, applicable = score
    if not applicable:
        return "n/a"
    return f"{passed}/{applicable} ({100 * passed / applicable:.0f}%)"


def render_md(columns: list[Column]) -> str:
    rules = all_rules(columns)
    lines = ["# Convox conformance matrix", ""]
    lines += [f"> {w}" for w in warnings_for(columns)]
    lines += ["| rule | level | " + " | ".join(c.name for c in columns) + " |",
              "|---|---|" + "---|" * len(columns),
              "| **MUST score** | | " + " | ".join(f"**{score_text(c.score(rules))}**"
                                                  for c in columns) + " |"]
    for rule in rules:
        cells = [SHORT.get(c.outcome(rule.id), c.outcome(rule.id)) for c in columns]
        lines.append(f"| {rule.id} | {rule.level} | " + " | ".join(cells) + " |")
    lines += ["", "Runs: " + "; ".join(
        f"{c.name} = `{c.result.run.run_id}` ({c.result.run.cli_version or 'version unknown'})"
        for c in columns)]
    return "\n".join(lines) + "\n"


def write(columns: list[Column], out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"matrix.html": out_dir / "matrix.html", "matrix.md": out_dir / "matrix.md"}
    paths["matrix.html"].write_text(render_html(columns, out_dir.resolve()), encoding="utf-8")
    paths["matrix.md"].write_text(render_md(columns), encoding="utf-8")
    return paths
