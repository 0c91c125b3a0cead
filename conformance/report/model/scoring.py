"""What a run decided, rule by rule: scores and root causes.

A score is only honest when it counts rules by what really happened to them.
A rule passed or failed when its checks ran to a verdict; it is *not
applicable* when the profile lacks what it needs, *not checked* when it
applies but the run could not observe it (no network sandbox: a fact about
the machine, so never counted as a pass), *undecided* when its checks
were blocked by another rule's failure (or broke in the harness), unless
only checks of several rules were blocked and the rule's own checks passed
(those decide it), and *not run* when a partial run (``--rule``, ``-k``, a
stop on the first failure) left some of its checks out or touched it only
through a check of several rules. Each of these is shown beside the score, never folded into it.

Root causes are the distinct failed rules, each once, with the checks that
failed for it and the checks it blocked: a reader fixes causes, not the
dozens of red lines one cause can produce.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance.report.model.outcomes import (
    BLAMED,
    BLOCKED_OUTCOME,
    ERROR,
    EXPECTED_FAIL,
    FAILED,
    NOT_APPLICABLE,
    NOT_CHECKED,
    NOT_RUN,
    PASSED,
    UNEXPECTED_PASS,
    worst,
)
from conformance.report.model.records import LEVEL_RANK, CheckResult, RuleInfo

#: Rule statuses (what a score counts).
DECIDED_PASS = frozenset({PASSED, UNEXPECTED_PASS})
DECIDED_FAIL = BLAMED
UNDECIDED = "undecided"
MAX_NAMED = 3


@dataclass(frozen=True)
class Scope:
    """Which checks a run left out, and why it counts as partial."""

    partial: bool = False
    why: tuple[str, ...] = ()
    #: Checks collected but not run: check id -> its rule ids.
    not_run: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Rules named with --rule (decided even when only multi-rule checks touch them).
    selected: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"partial": self.partial, "why": list(self.why),
                "not_run": [{"id": ident, "rules": list(rules)}
                            for ident, rules in self.not_run.items()],
                "selected": list(self.selected)}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Scope:
        data = data or {}
        return cls(partial=bool(data.get("partial")), why=tuple(data.get("why", ())),
                   not_run={n["id"]: tuple(n.get("rules", ())) for n in data.get("not_run", [])},
                   selected=tuple(data.get("selected", ())))

    def incomplete(self, rule_id: str) -> bool:
        """Whether some check of this rule was collected but not run."""
        return any(rule_id in rules for rules in self.not_run.values())


def checks_of(checks: Iterable[CheckResult], rule_id: str) -> list[CheckResult]:
    return [check for check in checks if check.names(rule_id)]


def rule_outcome(checks: Iterable[CheckResult], rule_id: str) -> str:
    """The worst outcome of the rule's checks, as the rule sees each of them."""
    return worst(check.outcome_for(rule_id) for check in checks_of(checks, rule_id))


def rule_status(checks: Sequence[CheckResult], rule_id: str, scope: Scope) -> str:
    """passed | failed | not-applicable | not-checked | undecided | not-run."""
    mine = checks_of(checks, rule_id)
    if not mine:
        return NOT_RUN
    if scope.partial:
        if scope.incomplete(rule_id):
            return NOT_RUN
        # Touched only by checks of several rules: those were selected for
        # another rule and observe this one in passing, so they decide nothing.
        if rule_id not in scope.selected and all(len(c.rules) > 1 for c in mine):
            return NOT_RUN
    outcome = rule_outcome(mine, rule_id)
    if outcome in DECIDED_PASS:
        return PASSED
    if outcome in DECIDED_FAIL:
        return FAILED
    if outcome == BLOCKED_OUTCOME and decided_by_own_checks(mine, rule_id):
        return PASSED
    if outcome in (BLOCKED_OUTCOME, ERROR):
        return UNDECIDED
    return outcome  # not-checked, not-applicable, not-run


