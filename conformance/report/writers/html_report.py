"""``report.html``: one self-contained page a CLI maintainer reads at a glance.

No network and no external assets (a Content-Security-Policy in the page
enforces it), so the file works as a CI artifact, an e-mail attachment or
from a laptop on a plane. Layout, in the order a reader needs it: the
verdict, a small per-area chart, then one compact row per rule, failures
first (rule, level, verdict, one line of evidence, replay script); a row's
sources, checks and evidence unfold on click. The run's facts come last.

Each check's evidence is embedded once, under the rule it failed for (a
check of several rules is referred to from its other rules), and bounded: a
check shows its first and last invocations and requests, every text is
clipped, and the page has a budget for evidence as a whole, spent on
failures first. results.json keeps everything.
The markup lives in ``templates/``; this module only fills it in.
"""

from __future__ import annotations

import re
from collections import Counter
from html import escape
from importlib import resources
from string import Template
from typing import Any

from conformance.report import SCHEMA_VERSION
from conformance.report.gate.verdict import verdict_line, word
from conformance.report.model.outcomes import BLOCKED_OUTCOME, EXPECTED_FAIL, FAILING, NEW_FAILURE
from conformance.report.model.results import CheckResult, RunResult
from conformance.report.model.runinfo import now_iso
from conformance.report.writers.glance import (
    CATEGORIES,
    Row,
    area_tally,
    gate_notes,
    network_text,
    rows,
)
from conformance.report.writers.plain_text import journal_line

MAX_TEXT = 8_000  # one block of text: a failure's details
MAX_STREAM = 2_000  # one stdout or stderr
MAX_SNAPSHOT = 600  # one file's content before or after
#: Invocations and requests shown per check: the first few set the scene, the last
#: ones are where a failure happened.
HEAD, TAIL = 3, 9
JOURNAL_HEAD, JOURNAL_TAIL = 4, 20
#: Characters of folded evidence in one page; spent on failures first.
EVIDENCE_BUDGET = 400_000
#: Outcomes whose evidence is embedded before any other's.
FIRST = FAILING | {EXPECTED_FAIL, NEW_FAILURE, BLOCKED_OUTCOME}


def template(name: str) -> str:
    return (resources.files("conformance.report") / "templates" / name).read_text(encoding="utf-8")


def e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def pre(text: str, limit: int = MAX_TEXT) -> str:
    """A ``<pre>`` block; quotes need no escaping in element text, and output is full of them."""
    return f"<pre>{escape(clip(text, limit), quote=False)}</pre>"


def clip(text: str, limit: int = MAX_TEXT) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… ({len(text) - limit} more characters in results.json)"


def anchor(prefix: str, ident: str) -> str:
    return f"{prefix}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', ident).strip('-')}"


def badge(outcome: str, label: str | None = None) -> str:
    return f'<span class="badge o-{e(outcome)}">{e(label or outcome)}</span>'


def render(result: RunResult, area_titles: dict[str, str] | None = None) -> str:
    run = result.run
    table = rows(result)
    reasons, warnings = gate_notes(result)
    partial = ", PARTIAL RUN" if result.scope.partial else ""
    fields = {
        "title": e(f"Convox conformance: {run.profile.get('name', '')} — {run.run_id}"),
        "heading": e(f"Convox conformance · profile {run.profile.get('name', '')} · CLI "
                     f"{run.cli_version or 'version unknown'} · run {run.run_id}"),
        "status": e(result.verdict.status),
        "verdict": e(f"{word(result.verdict)}{partial}"),
        "exit_code": e(result.verdict.exit_code),
        "verdict_line": e(verdict_rest(result)),
        "partial": (f'<p class="partial">Partial run ({e("; ".join(result.scope.why))}): '
                    "scores cover only the rules whose checks all ran.</p>"
                    if result.scope.partial else ""),
        "reasons": notes_list(reasons, "reasons"),
        "chart": chart_svg(area_tally(table), area_titles or {}),
        "caption": caption(table),
        "rows": table_rows(result, table),
        "notes": (f'<section id="notes"><h2>Notes</h2>{notes_list(warnings, "notes")}</section>'
                  if warnings else ""),
        "expected": expected_html(result),
        "runinfo": run_info_rows(result),
        "version": e(run.suite_version),
        "schema": SCHEMA_VERSION,
        "generated": e(now_iso()),
        "css": template("report.css"),
        "js": template("report.js"),
    }
    return Template(template("report.html")).substitute(fields)


def verdict_rest(result: RunResult) -> str:
    """The verdict line without what the page shows beside it: the word and exit code
    (the big verdict) and why the run is partial (the paragraph under it)."""
    parts = verdict_line(result).split(" · ")[1:]
    kept = [part for part in parts if not part.startswith("partial: ")]
    return " · ".join([f"--fail-on {result.verdict.fail_on}", *kept])


