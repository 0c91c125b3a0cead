"""The records a run is made of: each rule as the reports see it, and each check.

The lowest layer of the results model: :mod:`.scoring` judges these records and
:mod:`.results` gathers them into a run, so both import them from here and
neither has to import the other back. ``results`` re-exports them, so a writer
that reads a whole run needs one import.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from conformance.report.model.outcomes import BLAMED, BLOCKED_OUTCOME

#: Levels in the order the reports rank them, MUST first.
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
    #: Blocked only: the rule whose set-up step failed, and {rule, step, detail}.
    blocked_by: str | None = None
    blocked: dict[str, Any] | None = None
    #: Set by a multi-rule check that failed for some of its rules only.
    failed_rules: list[str] | None = None
    #: The replay script of a failed or blocked check, relative to the run directory.
    repro: str | None = None

    def blamed(self) -> list[str]:
        """The rules a failure of this check counts against."""
        return list(self.failed_rules) if self.failed_rules else list(self.rules)

    def names(self, rule_id: str) -> bool:
        return rule_id in self.rules or rule_id in (self.failed_rules or ())

    def outcome_for(self, rule_id: str) -> str:
        """This check's outcome as one of its rules sees it.

        A multi-rule check that failed for rule A only (``failed_rules``) ended
        before it finished observing its other rules: for them it is blocked
        by A, neither a pass nor a failure.
        """
        if (self.failed_rules and self.outcome in BLAMED
                and rule_id not in self.failed_rules):
            return BLOCKED_OUTCOME
        return self.outcome

    def to_dict(self) -> dict[str, Any]:
        """The JSON form. Shares the evidence and other JSON values with this record
        instead of copying them as ``asdict`` would: a whole run's evidence is most of a
        megabyte, and each report wrote it twice. Readers only serialise or copy it."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["attempts"] = [asdict(attempt) for attempt in self.attempts]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        data = dict(data)
        data["attempts"] = [Attempt(**a) for a in data.get("attempts", [])]
        return cls(**data)