def decided_by_own_checks(mine: Sequence[CheckResult], rule_id: str) -> bool:
    """Whether the rule's own checks passed, and only checks of several rules were blocked.

    A check of several rules (the model check, a property) that another rule's
    failure stopped could not finish observing this one, but the rule's own
    checks (those of this rule alone) ran to their verdict: the rule is decided
    by them, as a user of a CLI that fails the other rule would see.
    """
    own = [check for check in mine if check.rules == [rule_id]]
    if not own or not all(check.outcome_for(rule_id) in DECIDED_PASS for check in own):
        return False
    return all(len(check.rules) > 1 for check in mine
               if check.outcome_for(rule_id) == BLOCKED_OUTCOME)


def undecided_why(checks: Sequence[CheckResult], rule_id: str) -> str:
    """Why a rule stayed undecided: the rules that blocked it, or a harness error."""
    mine = checks_of(checks, rule_id)
    blockers: dict[str, None] = {}
    for check in mine:
        if check.outcome_for(rule_id) == BLOCKED_OUTCOME:
            if check.blocked_by:
                blockers[check.blocked_by] = None
            else:
                blockers.update(dict.fromkeys(check.failed_rules or ()))
    if blockers:
        return "blocked by " + ", ".join(blockers)
    return "harness error"


def not_applicable_why(checks: Sequence[CheckResult], rule_id: str,
                       outcome: str = NOT_APPLICABLE) -> str:
    """Why the rule is not applicable (or, with ``outcome``, not checked)."""
    for check in checks_of(checks, rule_id):
        if check.outcome == outcome and check.reason:
            reason = check.reason
            if reason.startswith(rule_id + " "):
                reason = reason[len(rule_id) + 1:]
            return reason
    return outcome.replace("-", " ")


def not_checked_why(checks: Sequence[CheckResult], rule_id: str) -> str:
    return not_applicable_why(checks, rule_id, NOT_CHECKED)


@dataclass
class Score:
    """One level's rules by status: the score and everything beside it."""

    level: str
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    not_applicable: list[tuple[str, str]] = field(default_factory=list)
    #: Rules that apply but this run could not observe (no network sandbox), with why.
    not_checked: list[tuple[str, str]] = field(default_factory=list)
    undecided: list[tuple[str, str]] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)

    @property
    def decided(self) -> int:
        return len(self.passed) + len(self.failed)

    def text(self) -> str:
        """``MUST 60/61 passed · 1 not applicable (SECURITY-003: needs resolve) · ...``."""
        parts = [f"{self.level} {len(self.passed)}/{self.decided} passed" if self.decided
                 else f"{self.level}: no rule decided"]
        if self.not_checked:
            # One reason serves them all (the run's network): name the rules, not it again.
            parts.append(f"{len(self.not_checked)} not checked ("
                         + ", ".join(rule for rule, _why in self.not_checked) + ")")
        if self.not_applicable:
            parts.append(f"{len(self.not_applicable)} not applicable ("
                         + _named(f"{rule}: {why}" for rule, why in self.not_applicable) + ")")
        if self.undecided:
            parts.append(f"{len(self.undecided)} undecided ("
                         + _named(f"{rule} {why}" for rule, why in self.undecided) + ")")
        if self.not_run:
            parts.append(f"{len(self.not_run)} not decided by this run")
        return " · ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        decided = self.decided
        return {
            "passed": len(self.passed), "decided": decided,
            "applicable": decided + len(self.undecided) + len(self.not_checked),
            "score": round(len(self.passed) / decided, 4) if decided else None,
            "failed": list(self.failed),
            "not_applicable": [{"id": r, "reason": w} for r, w in self.not_applicable],
            "not_checked": [{"id": r, "reason": w} for r, w in self.not_checked],
            "undecided": [{"id": r, "why": w} for r, w in self.undecided],
            "not_run": list(self.not_run),
            "text": self.text(),
        }


def _named(items: Iterable[str]) -> str:
    items = list(items)
    shown = "; ".join(items[:MAX_NAMED])
    return shown + (f"; … {len(items) - MAX_NAMED} more" if len(items) > MAX_NAMED else "")


