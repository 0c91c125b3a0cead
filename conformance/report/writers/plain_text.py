"""Evidence as plain text: for JUnit's system-out and anything line-based.

CI systems show system-out verbatim, so it reads like a terminal session:
each command with its exit code, its output, what it changed on disk, then
the requests the fakes saw.
"""

from __future__ import annotations

from typing import Any

from conformance.report.model.results import CheckResult


def invocation_lines(inv: dict[str, Any]) -> list[str]:
    code = "timed out" if inv.get("timed_out") else f"exit {inv.get('exit_code')}"
    duration = inv.get("duration") or 0.0
    lines = [f"$ {' '.join(inv.get('argv', []))}   # {inv.get('operation', '?')}: {code}, "
             f"{duration:.2f}s"]
    for name in ("stdout", "stderr"):
        text = (inv.get(name) or "").rstrip()
        if text:
            lines.append(f"  {name}:")
            lines += [f"    {line}" for line in text.splitlines()]
    for change in inv.get("files", []) or []:
        lines.append(f"  file {change.get('change')}: {change.get('path')}")
        for side in ("before", "after"):
            snap = change.get(side)
            if snap:
                lines.append(f"    {side} ({snap.get('mode')}): "
                             f"{(snap.get('content') or '').strip()[:400]}")
    return lines


def journal_line(entry: dict[str, Any]) -> str:
    return (f"#{entry.get('seq')} {entry.get('hop', '')} {entry.get('server')} "
            f"{entry.get('host_header') or entry.get('address')} {entry.get('method')} "
            f"{entry.get('path')} key={entry.get('key_identity')} "
            f"rack={entry.get('rack_header') or '-'} -> {entry.get('status')}")


def check_text(check: CheckResult) -> str:
    """The whole story of one check, as a CI log shows it."""
    lines = [f"check: {check.id}", f"rules: {', '.join(check.rules) or '-'}",
             f"outcome: {check.outcome}" + (f" ({check.reason})" if check.reason else "")]
    if check.expectation:
        lines.append(f"expectation: {check.expectation.get('reason')}")
    if check.baseline:
        lines.append(f"baseline: {check.baseline}")
    for attempt in check.attempts:
        lines.append(f"rerun: {attempt.outcome} {attempt.reason}".rstrip())
    invocations = check.evidence.get("invocations") or []
    if invocations:
        lines += ["", "CLI invocations:"]
        for inv in invocations:
            lines += invocation_lines(inv)
    journal = check.evidence.get("journal") or []
    if journal:
        lines += ["", "requests the fakes saw:"]
        lines += [f"  {journal_line(entry)}" for entry in journal]
    if check.details:
        lines += ["", "details:", check.details]
    return "\n".join(lines) + "\n"
