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
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance import toml_file
from conformance.report.model.outcomes import (
    BLOCKED_OUTCOME,
    ERROR,
    EXPECTED_FAIL,
    FAILED,
    FLAKY,
    NEW_FAILURE,
    NOT_APPLICABLE,
    NOT_RUN,
    PASSED,
    UNEXPECTED_PASS,
)
from conformance.report.model.results import CheckResult, RunResult

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
    raw = toml_file.read(file, "expectations", ExpectationsError)
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


@dataclass
class Applied:
    """What applying an expectations file found."""

    problems: list[str] = field(default_factory=list)  # fail the run (expired entries)
    #: Entries no check of this run tested: id -> the warning.
    unexercised: dict[str, str] = field(default_factory=dict)
    used: list[dict[str, Any]] = field(default_factory=list)  # entries that excused a failure
    live: list[Expectation] = field(default_factory=list)  # entries not expired


def apply(checks: list[CheckResult], entries: Iterable[Expectation], source: str,
          today: dt.date | None = None) -> Applied:
    """Turn listed failures into expected-fail and listed passes into unexpected-pass.

    A rule entry is strict per rule: it becomes an unexpected pass only when
    none of the rule's checks failed any more. A check entry is strict per
    check and wins over a rule entry for the same check. Harness errors are
    never excused. A check of several rules that failed for other rules
    (``failed_rules``) does not exercise an entry for this one.
    """
    today = today or dt.date.today()
    found = Applied()
    entries = list(entries)
    for entry in entries:
        if entry.expired(today):
            found.problems.append(
                f"expectation {entry.id} in {source} expired on {entry.expires}: fix the CLI or "
                f"move the date ({entry.reason})"
            )
        else:
            found.live.append(entry)
    check_entries = [e for e in found.live if not _is_rule_entry(e, checks)]
    rule_entries = [e for e in found.live if _is_rule_entry(e, checks)]
    claimed: dict[str, Expectation] = {}
    for entry in check_entries:
        hit = [c for c in checks if matches(entry, c)]
        for check in hit:
            claimed[check.nodeid] = entry
        _judge(hit, entry, entry.id, found, source)
    for entry in rule_entries:
        hit = [c for c in checks if c.names(entry.id) and c.nodeid not in claimed
               and c.outcome_for(entry.id) != BLOCKED_OUTCOME]
        _judge(hit, entry, entry.id, found, source)
    return found


def _is_rule_entry(entry: Expectation, checks: list[CheckResult]) -> bool:
    return any(entry.id in check.rules for check in checks) or (
        "::" not in entry.id and ".py" not in entry.id)


def _judge(checks: list[CheckResult], entry: Expectation, ident: str, found: Applied,
           source: str) -> None:
    ran = [c for c in checks if c.outcome not in (NOT_APPLICABLE, BLOCKED_OUTCOME)]
    if not ran:
        why = ("only not-applicable or blocked checks of it ran" if checks
               else "no check of it ran")
        found.unexercised[ident] = f"expectation {ident} in {source} was never exercised: {why}"
        return
    failing = [c for c in ran if c.outcome in (FAILED, FLAKY, NEW_FAILURE)]
    for check in ran:
        check.expectation = entry.as_dict()
    if failing:
        for check in failing:
            if check.outcome in (FAILED, NEW_FAILURE):
                check.outcome = EXPECTED_FAIL
        found.used.append({**entry.as_dict(), "checks": [c.id for c in failing]})
        return
    if any(c.outcome == ERROR for c in ran):
        return  # a harness fault says nothing about whether the CLI got fixed
    for check in ran:
        if check.outcome == PASSED:
            check.outcome = UNEXPECTED_PASS
            check.reason = (f"expected to fail ({entry.reason}) but passed: remove "
                            f"{entry.id} from the expectations file")


# ------------------------------------------------------------------ update

def from_run(result: RunResult, existing: Iterable[Expectation] = (), *,
             merge: bool = False) -> list[Expectation]:
    """The expectations a run implies: its failures, keeping what people wrote.

    A rule whose every applicable check failed is listed by rule id; a rule
    that partly fails is listed check by check; a rule that failed only as a
    set-up step of blocked checks is listed by rule id. An existing entry for
    an id that still fails is kept as written (reason, link, expiry). With
    ``merge`` (for partial runs), entries about rules and checks this run did
    not decide are kept as they were.
    """
    kept = {entry.id: entry for entry in existing}
    failing_outcomes = {FAILED, EXPECTED_FAIL, NEW_FAILURE, FLAKY}
    wanted: dict[str, str] = {}
    done: set[str] = set()
    for rule in result.rules:
        checks = [c for c in result.checks_of(rule.id)
                  if c.outcome_for(rule.id) not in (NOT_APPLICABLE, BLOCKED_OUTCOME)]
        bad = [c for c in checks if c.outcome_for(rule.id) in failing_outcomes]
        if checks and len(bad) == len(checks):
            wanted[rule.id] = bad[0].reason
            done.update(c.nodeid for c in bad)
    for check in result.checks:
        if check.outcome in failing_outcomes and check.nodeid not in done:
            wanted[check.id] = check.reason
    for cause in result.root_causes():
        if not cause.own_failure and cause.rule not in wanted:
            wanted[cause.rule] = cause.reason
    found = []
    for ident, reason in wanted.items():
        if ident in kept:
            found.append(kept[ident])
        else:
            text = stable_reason(reason)
            found.append(Expectation(ident, f"fails: {text}" if text else "fails"))
    if merge:
        listed = {entry.id for entry in found}
        ran = {check.id for check in result.checks}
        for entry in existing:
            if entry.id in listed:
                continue
            is_rule = any(rule.id == entry.id for rule in result.rules)
            undecided = (result.rule_status(entry.id) == NOT_RUN if is_rule
                         else not any(matches(entry, c) for c in result.checks
                                      if c.id in ran))
            if undecided:
                found.append(entry)
    return found


#: Run-specific text that must not end up in a file people commit.
_UNSTABLE = (
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}:\d+|\[[0-9a-fA-F:]+\]:\d+|"
                r"\b[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*:\d{2,5}\b"), "<host>"),
    (re.compile(r"(?<![\w~.])/(?:[^\s/'\"`:]+/)+[^\s/'\"`:]*"), "<path>"),
    (re.compile(r"\b\d+(?:\.\d+)?\s?(?:ms|s)\b"), "<time>"),
    (re.compile(r"#\d+>"), ">"),
    (re.compile(r"\b[0-9a-f]{12,}\b"), "<id>"),
)


def stable_reason(reason: str, limit: int = 200) -> str:
    """A failure reason without ports, paths, timings or ids that change every run."""
    text = reason
    for pattern, replacement in _UNSTABLE:
        text = pattern.sub(replacement, text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