def score(rules: Iterable[RuleInfo], checks: Sequence[CheckResult], scope: Scope,
          level: str = "MUST") -> Score:
    found = Score(level)
    for rule in rules:
        if rule.level != level:
            continue
        status = rule_status(checks, rule.id, scope)
        if status == PASSED:
            found.passed.append(rule.id)
        elif status == FAILED:
            found.failed.append(rule.id)
        elif status == NOT_APPLICABLE:
            found.not_applicable.append((rule.id, not_applicable_why(checks, rule.id)))
        elif status == NOT_CHECKED:
            found.not_checked.append((rule.id, not_checked_why(checks, rule.id)))
        elif status == UNDECIDED:
            found.undecided.append((rule.id, undecided_why(checks, rule.id)))
        else:
            found.not_run.append(rule.id)
    return found


@dataclass
class RootCause:
    """One failed rule, once: the checks that failed for it and those it blocked."""

    rule: str
    title: str
    level: str
    failed: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    reason: str = ""
    #: Every failure of it is a known one (expectations or baseline).
    known: bool = False

    @property
    def own_failure(self) -> bool:
        """False when the rule failed only as another check's set-up step."""
        return bool(self.failed)

    def headline(self) -> str:
        """``SECURITY-001 <title> (3 checks)``; blocked checks are counted apart."""
        if self.failed:
            count = f"{len(self.failed)} check{'s' if len(self.failed) != 1 else ''}"
        else:
            count = "failed only as a set-up step"
        return f"{self.rule} {self.title} ({count})"

    def counts(self) -> str:
        """``2 check(s) failed, 5 check(s) blocked``, as every report words it."""
        parts = [f"{len(self.failed)} check(s) failed"] if self.failed else \
            ["failed only as a set-up step"]
        if self.blocked:
            parts.append(f"{len(self.blocked)} check(s) blocked")
        return ", ".join(parts)

    def blocked_text(self) -> str:
        n = len(self.blocked)
        return f"{n} check{'s' if n != 1 else ''} blocked by {self.rule}" if n else ""

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "title": self.title, "level": self.level,
                "failed": list(self.failed), "blocked": list(self.blocked),
                "reason": self.reason, "known": self.known}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RootCause:
        return cls(**data)


def root_causes(rules: Iterable[RuleInfo], checks: Sequence[CheckResult]) -> list[RootCause]:
    """Distinct failed rules (and rules that failed only as a set-up step), worst first."""
    info = {rule.id: rule for rule in rules}
    causes: dict[str, RootCause] = {}

    def cause(rule_id: str) -> RootCause:
        if rule_id not in causes:
            rule = info.get(rule_id)
            causes[rule_id] = RootCause(rule_id, rule.title if rule else "(not in the catalogue)",
                                        rule.level if rule else "UNKNOWN")
        return causes[rule_id]

    known: dict[str, list[bool]] = {}
    for check in checks:
        if check.outcome in DECIDED_FAIL:
            for rule_id in check.blamed():
                found = cause(rule_id)
                found.failed.append(check.id)
                found.reason = found.reason or check.reason
                known.setdefault(rule_id, []).append(check.outcome == EXPECTED_FAIL)
    for check in checks:
        if check.outcome == BLOCKED_OUTCOME and check.blocked_by:
            found = cause(check.blocked_by)
            found.blocked.append(check.id)
            if not found.reason:
                step = (check.blocked or {}).get("step") or check.reason
                found.reason = f"set-up step failed: {step}"
    for rule_id, flags in known.items():
        causes[rule_id].known = all(flags)
    order = list(info)
    return sorted(causes.values(), key=lambda c: (
        LEVEL_RANK.get(c.level, 0), c.known,
        -(len(c.failed) + len(c.blocked)),
        order.index(c.rule) if c.rule in order else len(order), c.rule))


def root_cause_line(causes: Sequence[RootCause]) -> str:
    """``SECURITY-001 ... (3 checks) · PROXY-006 ... · 12 checks blocked by PROXY-006``."""
    parts = [c.headline() for c in causes]
    parts += [c.blocked_text() for c in causes if c.blocked]
    return " · ".join(parts)
