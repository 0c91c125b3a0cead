"""Which checks a run keeps: ``--rule`` and ``--check`` (either), the rules' own first.

A pytest plugin module, loaded by ``conformance.harness.plugin``. An unknown
rule or check id is a usage error; under pytest-xdist a worker cannot raise
one, so it stops, and the controller ends the run with the message.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.report.pytest_wiring.check_identity import check_id, spec_ids
from conformance.run_options import unknown_rules_problem

#: How an unknown --check id's usage error starts; set by the xdist controller when a
#: worker stopped on one (workers cannot raise a usage error themselves).
CHECK_USAGE_PREFIX = "--check:"
CHECK_USAGE_KEY = pytest.StashKey[str]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the checks --rule and --check name (either), the rules' own checks first."""
    wanted = set(config.getoption("rule"))
    checks = set(config.getoption("check"))
    if not wanted and not checks:
        return
    unknown = unknown_rules_problem(sorted(wanted))
    if unknown:
        raise pytest.UsageError(unknown)
    # Checked against what was collected (before -k or --deselect, whose hooks run later).
    missing = sorted(checks - {check_id(item.nodeid) for item in items})
    if missing:
        message = (f"{CHECK_USAGE_PREFIX} no check {', '.join(missing)} "
                   "(see the ids in results.json)")
        if hasattr(config, "workerinput") and items:
            # An xdist worker, where a usage error would crash it: it runs nothing and
            # stops, and the controller ends the run with the message, as a usage error.
            items[0].session.shouldstop = message
            config.hook.pytest_deselected(items=list(items))
            items[:] = []
            return
        raise pytest.UsageError(message)
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        chosen = bool(wanted & set(spec_ids(item))) or check_id(item.nodeid) in checks
        (keep if chosen else drop).append(item)
    # The rules' own checks first, the checks of many rules (the model, the properties)
    # after them: with --stop-at-rule a deviation a short check shows ends the run
    # before a long random exploration starts.
    keep.sort(key=lambda item: not (spec_ids(item) and set(spec_ids(item)) <= wanted))
    if drop:
        config.hook.pytest_deselected(items=drop)
    items[:] = keep


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """An xdist worker that stopped on an unknown --check id makes the run a usage error."""
    stop = getattr(node, "workeroutput", {}).get("shouldstop")
    if isinstance(stop, str) and stop.startswith(CHECK_USAGE_PREFIX):
        node.config.stash[CHECK_USAGE_KEY] = stop


def pytest_sessionfinish(session: pytest.Session) -> None:
    if CHECK_USAGE_KEY in session.config.stash:
        session.exitstatus = pytest.ExitCode.USAGE_ERROR