def notes_list(lines: list[str], cls: str, limit: int = 50) -> str:
    if not lines:
        return ""
    items = "".join(f"<li>{e(line)}</li>" for line in lines[:limit])
    if len(lines) > limit:
        items += f"<li>… and {len(lines) - limit} more (results.json)</li>"
    return f'<ul class="{cls}">{items}</ul>'


# ---------------------------------------------------------------- the chart

def chart_svg(tally: dict[str, Counter[str]], titles: dict[str, str]) -> str:
    """One stacked bar of rules per area, with its counts as text: readable without colour."""
    areas = [area for area, counts in tally.items() if sum(counts.values())]
    if not areas:
        return ""
    row, gap, label_w, bar_w = 16, 5, 100, 220
    widest = max(sum(tally[area].values()) for area in areas)
    parts = []
    for index, area in enumerate(areas):
        y = index * (row + gap)
        counts = tally[area]
        name = f"{area} — {titles[area]}" if titles.get(area) else area
        parts.append(f'<text x="0" y="{y + 12}"><title>{e(name)}</title>{e(area)}</text>')
        x = float(label_w)
        for category, short in CATEGORIES.items():
            n = counts.get(category, 0)
            if n:
                width = n * bar_w / widest
                parts.append(f'<rect class="k-{category}" x="{x:.1f}" y="{y}" '
                             f'width="{width:.1f}" height="{row}"><title>{e(area)}: {n} '
                             f"{e(short)}</title></rect>")
                x += width
        label = " · ".join(f"{counts[c]} {short}" for c, short in CATEGORIES.items() if counts[c])
        parts.append(f'<text class="n" x="{label_w + bar_w + 6}" y="{y + 12}">{e(label)}</text>')
    height = len(areas) * (row + gap)
    parts.append(legend_svg(tally, height + 4))
    return (f'<svg id="chart" role="img" width="520" height="{height + 22}" '
            f'viewBox="0 0 520 {height + 22}" aria-label="rules per area by verdict">'
            f"<title>Rules per area by verdict</title>{''.join(parts)}</svg>")


def legend_svg(tally: dict[str, Counter[str]], y: int) -> str:
    present = [c for c in CATEGORIES if any(counts.get(c) for counts in tally.values())]
    parts, x = [], 0
    for category in present:
        label = CATEGORIES[category]
        parts.append(f'<rect class="k-{category}" x="{x}" y="{y + 3}" width="10" height="10"/>'
                     f'<text class="n" x="{x + 14}" y="{y + 12}">{e(label)}</text>')
        x += 24 + 7 * len(label)
    return "".join(parts)


# ---------------------------------------------------------------- the table

def caption(table: list[Row]) -> str:
    failing = sum(1 for row in table if row.category in ("fails", "known") or row.failing)
    text = (f"{len(table)} rules, failures first ({failing} failing). Click a line of "
            "evidence to unfold it.")
    if any(row.repro for row in table):
        text += (" Replay a failure: <code>bash repro/NAME.sh [--cli PATH]</code> from the run "
                 "directory; exit 1 means it recurred.")
    return text


def table_rows(result: RunResult, table: list[Row]) -> str:
    home = homes(table)
    evidence = evidence_map(result)
    return "\n".join(rule_row(row, home, evidence) for row in table)


def homes(table: list[Row]) -> dict[str, str]:
    """Check id -> the rule whose row embeds its evidence: the first it failed for.

    A check of several rules is shown in each of their rows, its evidence in one.
    """
    ids = {row.rule.id for row in table}
    found: dict[str, str] = {}
    for row in table:
        for check in row.checks:
            preferred = check.blamed() if check.outcome in FIRST else check.rules
            found.setdefault(check.id, next((r for r in preferred if r in ids), row.rule.id))
    return found


def rule_row(row: Row, home: dict[str, str], evidence: dict[str, str]) -> str:
    """The rule's line, and the full-width line under it that its ``<details>`` unfolds."""
    rule = row.rule
    ident = anchor("rule", rule.id)
    cls = "rule" if rule.known else "extra-rule"
    blocked = (f' <span class="muted">(+{len(row.cause.blocked)} blocked)</span>'
               if row.cause and row.cause.blocked else "")
    # "Failures only" keeps the known failures too: they are failures, only not news.
    failing = " failing" if row.failing or row.category in ("fails", "known") else ""
    return (
        f'<tr class="{cls} o-{e(row.colour)}{failing}" id="{ident}" '
        f'data-outcome="{e(row.outcome)}"><td class="rule-id"><div><a href="#{ident}">'
        f'{e(rule.id)}</a> <span class="rt" title="{e(rule.title)}">{e(rule.title)}</span>'
        f'</div></td><td class="level">{e(rule.level)}</td><td>{badge(row.colour, row.word)}</td>'
        f'<td class="ev"><details><summary>{e(row.evidence)}{blocked}</summary></details></td>'
        f'<td class="repro">{repro_cell(row.repro)}</td></tr>\n'
        f'<tr class="more-row"><td colspan="5"><div class="more">'
        f"{row_details(row, home, evidence)}</div></td></tr>"
    )


