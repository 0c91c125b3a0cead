"""The result model every report is rendered from.

Plain dataclasses that round-trip through ``results.json`` (``to_dict`` /
``from_dict``), so that the matrix, ``expectations update`` and baseline
gating read old runs with exactly the code that wrote them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from conformance.report import SCHEMA_VERSION
from conformance.report.outcomes import (
    CHECK_OUTCOMES,
    ERROR,
    FAILED,
    FAILING,
    NEW_FAILURE,
    NOT_APPLICABLE,
    NOT_RUN,
    PASSED,
    UNEXPECTED_PASS,
    worst,
)

LEVEL_RANK = {"MUST": 0, "SHOULD": 1}


@dataclass(frozen=True)
class Citation:
    """Where a rule comes from: a quoted FAQ sentence or a documented fact."""

    kind: str  # faq | docs | wire
    text: str
    ref: str = ""
    url: str = ""


@dataclass(frozen=True)
class RuleInfo:
    """What the reports need to know about one catalogue rule."""

    id: str
    title: str
    level: str
    area: str
    sources: tuple[Citation, ...] = ()
    needs: tuple[str, ...] = ()
    known: bool = True  # False: a check names it but the catalogue does not


@dataclass
class Attempt:
    """One extra run of a failing check (``--verify``)."""

    outcome: str
    reason: str = ""
    duration: float = 0.0


@dataclass
class CheckResult:
    """One check (a pytest item) and everything the reports say about it."""

    id: str  # stable: "test_login.py::test_x[param]", independent of install paths
    nodeid: str
    rules: list[str]
    outcome: str
    raw_outcome: str  # before expectations, baselines and --verify
    reason: str = ""
    details: str = ""
    duration: float = 0.0
    level: str | None = None
    area: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    expectation: dict[str, Any] | None = None
    baseline: str | None = None  # the outcome in the baseline, "absent", or None
    evidence: dict[str, Any] = field(default_factory=lambda: {"invocations": [], "journal": []})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        data = dict(data)
        data["attempts"] = [Attempt(**a) for a in data.get("attempts", [])]
        return cls(**data)


@dataclass
class RunInfo:
    """Facts about the run that make a result reproducible and comparable."""

    run_id: str
    suite_version: str
    digest: dict[str, str]
    cli_command: list[str]
    profile: dict[str, str]
    cli_version: str | None
    platform: dict[str, str]
    started: str
    finished: str
    duration: float
    seed: dict[str, Any]
    options: dict[str, Any]


@dataclass
class Verdict:
    """The run's exit code and the lines that explain it."""

    exit_code: int
    status: str  # conformant | failures | harness-error
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    """A whole run: info, rules, checks, notes and the verdict."""

    run: RunInfo
    rules: list[RuleInfo]
    checks: list[CheckResult]
    verdict: Verdict
    #: Expectation problems, baseline notes: {"expectations": [...], "fixed": [...]}.
    notes: dict[str, list[Any]] = field(default_factory=dict)

    # ---------------------------------------------------------- derived views
    def checks_of(self, rule_id: str) -> list[CheckResult]:
        return [check for check in self.checks if rule_id in check.rules]

    def rule_outcome(self, rule_id: str) -> str:
        return worst(check.outcome for check in self.checks_of(rule_id))

    def areas(self) -> list[str]:
        """Areas in catalogue order, then any area only the checks mention."""
        seen: list[str] = []
        for rule in self.rules:
            if rule.area not in seen:
                seen.append(rule.area)
        for check in self.checks:
            area = check.area or "UNMARKED"
            if area not in seen:
                seen.append(area)
        return seen

    def area_counts(self) -> dict[str, Counter[str]]:
        """Area -> outcome -> number of checks."""
        counts: dict[str, Counter[str]] = {area: Counter() for area in self.areas()}
        for check in self.checks:
            counts[check.area or "UNMARKED"][check.outcome] += 1
        return counts

    def outcome_counts(self) -> Counter[str]:
        return Counter(check.outcome for check in self.checks)

    def failing_checks(self) -> list[CheckResult]:
        return [check for check in self.checks if check.outcome in FAILING]

    def must_score(self) -> tuple[int, int]:
        """(MUST rules passed, MUST rules applicable): the matrix's score."""
        return must_score({rule.id: self.rule_outcome(rule.id)
                           for rule in self.rules if rule.level == "MUST"})

    # ------------------------------------------------------------- JSON form
    def to_dict(self) -> dict[str, Any]:
        counts = self.outcome_counts()
        passed, applicable = self.must_score()
        return {
            "schema_version": SCHEMA_VERSION,
            "run": asdict(self.run),
            "verdict": asdict(self.verdict),
            "summary": {
                "checks": len(self.checks),
                "outcomes": {o: counts.get(o, 0) for o in CHECK_OUTCOMES},
                "areas": [
                    {"area": area, "outcomes": {o: c[o] for o in CHECK_OUTCOMES if c[o]}}
                    for area, c in self.area_counts().items()
                ],
                "must": {"passed": passed, "applicable": applicable,
                         "score": round(passed / applicable, 4) if applicable else None},
            },
            "rules": [
                {**asdict(rule), "outcome": self.rule_outcome(rule.id),
                 "checks": [check.id for check in self.checks_of(rule.id)]}
                for rule in self.rules
            ],
            "checks": [check.to_dict() for check in self.checks],
            "notes": self.notes,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ValueError(f"results.json schema_version {version!r} is not supported "
                             f"(this suite reads version {SCHEMA_VERSION})")
        rules = [
            RuleInfo(
                id=r["id"], title=r["title"], level=r["level"], area=r["area"],
                sources=tuple(Citation(**s) for s in r.get("sources", [])),
                needs=tuple(r.get("needs", [])), known=r.get("known", True),
            )
            for r in data["rules"]
        ]
        return cls(
            run=RunInfo(**data["run"]),
            rules=rules,
            checks=[CheckResult.from_dict(c) for c in data["checks"]],
            verdict=Verdict(**data["verdict"]),
            notes=data.get("notes", {}),
        )


def must_score(rule_outcomes: dict[str, str]) -> tuple[int, int]:
    """(passed, applicable) over MUST rule outcomes; N/A and not-run do not count."""
    applicable = [o for o in rule_outcomes.values() if o not in (NOT_APPLICABLE, NOT_RUN)]
    return sum(1 for o in applicable if o == PASSED), len(applicable)


#: Outcomes that fail a run (new-failure only unless --new-checks=pending).
RUN_FAILING = frozenset({FAILED, UNEXPECTED_PASS, NEW_FAILURE})


def decide(
    checks: list[CheckResult],
    *,
    expectation_problems: Sequence[str] = (),
    new_checks: str = "fail",
    warnings: Sequence[str] = (),
) -> Verdict:
    """The exit code: 3 for harness errors, 1 for conformance failures, else 0.

    Harness errors win because failures next to a broken harness cannot be
    trusted; expected failures and flaky checks never fail a run, an
    unexpected pass and an expired expectation always do.
    """
    reasons: list[str] = []
    notes = list(warnings)
    errors = [c for c in checks if c.outcome == ERROR]
    for check in errors:
        reasons.append(f"harness error in {check.id}: {check.reason}")
    for check in checks:
        if check.outcome == FAILED:
            reasons.append(f"{_label(check)} failed: {check.reason}")
        elif check.outcome == UNEXPECTED_PASS:
            reasons.append(f"{_label(check)} passed although expected to fail: "
                           "remove it from the expectations file")
        elif check.outcome == NEW_FAILURE:
            line = f"{_label(check)} is new since the baseline and fails: {check.reason}"
            if new_checks == "pending":
                notes.append(line + " (pending: --new-checks=pending)")
            else:
                reasons.append(line)
    reasons.extend(expectation_problems)
    if errors:
        return Verdict(3, "harness-error", reasons, notes)
    if reasons:
        return Verdict(1, "failures", reasons, notes)
    return Verdict(0, "conformant", [], notes)


def _label(check: CheckResult) -> str:
    return f"{', '.join(check.rules)} ({check.id})" if check.rules else check.id
