"""Ending a check without a verdict on its rule: not applicable, not checked, blocked.

Each is a pytest skip whose reason starts with the prefix the report reads
(``conformance.report.model.outcomes``), so a check says which of the three it
is and the report files it apart from passed and failed. A blocked check also
leaves a report property naming the rule, step and detail that blocked it.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.report.model.outcomes import BLOCKED, CHECK_SKIP_PREFIX, SKIP_PREFIX
from conformance.report.pytest_wiring.collect import BLOCKED_PROPERTY

#: A check whose profile lacks what it needs ends with a skip reason starting with this.
NOT_APPLICABLE = SKIP_PREFIX
#: A check whose set-up failed ends with a skip reason starting with this.
BLOCKED_PREFIX = BLOCKED


def not_applicable(reason: str) -> None:
    """End a check as *not applicable* (reported apart from passed)."""
    pytest.skip(NOT_APPLICABLE + reason)


def not_checked(reason: str) -> None:
    """End a check as *not checked*: the run, not the CLI's profile, lacks what it needs."""
    pytest.skip(CHECK_SKIP_PREFIX + reason)


def blocked(
    rule: str, step: str, detail: str = "", properties: list[tuple[str, Any]] | None = None
) -> None:
    """End a check as *blocked*: its scenario could not be set up.

    Blocked is neither a pass nor a failure of the check's own rule: the step
    that broke is covered by ``rule``, whose own checks decide whether the
    CLI breaks it.
    """
    if properties is not None:
        properties.append((BLOCKED_PROPERTY, {"rule": rule, "step": step, "detail": detail}))
    pytest.skip(f"{BLOCKED_PREFIX}{rule}: {step}")
