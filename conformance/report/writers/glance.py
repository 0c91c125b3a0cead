"""The rule table both report.html and summary.md open with: one row per rule, failures first.

A CLI maintainer reads a report to learn what to fix, so each rule gets one
verdict word (the vocabulary of the published pages: holds, fails, undecided,
not applicable, not checked, not run), one line of evidence and its replay
scripts, and the rows that need work come first. The root causes are these
rows: a rule that failed (on its own or as another check's set-up step) is
one row, so neither report lists them a second time. What the gate said that
no row says (expectation problems, warnings) is left in :func:`gate_notes`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from conformance.report.gate.verdict import check_label
from conformance.report.model.outcomes import (
    BLOCKED_OUTCOME,
    ERROR,
    EXPECTED_FAIL,
    FAILED,
    FAILING,
    FLAKY,
    NEW_FAILURE,
    NOT_APPLICABLE,
    NOT_CHECKED,
    NOT_RUN,
    PASSED,
    UNEXPECTED_PASS,
    one_line,
    worst,
)
from conformance.report.model.results import CheckResult, RuleInfo, RunResult
from conformance.report.model.scoring import UNDECIDED, RootCause, not_applicable_why
from conformance.report.writers.repro_scripts import REPLAYED

EVIDENCE_CHARS = 160
#: Chart categories, in the order a bar stacks them, with the word a label uses.
CATEGORIES = {"fails": "fail", "known": "known", "undecided": "undecided",
              "not-checked": "not checked", "holds": "hold", "not-applicable": "n/a",
              "not-run": "not run"}
#: Categories whose rows come first and link their replay scripts.
NEEDS_WORK = frozenset({"fails", "known", "undecided"})
#: The pseudo rule id of the row holding the checks that name no rule.
NO_RULE = "(no rule)"


@dataclass(frozen=True)
class Row:
    """One rule as the reports' first table shows it."""

    rule: RuleInfo
    word: str  # holds | fails | fails (known) | undecided | error | not applicable | ...
    #: The outcome whose colour the verdict is drawn in (``o-<outcome>`` in the CSS).
    colour: str
    outcome: str  # the worst outcome of its checks, as the rule sees them
    category: str  # a key of CATEGORIES: what the per-area chart counts
    evidence: str  # one line, at most EVIDENCE_CHARS
    full: str  # what that line was cut from
    repro: tuple[str, ...]  # replay scripts, relative to the run directory
    failing: bool  # shown by "failures only"
    checks: tuple[CheckResult, ...]
    cause: RootCause | None = None
    order: int = 0  # the rule's place in the catalogue
    #: Sort key: (group, level, place among the root causes, catalogue order).
    rank: tuple[int, ...] = ()


def rows(result: RunResult) -> list[Row]:
    """Every rule of the run (and one row for checks naming none), failures first."""
    causes = {cause.rule: (index, cause) for index, cause in enumerate(result.root_causes())}
    found = [_row(result, rule, index, causes.get(rule.id))
             for index, rule in enumerate(result.rules)]
    unmarked = tuple(c for c in result.checks if not c.rules)
    if unmarked:
        found.append(_unmarked_row(result, unmarked, len(result.rules)))
    return sorted(found, key=lambda row: row.rank)


def _row(result: RunResult, rule: RuleInfo, order: int,
         indexed: tuple[int, RootCause] | None) -> Row:
    checks = tuple(result.checks_of(rule.id))
    status = result.rule_status(rule.id)
    outcome = result.rule_outcome(rule.id)
    cause_index, cause = indexed if indexed else (len(result.rules), None)
    known = rule.id in result.verdict.known_failures or bool(cause and cause.known)
    word, colour, category = _verdict(status, outcome, cause, known, bool(checks))
    not_gated = set(result.verdict.not_gated)
    if category == "fails" and (rule.id in not_gated or any(c.id in not_gated for c in checks)):
        word += " (not gated)"
    failing = outcome in FAILING or (category == "fails" and cause is not None)
    group = _group(category, failing, bool(checks))
    level = {"MUST": 0, "SHOULD": 1}.get(rule.level, 0)
    # A rule that holds has nothing to replay, whatever its checks of several rules did.
    scripts = _repro(rule.id, checks, result) if failing or category in NEEDS_WORK else ()
    full = _evidence(result, rule, status, outcome, cause)
    return Row(rule, word, colour, outcome, category, shorten(full, result, rule.id), full,
               scripts, failing, checks, cause, order,
               (group, level if group <= 2 else 0, cause_index, order))


def _verdict(status: str, outcome: str, cause: RootCause | None, known: bool,
             has_checks: bool) -> tuple[str, str, str]:
    """(word, colour outcome, chart category) of one rule."""
    if outcome == ERROR:
        return "error", ERROR, "undecided"
    if status == FAILED or (cause is not None and not cause.own_failure):
        setup = "" if status == FAILED else " as a set-up step"
        if known:
            return f"fails{setup} (known)", EXPECTED_FAIL, "known"
        if outcome == FLAKY:
            return "flaky", FLAKY, "fails"
        if outcome == NEW_FAILURE:
            return "fails (new)", NEW_FAILURE, "fails"
        return f"fails{setup}", FAILED, "fails"
    if status == PASSED:
        if outcome == UNEXPECTED_PASS:
            return "holds (expected to fail)", UNEXPECTED_PASS, "holds"
        return "holds", PASSED, "holds"
    if status == UNDECIDED:
        return "undecided", BLOCKED_OUTCOME, "undecided"
    if status in (NOT_APPLICABLE, NOT_CHECKED):
        return status.replace("-", " "), status, status
    return ("not decided" if has_checks else "not run"), NOT_RUN, "not-run"