def repro_cell(scripts: tuple[str, ...]) -> str:
    if not scripts:
        return ""
    more = f' <span class="muted">+{len(scripts) - 1}</span>' if len(scripts) > 1 else ""
    return f'<a href="{e(scripts[0])}" title="bash {e(scripts[0])}">replay</a>{more}'


def row_details(row: Row, home: dict[str, str], evidence: dict[str, str]) -> str:
    """Title, sources, what the root cause blocked, then the checks (each evidence once)."""
    rule = row.rule
    parts = [f'<p class="rtitle"><strong>{e(rule.title)}</strong></p>']
    for source in rule.sources:
        if source.kind == "faq":
            parts.append(f'<blockquote class="faq">“{e(source.text)}”</blockquote>')
        else:
            link = f' <a href="{e(source.url)}">source</a>' if source.url else ""
            parts.append(f'<p class="cite"><code>{e(source.ref or source.kind)}</code>: '
                         f"{e(source.text)}{link}</p>")
    if row.cause and row.cause.blocked:
        links = ", ".join(f'<a href="#{anchor("check", c)}"><code>{e(c)}</code></a>'
                          for c in row.cause.blocked[:50])
        parts.append(f"<p>{e(row.cause.counts())}; blocked: {links}</p>")
    for check in row.checks:
        if home.get(check.id) == rule.id:
            parts.append(check_block(check, row, evidence.get(check.id, "")))
        else:
            parts.append(check_ref(check, row, home.get(check.id, "")))
    if not row.checks:
        parts.append('<p class="muted">no check ran</p>')
    return "".join(parts)


def check_summary(check: CheckResult, row: Row, outcome: str) -> str:
    """Badge, id and the reason, unless the row's line already says all of it."""
    reason = check.reason
    said = not reason or (reason == row.full and not row.evidence.endswith("…"))
    text = "" if said else f' <span class="reason">— {e(clip(reason, 1_000))}</span>'
    repro = (f' <a class="repro" href="{e(check.repro)}" title="bash {e(check.repro)}">'
             f"{e(check.repro)}</a>" if check.repro else "")
    return f"{badge(outcome)} <code>{e(check.id)}</code>{text}{repro}"


def check_block(check: CheckResult, row: Row, evidence: str) -> str:
    failing = " failing" if check.outcome in FAILING else ""
    return (
        f'<div class="check o-{e(check.outcome)}{failing}" id="{anchor("check", check.id)}">'
        f"<details><summary>{check_summary(check, row, check.outcome)} "
        f'<span class="dur">{check.duration:.2f}s</span></summary>'
        f'<div class="evidence">{evidence}</div></details></div>'
    )


def check_ref(check: CheckResult, row: Row, home: str) -> str:
    """A check of several rules whose evidence another row holds: a link to it."""
    outcome = check.outcome_for(row.rule.id)
    return (f'<div class="check ref o-{e(outcome)}">{check_summary(check, row, outcome)} · '
            f'<a href="#{anchor("check", check.id)}">evidence under {e(home)}</a></div>')


# ---------------------------------------------------------------- evidence

def evidence_map(result: RunResult) -> dict[str, str]:
    """Check id -> its evidence HTML, failures first, until the page's budget is spent."""
    order = sorted(result.checks, key=lambda c: c.outcome not in FIRST)
    found: dict[str, str] = {}
    spent = 0
    for check in order:
        html = evidence_html(check)
        if spent + len(html) > EVIDENCE_BUDGET:
            html = ('<p class="muted">Evidence left out to keep this page small; '
                    "results.json has it.</p>")
        spent += len(html)
        found[check.id] = html
    return found


