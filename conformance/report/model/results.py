"""The result model every report is rendered from.

Plain dataclasses that round-trip through ``results.json`` (``to_dict`` /
``from_dict``), so that the matrix, ``expectations update`` and baseline
gating read old runs with exactly the code that wrote them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from conformance.report import READABLE_VERSIONS, SCHEMA_VERSION
from conformance.report.model import scoring
from conformance.report.model.outcomes import BLOCKED_OUTCOME, CHECK_OUTCOMES, FAILING
from conformance.report.model.records import Attempt, CheckResult, Citation, RuleInfo
from conformance.report.model.scoring import Scope

__all__ = ["Attempt", "CheckResult", "Citation", "RuleInfo", "RunInfo", "RunResult", "Verdict",
           "must_score"]


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
    """The run's exit code, its verdict word and the lines that explain it."""

    exit_code: int
    #: conformant | no-regression | gate-passed | failures | not-checked | harness-error
    status: str
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: The gate: "should" fails on any failing rule, "must" on MUST rules only.
    fail_on: str = "should"
    partial: bool = False
    #: Known failures that let the gate pass (expectations, baseline), by id.
    known_failures: list[str] = field(default_factory=list)
    soonest_expiry: str | None = None
    #: Failing rules the gate does not look at (SHOULD rules under --fail-on must).
    not_gated: list[str] = field(default_factory=list)
    #: Rules the run could not observe (no network sandbox), and the line saying why.
    not_checked: list[str] = field(default_factory=list)
    not_checked_why: str = ""


@dataclass
class RunResult:
    """A whole run: info, rules, checks, notes and the verdict."""

    run: RunInfo
    rules: list[RuleInfo]
    checks: list[CheckResult]
    verdict: Verdict
    #: Expectation problems, baseline notes: {"expectation_problems": [...], "fixed": [...],
    #: "expectations": [entries used], "unexercised": [...]}.
    notes: dict[str, list[Any]] = field(default_factory=dict)
    scope: Scope = field(default_factory=Scope)

    # ---------------------------------------------------------- derived views
    def checks_of(self, rule_id: str) -> list[CheckResult]:
        return scoring.checks_of(self.checks, rule_id)

    def rule_outcome(self, rule_id: str) -> str:
        return scoring.rule_outcome(self.checks, rule_id)

    def rule_status(self, rule_id: str) -> str:
        return scoring.rule_status(self.checks, rule_id, self.scope)

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

    def blocked_checks(self) -> list[CheckResult]:
        return [check for check in self.checks if check.outcome == BLOCKED_OUTCOME]

    def score(self, level: str = "MUST") -> scoring.Score:
        return scoring.score(self.rules, self.checks, self.scope, level)

    def must_score(self) -> tuple[int, int]:
        """(MUST rules passed, MUST rules decided): the matrix's score."""
        found = self.score("MUST")
        return len(found.passed), found.decided

    def root_causes(self) -> list[scoring.RootCause]:
        return scoring.root_causes(self.rules, self.checks)

    # ------------------------------------------------------------- JSON form
    def to_dict(self) -> dict[str, Any]:
        counts = self.outcome_counts()
        causes = self.root_causes()
        return {
            "schema_version": SCHEMA_VERSION,
            "run": asdict(self.run),
            "verdict": asdict(self.verdict),
            "root_causes": [cause.to_dict() for cause in causes],
            "scope": self.scope.to_dict(),
            "summary": {
                "checks": len(self.checks),
                "partial": self.scope.partial,
                "outcomes": {o: counts.get(o, 0) for o in CHECK_OUTCOMES},
                "areas": [
                    {"area": area, "outcomes": {o: c[o] for o in CHECK_OUTCOMES if c[o]}}
                    for area, c in self.area_counts().items()
                ],
                "must": self.score("MUST").to_dict(),
                "should": self.score("SHOULD").to_dict(),
                "root_causes": scoring.root_cause_line(causes),
            },
            "rules": [
                {**asdict(rule), "outcome": self.rule_outcome(rule.id),
                 "status": self.rule_status(rule.id),
                 "checks": [check.id for check in self.checks_of(rule.id)]}
                for rule in self.rules
            ],
            "checks": [check.to_dict() for check in self.checks],
            "notes": self.notes,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        version = data.get("schema_version")
        if version not in READABLE_VERSIONS:
            raise ValueError(f"results.json schema_version {version!r} is not supported "
                             f"(this suite reads versions "
                             f"{', '.join(map(str, READABLE_VERSIONS))})")
        rules = [
            RuleInfo(
                id=r["id"], title=r["title"], level=r["level"], area=r["area"],
                sources=tuple(Citation(**s) for s in r.get("sources", [])),
                needs=tuple(r.get("needs", [])), known=r.get("known", True),
            )
            for r in data["rules"]
        ]
        scope = Scope.from_dict(data.get("scope"))
        if version == 1 and data["run"].get("options", {}).get("rules"):
            # Version 1 did not record its scope; a --rule run was partial.
            scope = Scope(partial=True, why=("--rule (recorded by an older suite)",),
                          selected=tuple(data["run"]["options"]["rules"]))
        return cls(
            run=RunInfo(**data["run"]),
            rules=rules,
            checks=[CheckResult.from_dict(c) for c in data["checks"]],
            verdict=Verdict(**data["verdict"]),
            notes=data.get("notes", {}),
            scope=scope,
        )


def must_score(rule_outcomes: dict[str, str]) -> tuple[int, int]:
    """(passed, decided) over MUST rule outcomes, counted by what really happened.

    An unexpected pass is a pass and an expected failure a failure; not
    applicable, not run, blocked and harness errors decide nothing.
    """
    decided = [o for o in rule_outcomes.values()
               if o in scoring.DECIDED_PASS or o in scoring.DECIDED_FAIL]
    return sum(1 for o in decided if o in scoring.DECIDED_PASS), len(decided)
