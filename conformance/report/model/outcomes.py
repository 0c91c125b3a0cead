"""The outcome vocabulary and how pytest phases turn into one outcome.

A CLI author reads outcomes, not pytest internals, so the distinctions that
matter to them are made here once: a failed assertion (including a CLI that
hung, :class:`conformance.running.invoke.CliTimeout`) is the CLI's fault, anything
else that blows up is the harness's fault (``error``), a skip that says
"not applicable: ..." is neither a pass nor a failure, nor is one that says
"not checked: ..." (the rule applies, but the machine could not observe it:
no network sandbox), which unlike not applicable keeps a gate from calling
the CLI conformant, and a skip that says
"blocked by RULE-ID: ..." (a set-up step failed, so the check's own rule was
never observed) is *blocked*: neither a pass nor a failure either, and its
root cause is the named rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

PASSED = "passed"
FAILED = "failed"
NOT_APPLICABLE = "not-applicable"
#: The rule applies to the CLI but the run could not observe it (no network sandbox).
NOT_CHECKED = "not-checked"
ERROR = "error"
EXPECTED_FAIL = "expected-fail"
UNEXPECTED_PASS = "unexpected-pass"
NEW_FAILURE = "new-failure"
FLAKY = "flaky"
#: A set-up ("given") step failed; the check's own rule stayed undecided.
BLOCKED_OUTCOME = "blocked"
#: Only for rules: the catalogue has the rule but no check of it ran.
NOT_RUN = "not-run"

#: Worst first: a rule shows the worst outcome among its checks.
SEVERITY = (ERROR, FAILED, NEW_FAILURE, UNEXPECTED_PASS, FLAKY, EXPECTED_FAIL,
            BLOCKED_OUTCOME, NOT_CHECKED, PASSED, NOT_APPLICABLE, NOT_RUN)
CHECK_OUTCOMES = SEVERITY[:-1]
#: Outcomes a reader should look at ("failures only" in report.html).
FAILING = frozenset({ERROR, FAILED, NEW_FAILURE, UNEXPECTED_PASS, FLAKY})
#: Outcomes that are a failure of the rules a check blames (a known one included).
BLAMED = frozenset({FAILED, EXPECTED_FAIL, NEW_FAILURE, FLAKY})
#: What failing means before expectations and baselines are applied.
RAW_FAILING = frozenset({FAILED, ERROR})

SKIP_PREFIX = "not applicable: "
CHECK_SKIP_PREFIX = "not checked: "
#: The skip reason that means *blocked* (the harness's ``given`` steps use it):
#: ``pytest.skip(BLOCKED + "LOGIN-004: log in to Console as alice failed")``.
BLOCKED = "blocked by "
_BLOCKED_RULE = re.compile(r"blocked by ([A-Za-z][A-Za-z0-9_]*-[A-Za-z0-9_.-]+?):?(?:\s|$)")
#: Exceptions that mean the CLI misbehaved, although they are not assertions:
#: a CLI that writes a config file the suite cannot parse fails the check.
CLI_FAULTS = frozenset({"conformance.running.cli_files.StateError"})


def worst(outcomes: Iterable[str]) -> str:
    """The most severe outcome of several (``not-run`` for none)."""
    ranked = [SEVERITY.index(o) for o in outcomes if o in SEVERITY]
    return SEVERITY[min(ranked)] if ranked else NOT_RUN


@dataclass(frozen=True)
class Phase:
    """What one pytest phase (setup, call or teardown) left behind.

    Built from report data only, because under pytest-xdist the controller
    never sees exceptions or items, just serialised reports.
    """

    when: str
    outcome: str  # pytest's: passed | failed | skipped
    message: str = ""  # one line: the crash message or the skip reason
    details: str = ""  # the long representation, already redacted
    assertion: bool | None = None  # None when unknown (no recorder ran)
    wasxfail: str | None = None
    duration: float = 0.0


def classify(phases: Iterable[Phase]) -> tuple[str, str]:
    """(outcome, one-line reason) for one run of one check."""
    by_when = {phase.when: phase for phase in phases}
    setup, call, teardown = by_when.get("setup"), by_when.get("call"), by_when.get("teardown")
    for phase in (setup, call):
        if phase is not None and phase.wasxfail is not None:
            # pytest's own xfail marks, honoured so a check module can use them.
            if phase.outcome == "skipped":
                return EXPECTED_FAIL, phase.wasxfail or "xfail"
            return UNEXPECTED_PASS, phase.wasxfail or "xpass"
    if setup is not None and setup.outcome == "skipped":
        return skip_outcome(setup.message)
    if setup is not None and setup.outcome == "failed":
        return ERROR, f"setup: {setup.message}"
    if call is not None and call.outcome == "skipped":
        return skip_outcome(call.message)
    if call is not None and call.outcome == "failed":
        outcome = FAILED if is_assertion(call) else ERROR
        reason = call.message
        if teardown is not None and teardown.outcome == "failed":
            reason += f" (and teardown: {teardown.message})"
        return outcome, reason
    if teardown is not None and teardown.outcome == "failed":
        return ERROR, f"teardown: {teardown.message}"
    if teardown is not None and teardown.outcome == "skipped":
        return skip_outcome(teardown.message)
    if call is None:
        return ERROR, "the check never ran"
    return PASSED, ""


def skip_reason(message: str) -> str:
    """A skip's reason without pytest's ``Skipped: `` prefix."""
    return message[len("Skipped: "):] if message.startswith("Skipped: ") else message


def is_blocked(message: str) -> bool:
    return skip_reason(message).startswith(BLOCKED)


def skip_outcome(message: str) -> tuple[str, str]:
    """A skip is blocked (``blocked by RULE: ...``), not checked or not applicable."""
    if is_blocked(message):
        return BLOCKED_OUTCOME, skip_reason(message)
    reason = skip_reason(message)
    if reason.startswith(CHECK_SKIP_PREFIX):
        return NOT_CHECKED, reason[len(CHECK_SKIP_PREFIX):]
    return NOT_APPLICABLE, not_applicable_reason(message)


def blocked_rule(reason: str) -> str | None:
    """The rule id of ``blocked by RULE-ID: ...``, or None."""
    found = _BLOCKED_RULE.search(reason)
    return found.group(1) if found else None


def is_assertion(phase: Phase) -> bool:
    """Whether a failed phase is the CLI's fault (an assertion) or the harness's."""
    if phase.assertion is not None:
        return phase.assertion
    # No recorder data (a foreign report): fall back on the crash line.
    first = phase.message.split(":", 1)[0].strip()
    return first in ("AssertionError", "CliTimeout") or phase.message.startswith("assert ")


def not_applicable_reason(message: str) -> str:
    """The reason without the marker prefix (``Skipped: not applicable: x`` -> ``x``)."""
    text = message
    if text.startswith("Skipped: "):
        text = text[len("Skipped: "):]
    index = text.find(SKIP_PREFIX)
    if index >= 0:
        return text[index + len(SKIP_PREFIX):]
    return f"skipped: {text}" if text else "skipped"


def one_line(text: str, limit: int = 160) -> str:
    """The first meaningful line, shortened: what a terminal table can hold."""
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""
