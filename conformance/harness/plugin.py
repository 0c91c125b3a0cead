"""The pytest plugin: options, the ``spec`` marker, blame, not applicable, not checked.

Registered through the ``pytest11`` entry point, so ``pytest --pyargs
conformance.checks --cli ... --profile ...`` works from any directory. It loads
the rest of the harness's and the reports' pytest wiring (``pytest_plugins``):
the fixtures a check asks for (conformance.harness.fixtures), the ``--rule`` and
``--check`` selection (conformance.harness.selection), the reports, and the
check modules' display names.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.harness.attribution import blamed_rules
from conformance.harness.run_setup import RAISED_KEY, network_of, settle
from conformance.harness.shrink_budget import bound_shrinking, plain_shrink_budget
from conformance.harness.skip_outcomes import NOT_APPLICABLE, not_applicable, not_checked
from conformance.network.sandbox import GIVES_UP
from conformance.report.model.outcomes import CHECK_SKIP_PREFIX, is_blocked
from conformance.report.pytest_wiring.check_identity import spec_ids
from conformance.report.pytest_wiring.collect import FAILED_RULES_PROPERTY
from conformance.report.pytest_wiring.run_info import cli_version
from conformance.report.pytest_wiring.stash_keys import PROFILE_KEY
from conformance.run_options import HARNESS, add_pytest_options
from conformance.running.profiles import MACHINE_CAPABILITIES

#: The fixtures and the --rule/--check selection; the reports (results model, report
#: files, expectations, baselines, --verify); and check modules named from the checks
#: package down, not from site-packages.
pytest_plugins = ["conformance.harness.fixtures", "conformance.harness.selection",
                  "conformance.report.pytest_wiring.plugin", "conformance.harness.check_paths"]


def pytest_addoption(parser: pytest.Parser) -> None:
    add_pytest_options(parser, HARNESS)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "spec(*rule_ids): the catalogue rules a check verifies")
    config.addinivalue_line("markers", "world(name): the world file a check starts from")
    settle(config)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """Record which rules a multi-rule check's failure blames (conformance.harness.attribution)."""
    # Set where checks run, not at configure: an xdist controller runs none, and
    # importing Hypothesis there would delay starting its workers.
    bound_shrinking(item.config.getoption("shrink_seconds"))
    try:
        with plain_shrink_budget(item.config.getoption("shrink_seconds")):
            return (yield)
    except BaseException as exc:
        # Only a check that raised (failed, blocked, not applicable) has a trail worth
        # exporting; the convox fixture's teardown reads this.
        item.stash[RAISED_KEY] = True
        rules = blamed_rules(exc)
        if rules:
            item.user_properties.append((FAILED_RULES_PROPERTY, rules))
        stop_at = item.config.getoption("stop_at_rule")
        # A failure, not a skip (blocked, not applicable), that blames the rule.
        if (stop_at and isinstance(exc, AssertionError | BaseExceptionGroup)
                and stop_at in (rules or spec_ids(item))):
            # shouldfail, as --maxfail does: the run ends as failed, not interrupted
            item.session.shouldfail = f"--stop-at-rule: a check failed for {stop_at}"
        raise


def pytest_report_header(config: pytest.Config) -> list[str]:
    profile = config.stash.get(PROFILE_KEY, None)
    if profile is None:
        return []
    lines = [f"convox-conformance: CLI {' '.join(profile.command)}, profile {profile.name}"
             f" ({profile.source})"]
    network = network_of(config)
    lines.append("convox-conformance: network: sandbox (private network, names lead to the fakes)"
                 if network.sandboxed else
                 f"convox-conformance: network: host ({network.why}); {GIVES_UP}")
    version = cli_version(profile)
    if version:
        lines.append(f"convox-conformance: CLI version: {version}")
    return lines


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A check whose rule needs what the profile lacks is not applicable; one whose rule
    needs only what this run lacks (the network sandbox) is not checked."""
    ids = spec_ids(item)
    if not ids:
        return
    profile = item.config.stash[PROFILE_KEY]
    from conformance.catalogue import load_catalogue

    catalogue = load_catalogue()
    unchecked: list[str] = []
    for rule_id in ids:
        rule = catalogue.rules.get(rule_id)
        if rule is None:
            continue
        missing = profile.missing(list(rule.needs))
        lacking = [need for need in missing if need not in MACHINE_CAPABILITIES]
        if lacking:
            not_applicable(
                f"{rule_id} needs {', '.join(lacking)}, which profile {profile.name} lacks"
            )
        if missing:
            unchecked.append(rule_id)
    if unchecked:
        # A profile's own seam cannot stand in: only a sealed network proves where an
        # untrusted CLI's traffic goes, and keeps it on the machine if the CLI errs.
        verb = "needs" if len(unchecked) == 1 else "need"
        not_checked(f"{', '.join(unchecked)} {verb} the network sandbox, and this run is on the "
                    f"host network ({network_of(item.config).explain()})")


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    """Show not-applicable and blocked apart from ordinary skips in the terminal."""
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2])
        if is_blocked(reason):
            return "blocked", "B", ("BLOCKED", {"yellow": True})
        if NOT_APPLICABLE in reason:
            return "not-applicable", "n", ("N/A", {"yellow": True})
        if CHECK_SKIP_PREFIX in reason:
            return "not-checked", "c", ("NOT CHECKED", {"yellow": True})
    return None
