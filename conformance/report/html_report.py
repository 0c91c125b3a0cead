"""``report.html``: one self-contained page a CLI author can read offline.

No network and no external assets (a Content-Security-Policy in the page
enforces it), so the file works as a CI artifact, an e-mail attachment or
from a laptop on a plane. Layout: verdict and run facts, a summary per area,
then every catalogue rule as a row with its quoted sources, its checks and
their outcome colours, with each check's evidence folded in ``<details>``.
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
from conformance.report.model import CheckResult, RuleInfo, RunResult
from conformance.report.outcomes import (
    CHECK_OUTCOMES,
    FAILING,
    NOT_APPLICABLE,
    NOT_CHECKED,
    NOT_RUN,
    PASSED,
)
from conformance.report.runinfo import now_iso
from conformance.report.scoring import not_applicable_why
from conformance.report.verdict import verdict_line, word

MAX_TEXT = 8_000


def template(name: str) -> str:
    return (resources.files("conformance.report") / "templates" / name).read_text(encoding="utf-8")


def e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def clip(text: str, limit: int = MAX_TEXT) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… ({len(text) - limit} more characters in results.json)"


def anchor(prefix: str, ident: str) -> str:
    return f"{prefix}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', ident).strip('-')}"


def badge(outcome: str) -> str:
    return f'<span class="badge o-{e(outcome)}">{e(outcome)}</span>'


def render(result: RunResult, area_titles: dict[str, str] | None = None) -> str:
    titles = area_titles or {}
    run = result.run
    partial = ", partial run" if result.scope.partial else ""
    verdict = f"{word(result.verdict)}{partial} (exit code {result.verdict.exit_code})"
    notes = result.verdict.reasons + result.verdict.warnings
    fixed = result.notes.get("fixed", [])
    if fixed:
        notes.append(f"fixed since the baseline (refresh it): {', '.join(fixed)}")
    reasons = ""
    if notes:
        reasons = ("<h3>Why: the gate's reasons and warnings</h3><ul class=\"reasons\">"
                   + "".join(f"<li>{e(n)}</li>" for n in notes[:50]))
        if len(notes) > 50:
            reasons += f"<li>… and {len(notes) - 50} more</li>"
        reasons += "</ul>"
    fields = {
        "title": e(f"Convox conformance: {run.profile.get('name', '')} — {run.run_id}"),
        "status": e(result.verdict.status),
        "verdict": e(verdict),
        "verdict_line": e(verdict_line(result)),
        "partial": (f'<p class="partial">Partial run ({e("; ".join(result.scope.why))}): '
                    "scores cover only the rules whose checks all ran.</p>"
                    if result.scope.partial else ""),
        "rootcauses": root_causes_html(result),
        "known": known_html(result),
        "reasons": reasons,
        "runinfo": run_info_rows(result),
        "outcome_heads": "".join(f'<th class="num">{e(o)}</th>' for o in CHECK_OUTCOMES),
        "summary": summary_rows(result, titles),
        "areas": "\n".join(area_section(result, area, titles) for area in result.areas()),
        "version": e(run.suite_version),
        "schema": SCHEMA_VERSION,
        "generated": e(now_iso()),
        "css": template("report.css"),
        "js": template("report.js"),
    }
    return Template(template("report.html")).substitute(fields)


def run_info_rows(result: RunResult) -> str:
    run = result.run
    score = result.score("MUST").text()
    seed = ", ".join(f"{k}={v}" for k, v in run.seed.items()) or "none"
    options = ", ".join(f"{k}={v}" for k, v in run.options.items() if v not in (None, "", 0))
    rows = [
        ("run", run.run_id),
        ("CLI", " ".join(run.cli_command)),
        ("CLI version", run.cli_version or "unknown"),
        ("profile", f"{run.profile.get('name', '')} ({run.profile.get('source', '')})"),
        ("MUST rules", score),
        ("gate", f"--fail-on {result.verdict.fail_on}"),
        ("suite", f"{run.suite_version}, specs+checks sha256 "
                  f"{run.digest.get('combined', '')[:16]}"),
        ("platform", ", ".join(f"{k} {v}" for k, v in run.platform.items())),
        ("time", f"{run.started} → {run.finished} ({run.duration:.1f} s)"),
        ("seed", seed),
        ("options", options or "defaults"),
    ]
    return "\n".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows)


def root_causes_html(result: RunResult) -> str:
    """Each failed rule once, first thing on the page."""
    causes = result.root_causes()
    if not causes:
        return ""
    items = []
    for cause in causes:
        known = " (known failure)" if cause.known else ""
        items.append(f'<li><a href="#{anchor("rule", cause.rule)}"><strong>{e(cause.rule)}'
                     f"</strong></a> {e(cause.level)}{e(known)} {e(cause.title)}: "
                     f"{e(cause.counts())} — {e(cause.reason)}</li>")
    return (f'<section id="root-causes"><h2>Root causes ({len(causes)})</h2>'
            f'<ul class="root-causes">{"".join(items)}</ul></section>')


def known_html(result: RunResult) -> str:
    """Replay scripts, expected failures, not-checked and not-applicable rules, blocked checks."""
    parts = []
    replayable = [c for c in result.checks if c.repro]
    if replayable:
        items = "".join(
            f'<li><code>bash {e(c.repro)}</code> — <a href="#{anchor("check", c.id)}">'
            f"{e(c.id)}</a> {e(', '.join(c.rules))}, {e(c.outcome)}</li>"
            for c in replayable[:200])
        parts.append('<section id="repro"><h2>Reproduce a failure</h2><p>Each script '
                     "replays its check against a fresh <code>serve</code> (add "
                     "<code>--cli PATH</code> for another build) and exits 1 when the "
                     f"failure recurs.</p><ul>{items}</ul></section>")
    entries = result.notes.get("expectations", [])
    if entries:
        rows = "".join(
            f"<tr><td><code>{e(x['id'])}</code></td><td>{e(x.get('reason'))}</td><td>"
            + (f'<a href="{e(x["link"])}">{e(x["link"])}</a>' if x.get("link") else "—")
            + f"</td><td>{e(x.get('expires') or 'never')}</td></tr>" for x in entries)
        parts.append('<section id="expected-failures"><h2>Expected failures</h2><table>'
                     "<thead><tr><th>id</th><th>reason</th><th>link</th><th>expires</th></tr>"
                     f"</thead><tbody>{rows}</tbody></table></section>")
    for outcome in (NOT_CHECKED, NOT_APPLICABLE):
        na = [rule for rule in result.rules if result.rule_status(rule.id) == outcome]
        if na:
            items = "".join(f'<li><a href="#{anchor("rule", r.id)}">{e(r.id)}</a> {e(r.level)} '
                            f"{e(r.title)}: {e(not_applicable_why(result.checks, r.id, outcome))}"
                            "</li>" for r in na)
            title = outcome.replace("-", " ").capitalize()
            parts.append(f'<section id="{outcome}"><h2>{title} ({len(na)})</h2>'
                         f"<ul>{items}</ul></section>")
    blocked = result.blocked_checks()
    if blocked:
        items = "".join(f'<li><a href="#{anchor("check", c.id)}"><code>{e(c.id)}</code></a> '
                        f"{e(', '.join(c.rules))} — {e(c.reason)}</li>" for c in blocked[:200])
        parts.append(f'<section id="blocked"><h2>Blocked checks ({len(blocked)})</h2>'
                     f"<ul>{items}</ul></section>")
    return "\n".join(parts)


def summary_rows(result: RunResult, titles: dict[str, str]) -> str:
    rows = []
    counts = result.area_counts()
    for area in result.areas():
        rules = [r for r in result.rules if r.area == area]
        passing = sum(1 for r in rules if result.rule_status(r.id) == PASSED)
        c = counts.get(area) or Counter()
        cells = "".join(f'<td class="num o-{o}">{c.get(o, 0) or ""}</td>' for o in CHECK_OUTCOMES)
        failing = " failing" if any(c.get(o, 0) for o in FAILING) else ""
        rows.append(
            f'<tr class="area-row{failing}"><td><a href="#{anchor("area", area)}">{e(area)}</a>'
            f"</td><td>{e(titles.get(area, ''))}</td><td class=\"num\">{passing} / {len(rules)}"
            f'</td><td class="num">{sum(c.values()) if c else 0}</td>{cells}</tr>'
        )
    return "\n".join(rows)


def area_section(result: RunResult, area: str, titles: dict[str, str]) -> str:
    rules = [r for r in result.rules if r.area == area]
    rows = [rule_row(result, rule) for rule in rules]
    unmarked = [c for c in result.checks if not c.rules and (c.area or "UNMARKED") == area]
    if unmarked:
        rows.append(extra_row("checks naming no rule", unmarked))
    failing = any(c.outcome in FAILING for c in result.checks if (c.area or "UNMARKED") == area)
    title = titles.get(area, "")
    return (
        f'<section class="area{" failing" if failing else ""}" id="{anchor("area", area)}">'
        f"<h2>{e(area)}{' — ' + e(title) if title else ''}</h2>\n"
        '<table class="rules"><thead><tr><th style="width:9rem">rule</th>'
        '<th style="width:40%">what the documentation says</th><th>checks</th></tr></thead>'
        "<tbody>\n" + "\n".join(rows) + "\n</tbody></table></section>"
    )


def rule_row(result: RunResult, rule: RuleInfo) -> str:
    checks = result.checks_of(rule.id)
    outcome = result.rule_outcome(rule.id)
    status = result.rule_status(rule.id)
    undecided = ('<br><span class="muted">not decided by this partial run</span>'
                 if status == NOT_RUN and checks else "")
    cls = "rule" if rule.known else "extra-rule"
    failing = " failing" if outcome in FAILING else ""
    quotes = []
    for source in rule.sources:
        if source.kind == "faq":
            quotes.append(f'<blockquote class="faq">“{e(source.text)}”</blockquote>')
        else:
            ref = e(source.ref or source.kind)
            link = f' <a href="{e(source.url)}">source</a>' if source.url else ""
            quotes.append(f'<p class="cite"><code>{ref}</code>: {e(source.text)}{link}</p>')
    check_html = ("".join(check_block(c) for c in checks)
                  or '<span class="muted">no check ran</span>')
    return (
        f'<tr class="{cls} o-{e(outcome)}{failing}" id="{anchor("rule", rule.id)}" '
        f'data-outcome="{e(outcome)}">'
        f'<td class="rule-id"><a href="#{anchor("rule", rule.id)}">{e(rule.id)}</a><br>'
        f'<span class="level">{e(rule.level)}</span><br>{badge(outcome)}{undecided}</td>'
        f"<td><strong>{e(rule.title)}</strong>{''.join(quotes)}</td>"
        f'<td class="checks">{check_html}</td></tr>'
    )


def extra_row(label: str, checks: list[CheckResult]) -> str:
    failing = " failing" if any(c.outcome in FAILING for c in checks) else ""
    return (f'<tr class="extra-rule{failing}"><td class="rule-id">—</td><td>{e(label)}</td>'
            f'<td class="checks">{"".join(check_block(c) for c in checks)}</td></tr>')


def check_block(check: CheckResult) -> str:
    failing = " failing" if check.outcome in FAILING else ""
    reason = f' <span class="reason">— {e(check.reason)}</span>' if check.reason else ""
    if check.repro:
        reason += f' <span class="repro">replay: <code>bash {e(check.repro)}</code></span>'
    return (
        f'<div class="check o-{e(check.outcome)}{failing}" id="{anchor("check", check.id)}">'
        f"<details><summary>{badge(check.outcome)} <code>{e(check.id)}</code>{reason} "
        f'<span class="dur">{check.duration:.2f}s</span></summary>'
        f'<div class="evidence">{evidence_html(check)}</div></details></div>'
    )


def evidence_html(check: CheckResult) -> str:
    parts = []
    facts = []
    if check.raw_outcome != check.outcome:
        facts.append(f"raw outcome: {check.raw_outcome}")
    if check.expectation:
        exp = check.expectation
        facts.append(f"expected to fail: {exp.get('reason')}"
                     + (f" ({exp.get('link')})" if exp.get("link") else "")
                     + (f", expires {exp.get('expires')}" if exp.get("expires") else ""))
    if check.baseline:
        facts.append(f"in the baseline: {check.baseline}")
    for index, attempt in enumerate(check.attempts, 1):
        facts.append(f"rerun {index}: {attempt.outcome} {attempt.reason}".rstrip())
    if facts:
        parts.append("<ul>" + "".join(f"<li>{e(f)}</li>" for f in facts) + "</ul>")
    invocations = check.evidence.get("invocations") or []
    if invocations:
        parts.append("<h4>CLI invocations</h4>")
        parts.extend(invocation_html(inv) for inv in invocations)
    journal = check.evidence.get("journal") or []
    if journal:
        parts.append("<h4>Requests the fakes saw</h4>" + journal_html(journal))
    if check.details:
        parts.append(f"<h4>Failure</h4><pre>{e(clip(check.details))}</pre>")
    if not parts:
        parts.append('<p class="muted">No evidence recorded.</p>')
    return "".join(parts)


def invocation_html(inv: dict[str, Any]) -> str:
    code = "timed out" if inv.get("timed_out") else f"exit {inv.get('exit_code')}"
    html = [f'<div class="inv"><code>$ {e(" ".join(inv.get("argv", [])))}</code> '
            f'<span class="muted">{e(inv.get("operation", ""))} · {e(code)} · '
            f'{float(inv.get("duration") or 0):.2f}s</span>']
    for name in ("stdout", "stderr"):
        text = inv.get(name) or ""
        if text.strip():
            html.append(f'<div class="muted">{name}</div><pre>{e(clip(text))}</pre>')
    files = inv.get("files") or []
    if files:
        html.append("<table><thead><tr><th>file</th><th>change</th><th>before</th><th>after</th>"
                    "</tr></thead><tbody>")
        for change in files:
            html.append(
                f"<tr><td><code>{e(change.get('path'))}</code></td><td>{e(change.get('change'))}"
                f"</td><td>{snapshot_html(change.get('before'))}</td>"
                f"<td>{snapshot_html(change.get('after'))}</td></tr>")
        html.append("</tbody></table>")
    html.append("</div>")
    return "".join(html)


def snapshot_html(snap: dict[str, Any] | None) -> str:
    if not snap:
        return '<span class="muted">—</span>'
    return (f'<span class="muted">mode {e(snap.get("mode"))}</span>'
            f"<pre>{e(clip(snap.get('content') or '', 2000))}</pre>")


def journal_html(journal: list[dict[str, Any]]) -> str:
    heads = ("seq", "hop", "server", "host", "method", "path", "key", "rack header", "status")
    rows = []
    for entry in journal:
        cells = (entry.get("seq"), entry.get("hop"), entry.get("server"),
                 entry.get("host_header") or entry.get("address"), entry.get("method"),
                 entry.get("path"), entry.get("key_identity"), entry.get("rack_header"),
                 entry.get("status"))
        rows.append("<tr>" + "".join(f"<td>{e(c if c is not None else '')}</td>" for c in cells)
                    + "</tr>")
    return ("<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in heads) + "</tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")