def evidence_html(check: CheckResult) -> str:
    parts = []
    facts = []
    if check.raw_outcome != check.outcome:
        facts.append(f"raw outcome: {check.raw_outcome}")
    if check.expectation:
        facts.append(f"expected to fail: entry {check.expectation.get('id', check.id)} "
                     "(see Expected failures)")
    if check.baseline:
        facts.append(f"in the baseline: {check.baseline}")
    for index, attempt in enumerate(check.attempts, 1):
        facts.append(f"rerun {index}: {attempt.outcome} {attempt.reason}".rstrip())
    if facts:
        parts.append("<ul>" + "".join(f"<li>{e(f)}</li>" for f in facts) + "</ul>")
    invocations = check.evidence.get("invocations") or []
    if invocations:
        parts.append(f"<h4>CLI invocations ({len(invocations)})</h4>")
        parts.extend(bounded(invocations, HEAD, TAIL, invocation_html, "invocation"))
    journal = check.evidence.get("journal") or []
    if journal:
        lines = bounded(journal, JOURNAL_HEAD, JOURNAL_TAIL, journal_line, "request")
        parts.append(f"<h4>Requests the fakes saw ({len(journal)})</h4>"
                     + pre("\n".join(lines)))
    if check.details:
        parts.append(f"<h4>Failure</h4>{pre(check.details)}")
    if not parts:
        parts.append('<p class="muted">No evidence recorded.</p>')
    return "".join(parts)


def bounded(items: list[Any], head: int, tail: int, show: Any, noun: str) -> list[str]:
    """The first ``head`` and last ``tail`` items shown, a line saying how many are not."""
    if len(items) <= head + tail:
        return [show(item) for item in items]
    left = len(items) - head - tail
    gap = f"… {left} more {noun}{'s' if left != 1 else ''} in results.json"
    gap = f'<p class="muted">{gap}</p>' if noun == "invocation" else gap
    return ([show(item) for item in items[:head]] + [gap]
            + [show(item) for item in items[-tail:]])


def invocation_html(inv: dict[str, Any]) -> str:
    code = "timed out" if inv.get("timed_out") else f"exit {inv.get('exit_code')}"
    html = [f'<div class="inv"><code>$ {e(" ".join(inv.get("argv", [])))}</code> '
            f'<span class="muted">{e(inv.get("operation", ""))} · {e(code)} · '
            f'{float(inv.get("duration") or 0):.2f}s</span>']
    for name in ("stdout", "stderr"):
        text = inv.get(name) or ""
        if text.strip():
            html.append(f'<div class="muted">{name}</div>{pre(text, MAX_STREAM)}')
    for change in inv.get("files") or []:
        html.append(f'<div class="muted">file {e(change.get("change"))}: '
                    f'<code>{e(change.get("path"))}</code></div>'
                    + snapshot_html("before", change.get("before"))
                    + snapshot_html("after", change.get("after")))
    html.append("</div>")
    return "".join(html)


def snapshot_html(side: str, snap: dict[str, Any] | None) -> str:
    if not snap:
        return ""
    return (f'<div class="muted">{side} (mode {e(snap.get("mode"))})</div>'
            + pre(snap.get("content") or "", MAX_SNAPSHOT))


# ---------------------------------------------------------------- after the table

def expected_html(result: RunResult) -> str:
    entries = result.notes.get("expectations", [])
    if not entries:
        return ""
    rows = "".join(
        f"<tr><td><code>{e(x['id'])}</code></td><td>{e(x.get('reason'))}</td><td>"
        + (f'<a href="{e(x["link"])}">{e(x["link"])}</a>' if x.get("link") else "—")
        + f"</td><td>{e(x.get('expires') or 'never')}</td></tr>" for x in entries)
    return ('<section id="expected-failures"><h2>Expected failures</h2><table class="small">'
            "<thead><tr><th>id</th><th>reason</th><th>link</th><th>expires</th></tr>"
            f"</thead><tbody>{rows}</tbody></table></section>")


def run_info_rows(result: RunResult) -> str:
    run = result.run
    seed = ", ".join(f"{k}={v}" for k, v in run.seed.items()) or "none"
    options = ", ".join(f"{k}={v}" for k, v in run.options.items()
                        if v not in (None, "", 0, []) and k != "network")
    rows = [
        ("CLI", " ".join(run.cli_command)),
        ("CLI version", run.cli_version or "unknown"),
        ("profile", f"{run.profile.get('name', '')} ({run.profile.get('source', '')})"),
        ("network", network_text(result)),
        ("gate", f"--fail-on {result.verdict.fail_on}"),
        ("time", f"{run.started} → {run.finished} ({run.duration:.1f} s)"),
        ("run", run.run_id),
        ("suite", f"{run.suite_version}, specs+checks sha256 "
                  f"{run.digest.get('combined', '')[:16]}"),
        ("platform", ", ".join(f"{k} {v}" for k, v in run.platform.items())),
        ("seed", seed),
        ("options", options or "defaults"),
    ]
    return "\n".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows)
