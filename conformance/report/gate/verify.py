"""``--verify N``: rerun each failing check N times to tell flakes from failures.

Reruns happen in the process that owns the item (an xdist worker, or the
only process), through pytest's own ``runtestprotocol``, so fixtures are set
up and torn down as for any run. Only the first run's reports are logged; the
reruns travel as a small list of outcomes on them, which is all the report
needs to call a check flaky.
"""

from __future__ import annotations

from typing import Any

import pytest
from _pytest.runner import runtestprotocol

from conformance.report.model.outcomes import classify
from conformance.report.pytest_wiring.collect import ATTEMPTS_PROPERTY, phase_of


def run_verified(item: pytest.Item, nextitem: pytest.Item | None, times: int) -> list[Any]:
    """The first run's reports, annotated with the outcomes of up to ``times`` reruns."""
    before = list(item.user_properties)
    reports = runtestprotocol(item, nextitem=nextitem, log=False)
    if times <= 0 or not any(report.failed for report in reports):
        return reports
    first_properties = list(item.user_properties)
    attempts = []
    for _ in range(times):
        item.user_properties = list(before)
        again = runtestprotocol(item, nextitem=nextitem, log=False)
        outcome, reason = classify(phase_of(report) for report in again)
        attempts.append({"outcome": outcome, "reason": reason,
                         "duration": round(sum(r.duration for r in again), 4)})
    item.user_properties = first_properties
    for report in reports:
        report.user_properties.append((ATTEMPTS_PROPERTY, attempts))
    return reports
