"""Known failures of one CLI (``--expectations FILE``), like WPT's metadata.

A third-party CLI rarely conforms fully on day one; its CI still needs a
verdict that goes red only when something changes. Listing known failures
(with a reason, a link to the tracking issue and an optional expiry date)
gives that, and strictness keeps the list honest: a listed check that passes
fails the run until it is removed, and an expired entry fails the run until
someone looks at it again.

File format (TOML)::

    [[expected-failure]]
    id = "LOGIN-003"              # a rule id, or a check id (test_login.py::test_x)
    reason = "we rewrite auth on login"
    link = "https://example.com/issues/12"   # optional
    expires = 2026-06-30          # optional TOML date
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.report.model import CheckResult, RunResult
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

TABLE = "expected-failure"
_FIELDS = {"id", "reason", "link", "expires"}


class ExpectationsError(Exception):
    """The expectations file cannot be used; ``str()`` names file and field."""


@dataclass(frozen=True)
class Expectation:
    id: str
    reason: str
    link: str | None = None
    expires: dt.date | None = None

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and today > self.expires

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "reason": self.reason, "link": self.link,
                "expires": self.expires.isoformat() if self.expires else None}


def load(path: str | Path) -> list[Expectation]:
    """Read and validate an expectations file; every problem in one message."""
    file = Path(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExpectationsError(f"expectations {file}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ExpectationsError(f"expectations {file}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ExpectationsError(f"expectations {file}: not valid TOML: {exc}") from None
    problems: list[str] = []
    unknown = sorted(set(raw) - {TABLE})
    if unknown:
        problems.append(f"unknown top-level key(s) {', '.join(unknown)} (allowed: [[{TABLE}]])")
    entries = raw.get(TABLE, [])
    if not isinstance(entries, list):
        problems.append(f"{TABLE}: must be an array of tables ([[{TABLE}]])")
        entries = []
    found: list[Expectation] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"{TABLE}[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a table")
            continue
        for key in sorted(set(entry) - _FIELDS):
            problems.append(f"{where}.{key}: unknown field (allowed: {', '.join(sorted(_FIELDS))})")
        ident, reason = entry.get("id"), entry.get("reason")
        link, expires = entry.get("link"), entry.get("expires")
        if not isinstance(ident, str) or not ident.strip():
            problems.append(f"{where}.id: must be a rule id or a check id")
            continue
        if not isinstance(reason, str) or not reason.strip():
            problems.append(f"{where}.reason: required: say why {ident} is expected to fail")
        if link is not None and not isinstance(link, str):
            problems.append(f"{where}.link: must be a string")
        if expires is not None and (not isinstance(expires, dt.date)
                                    or isinstance(expires, dt.datetime)):
            problems.append(f"{where}.expires: must be a TOML date like 2026-06-30, "
                            f"got {expires!r}")
        if ident in seen:
            problems.append(f"{where}.id: {ident} is listed twice")
        seen.add(ident)
        if isinstance(reason, str) and reason.strip():
            found.append(Expectation(ident.strip(), reason.strip(),
                                     link if isinstance(link, str) else None,
                                     expires if isinstance(expires, dt.date) else None))
    if problems:
        raise ExpectationsError("; ".join(f"expectations {file}: {p}" for p in problems))
    return found


def matches(entry: Expectation, check: CheckResult) -> bool:
    """Whether an entry names this check: by rule id, check id or node id."""
    ident = entry.id
    if ident in check.rules:
        return True
    return (check.id == ident or check.nodeid == ident
            or check.id.startswith(ident + "[") or check.nodeid.endswith("/" + ident))


def apply(checks: list[CheckResult], entries: Iterable[Expectation], source: str,
          today: dt.date | None = None) -> tuple[list[str], list[str]]:
    """Turn listed failures into expected-fail and listed passes into unexpected-pass.

    Returns (problems that fail the run, warnings). A rule entry is strict per
    rule: it becomes an unexpected pass only when none of the rule's checks
    failed any more. A check entry is strict per check and wins over a rule
    entry for the same check. Harness errors are never excused.
    """
    today = today or dt.date.today()
    problems: list[str] = []
    warnings: list[str] = []
    entries = list(entries)
    live = []
    for entry in entries:
        if entry.expired(today):
            problems.append(
                f"expectation {entry.id} in {source} expired on {entry.expires}: fix the CLI or "
                f"move the date ({entry.reason})"
            )
        else:
            live.append(entry)
    check_entries = [e for e in live if not _is_rule_entry(e, checks)]
    rule_entries = [e for e in live if _is_rule_entry(e, checks)]
    claimed: dict[str, Expectation] = {}
    for entry in check_entries:
        hit = [c for c in checks if matches(entry, c)]
        if not hit:
            warnings.append(f"expectation {entry.id} in {source} matches no check that ran")
        for check in hit:
            claimed[check.nodeid] = entry
            _judge([check], entry)
    for entry in rule_entries:
        hit = [c for c in checks if entry.id in c.rules and c.nodeid not in claimed]
        if not hit:
            continue
        _judge(hit, entry)
    return problems, warnings


def _is_rule_entry(entry: Expectation, checks: list[CheckResult]) -> bool:
    return any(entry.id in check.rules for check in checks) or (
        "::" not in entry.id and ".py" not in entry.id)


def _judge(checks: list[CheckResult], entry: Expectation) -> None:
    ran = [c for c in checks if c.outcome != NOT_APPLICABLE]
    failing = [c for c in ran if c.outcome in (FAILED, FLAKY, NEW_FAILURE)]
    for check in ran:
        check.expectation = entry.as_dict()
    if failing:
        for check in failing:
            if check.outcome in (FAILED, NEW_FAILURE):
                check.outcome = EXPECTED_FAIL
        return
    if any(c.outcome == ERROR for c in ran):
        return  # a harness fault says nothing about whether the CLI got fixed
    for check in ran:
        if check.outcome == PASSED:
            check.outcome = UNEXPECTED_PASS
            check.reason = (f"expected to fail ({entry.reason}) but passed: remove "
                            f"{entry.id} from the expectations file")


# ------------------------------------------------------------------ update

def from_run(result: RunResult, existing: Iterable[Expectation] = ()) -> list[Expectation]:
    """The expectations a run implies: its failures, keeping what people wrote.

    A rule whose every applicable check failed is listed by rule id; a rule
    that partly fails is listed check by check. An existing entry for an id
    that still fails is kept as written (reason, link, expiry).
    """
    kept = {entry.id: entry for entry in existing}
    failing_outcomes = {FAILED, EXPECTED_FAIL, NEW_FAILURE, FLAKY}
    wanted: dict[str, str] = {}
    done: set[str] = set()
    for rule in result.rules:
        checks = [c for c in result.checks_of(rule.id) if c.outcome != NOT_APPLICABLE]
        bad = [c for c in checks if c.outcome in failing_outcomes]
        if checks and len(bad) == len(checks):
            wanted[rule.id] = bad[0].reason
            done.update(c.nodeid for c in bad)
    for check in result.checks:
        if check.outcome in failing_outcomes and check.nodeid not in done:
            wanted[check.id] = check.reason
    found = []
    for ident, reason in wanted.items():
        if ident in kept:
            found.append(kept[ident])
        else:
            found.append(Expectation(ident, f"fails: {reason}" if reason else "fails"))
    return found


def render(entries: Iterable[Expectation], header: str = "") -> str:
    """TOML text for an expectations file (strings are JSON-escaped, valid TOML)."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    for entry in entries:
        lines += ["", f"[[{TABLE}]]", f"id = {json.dumps(entry.id)}",
                  f"reason = {json.dumps(entry.reason)}"]
        if entry.link:
            lines.append(f"link = {json.dumps(entry.link)}")
        if entry.expires:
            lines.append(f"expires = {entry.expires.isoformat()}")
    return "\n".join(lines).lstrip("\n") + "\n"
