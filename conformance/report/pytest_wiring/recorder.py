"""Where checks run (every xdist worker, or the only process): label, redact, rerun.

:class:`CheckRecorder` labels each phase report with the check's rule ids and
the kind of exception, redacts it with the keys the check's fixtures know, and
performs ``--verify`` reruns. Everything it adds is plain data on
``report.user_properties``, the only thing that travels to a controller.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.report.model.outcomes import CLI_FAULTS
from conformance.report.pytest_wiring.check_identity import check_id, spec_ids
from conformance.report.pytest_wiring.collect import (
    EXCEPTION_PROPERTY,
    RULES_PROPERTY,
    reason_line,
)
from conformance.report.pytest_wiring.stash_keys import (
    COLLECTED_KEY,
    ITEM_SECRETS_KEY,
    RUN_SECRETS_KEY,
    WORKER_COLLECTED,
)
from conformance.report.writers.redact import (
    SECRETS_PROPERTY,
    Scrubber,
    digest,
    redact_report,
    secrets_of,
)


def is_verdict(exc: BaseException) -> bool:
    """Whether an exception is the check's verdict on the CLI, not a harness fault.

    pytest.fail() counts like a failed assert; Hypothesis reports several
    distinct failures as an exception group, a verdict when all of them are.
    """
    if isinstance(exc, BaseExceptionGroup):
        return all(is_verdict(inner) for inner in exc.exceptions)
    kind = type(exc)
    return (isinstance(exc, (AssertionError, pytest.fail.Exception))
            or f"{kind.__module__}.{kind.__qualname__}" in CLI_FAULTS)


def failure_text(exc: BaseException) -> str:
    """What failed, in words: an exception's message, or for a group (Hypothesis found
    several distinct failures) the first line of each, each naming its rule."""
    if isinstance(exc, BaseExceptionGroup):
        leaves: list[BaseException] = []
        pending: list[BaseException] = [exc]
        while pending:
            current = pending.pop(0)
            if isinstance(current, BaseExceptionGroup):
                pending[:0] = list(current.exceptions)
            else:
                leaves.append(current)
        lines = [reason_line(str(leaf), 110) for leaf in leaves]
        return f"{len(lines)} distinct failures: " + " | ".join(lines)
    return str(exc)


class CheckRecorder:
    """Labels, redacts and (with --verify) reruns checks where they run."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.verify = int(config.getoption("verify"))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        rules = spec_ids(item)
        if rules:
            report.user_properties.append((RULES_PROPERTY, rules))
        excinfo = call.excinfo
        if report.failed and excinfo is not None:
            kind = type(excinfo.value)
            name = f"{kind.__module__}.{kind.__qualname__}"
            assertion = is_verdict(excinfo.value)
            text = failure_text(excinfo.value)
            # An assertion's message says it all; anything else needs its type to make sense.
            message = text if assertion and text else f"{kind.__name__}: {text}".rstrip(": ")
            report.user_properties.append((EXCEPTION_PROPERTY, {
                "type": name, "assertion": assertion, "message": reason_line(message),
            }))
        known = item.stash.setdefault(ITEM_SECRETS_KEY, set())
        known.update(secrets_of((getattr(item, "funcargs", None) or {}).values()))
        if known:
            redact_report(report, Scrubber(known))
            self.config.stash[RUN_SECRETS_KEY].update(known)
            if call.when == "teardown":
                report.user_properties.append((SECRETS_PROPERTY, sorted(map(digest, known))))
        return report

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Remember every spec check before --rule, --check, -k or --deselect drop some."""
        collected = self.config.stash.setdefault(COLLECTED_KEY, {})
        for item in items:
            rules = spec_ids(item)
            if rules:
                collected[check_id(item.nodeid)] = rules

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:
            collected: dict[str, list[str]] = self.config.stash.get(COLLECTED_KEY, {})
            workeroutput[WORKER_COLLECTED] = dict(collected)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Any:
        if self.verify <= 0:
            return None
        from conformance.report.gate.verify import run_verified

        ihook = item.ihook
        ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        for report in run_verified(item, nextitem, self.verify):
            ihook.pytest_runtest_logreport(report=report)
        ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        return True
