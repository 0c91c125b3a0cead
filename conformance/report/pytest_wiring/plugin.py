"""The reports' pytest plugin: its options, and the two roles it registers.

Two roles, because of pytest-xdist:

* :class:`~conformance.report.pytest_wiring.recorder.CheckRecorder` runs
  wherever checks run (every worker, or the only process): it labels,
  redacts and (with ``--verify``) reruns each check.
* :class:`~conformance.report.pytest_wiring.report_session.ReportSession`
  runs where results are gathered (the controller, or the only process): it
  shows progress, builds the model, applies expectations and the baseline,
  writes the report files and sets the exit status.

Loaded by ``conformance.harness.plugin`` (``pytest_plugins``), so every conformance
run has it. Sessions that ran no ``spec``-marked check write nothing.

What travels on ``report.user_properties`` (name: value):

* ``conformance.evidence``: the plugin's redacted evidence (conformance.harness.evidence)
* ``conformance.rules``: the check's rule ids, on every phase report
* ``conformance.exception``: ``{type, assertion, message}`` of a failed phase
* ``conformance.secret-digests``: SHA-256 of the keys the check's fixtures knew
* ``conformance.attempts``: ``[{outcome, reason, duration}]`` of --verify reruns
* ``conformance.blocked``: ``{rule, step, detail}`` of a check the harness ended as blocked
* ``conformance.failed_rules``: the rule ids a multi-rule check really failed for

Workers also send the controller the checks they collected (before any
deselection), so a partial run knows which rules it could not decide.
"""

from __future__ import annotations

import pytest

from conformance.report.gate.baseline import BaselineError
from conformance.report.gate.baseline import load as load_baseline
from conformance.report.gate.expectations import Expectation, ExpectationsError
from conformance.report.gate.expectations import load as load_expectations
from conformance.report.pytest_wiring.recorder import CheckRecorder
from conformance.report.pytest_wiring.report_session import ReportSession
from conformance.report.pytest_wiring.stash_keys import RUN_SECRETS_KEY
from conformance.run_options import REPORTS, add_pytest_options, group_options, value_problems


def pytest_addoption(parser: pytest.Parser) -> None:
    add_pytest_options(parser, REPORTS)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("no_color"):
        config.option.color = "no"  # before the terminal reporter picks its writer
    problems = value_problems(config.getoption, group_options(REPORTS))
    if problems:  # pytest shows one usage error: the first
        raise pytest.UsageError(problems[0])
    config.stash[RUN_SECRETS_KEY] = set()
    config.pluginmanager.register(CheckRecorder(config), "conformance-recorder")
    if hasattr(config, "workerinput"):
        return
    entries: list[Expectation] = []
    source = config.getoption("expectations")
    baseline = None
    try:
        if source:
            entries = load_expectations(source)
        if config.getoption("baseline"):
            baseline = load_baseline(config.getoption("baseline"))
    except (ExpectationsError, BaselineError) as exc:
        raise pytest.UsageError(str(exc)) from None
    config.pluginmanager.register(ReportSession(config, entries, baseline), "conformance-report")