def _group(category: str, failing: bool, has_checks: bool) -> int:
    """Where a row sorts: what needs work first, what says nothing last."""
    if failing:
        return 0
    order = {"fails": 0, "known": 1, "undecided": 2, "not-checked": 3, "holds": 5,
             "not-applicable": 6}
    if category == "not-run":
        return 4 if has_checks else 7
    return order[category]


def _evidence(result: RunResult, rule: RuleInfo, status: str, outcome: str,
              cause: RootCause | None) -> str:
    """What decided the rule: the reason of its root cause or worst check, or why not."""
    checks = result.checks_of(rule.id)
    if cause is not None and cause.reason and outcome != ERROR:
        text = cause.reason
    elif outcome == UNEXPECTED_PASS:
        text = "passed although expected to fail: remove it from the expectations file"
    elif outcome in FAILING or status in (FAILED, UNDECIDED):
        text = next((c.reason for c in checks if c.outcome_for(rule.id) == outcome), "")
        if outcome == BLOCKED_OUTCOME and not text.startswith("blocked by"):
            blocker = next((c for c in checks if c.outcome_for(rule.id) == outcome), None)
            failed = ", ".join(blocker.failed_rules or ()) if blocker else ""
            text = f"blocked: its check failed for {failed or 'another rule'} first"
    elif status in (NOT_APPLICABLE, NOT_CHECKED):
        text = not_applicable_why(result.checks, rule.id, status)
    elif status == NOT_RUN:
        text = "not decided by this partial run" if checks else "no check ran"
    else:
        text = tally_text(Counter(c.outcome_for(rule.id) for c in checks))
    return text


def tally_text(counts: Counter[str]) -> str:
    """``3 checks: 2 passed · 1 blocked``."""
    parts = [f"{n} {outcome.replace('-', ' ')}" for outcome, n in counts.most_common()]
    total = sum(counts.values())
    noun = f"{total} check{'s' if total != 1 else ''}"
    return f"{noun}: " + " · ".join(parts) if parts else "no check ran"


def shorten(text: str, result: RunResult, rule_id: str = "") -> str:
    """One line of at most EVIDENCE_CHARS; the CLI's command (often a long path) is ``CLI``."""
    command = " ".join(result.run.cli_command)
    if command:
        text = text.replace(command, "CLI")
    if rule_id and text.startswith(rule_id + ": "):
        text = text[len(rule_id) + 2:]
    return one_line(text, EVIDENCE_CHARS)


def _repro(rule_id: str, checks: tuple[CheckResult, ...], result: RunResult
           ) -> tuple[str, ...]:
    """The scripts replaying this rule's failures, then those of the checks it blocked."""
    own = [c.repro for c in checks
           if c.repro and c.outcome_for(rule_id) in REPLAYED and rule_id in c.blamed()]
    blocked = [c.repro for c in result.checks if c.repro and c.blocked_by == rule_id]
    others = [c.repro for c in checks if c.repro and c.outcome_for(rule_id) in REPLAYED]
    return tuple(dict.fromkeys(own + blocked + others))


def _unmarked_row(result: RunResult, checks: tuple[CheckResult, ...], order: int) -> Row:
    outcome = worst(c.outcome for c in checks)
    failing = outcome in FAILING
    category = "fails" if failing else "holds" if outcome == PASSED else "undecided"
    rule = RuleInfo(NO_RULE, "checks naming no rule", "—", checks[0].area or "UNMARKED",
                    known=False)
    first = next((c for c in checks if c.outcome == outcome), checks[0])
    full = first.reason or tally_text(Counter(c.outcome for c in checks))
    word = {"fails": "fails", "holds": "holds"}.get(category, outcome.replace("-", " "))
    return Row(rule, word, outcome, outcome, category, shorten(full, result), full,
               tuple(c.repro for c in checks if c.repro), failing, checks, None, order,
               (0 if failing else 5, 0, order, order))


def area_tally(table: list[Row]) -> dict[str, Counter[str]]:
    """Area -> chart category -> number of rules, areas in the order the run has them."""
    tally: dict[str, Counter[str]] = {}
    for row in sorted(table, key=lambda r: r.order):
        tally.setdefault(row.rule.area, Counter())[row.category] += 1
    return tally


def gate_notes(result: RunResult) -> tuple[list[str], list[str]]:
    """(reasons, warnings) of the gate that no row of the table already says.

    The gate words every failing check and set-up failure as a line; the table
    shows each of those as its rule's row, so only the rest is left: problems
    with the expectations file, warnings, checks fixed since the baseline.
    """
    said = [check_label(c) + " " for c in result.checks]
    said += [f"harness error in {c.id}:" for c in result.checks]
    said += [f"{cause.rule} failed as a set-up step" for cause in result.root_causes()]

    def new(line: str) -> bool:
        return line != result.verdict.not_checked_why and not line.startswith(tuple(said))

    reasons = [line for line in result.verdict.reasons if new(line)]
    warnings = [line for line in result.verdict.warnings if new(line)]
    fixed = result.notes.get("fixed", [])
    if fixed:
        warnings.append(f"fixed since the baseline (refresh it): {', '.join(fixed)}")
    return reasons, warnings


def network_text(result: RunResult) -> str:
    network = result.run.options.get("network") or {}
    if not isinstance(network, dict) or not network.get("mode"):
        return "unknown"
    why = f" ({network['why']})" if network.get("why") else ""
    return f"{network['mode']}{why}"


__all__ = ["CATEGORIES", "EVIDENCE_CHARS", "NO_RULE", "Row", "area_tally", "gate_notes",
           "network_text", "rows", "shorten", "tally_text"]
