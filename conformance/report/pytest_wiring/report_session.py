"""Where results are gathered (the xdist controller, or the only process): the report.

:class:`ReportSession` shows progress, builds the results model, applies the
expectations and the baseline, writes the report files and sets the exit
status. It reads only report data (conformance.report.pytest_wiring.collect),
since under pytest-xdist that is all the controller receives.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conformance.network.sandbox import from_environment
from conformance.replay.trail import TRAIL_PROPERTY
from conformance.report.gate.assemble import assemble
from conformance.report.gate.expectations import Expectation, matches
from conformance.report.model.outcomes import FAILED, PASSED
from conformance.report.model.results import CheckResult, RuleInfo, RunResult
from conformance.report.model.rules import complete, load_rules
from conformance.report.model.runinfo import now_iso
from conformance.report.model.scoring import Scope
from conformance.report.pytest_wiring.check_identity import check_id, spec_ids
from conformance.report.pytest_wiring.collect import (
    ATTEMPTS_PROPERTY,
    FAILED_RULES_PROPERTY,
    RULES_PROPERTY,
    Collector,
    properties,
)
from conformance.report.pytest_wiring.run_info import run_info
from conformance.report.pytest_wiring.stash_keys import (
    COLLECTED_KEY,
    RESULT_KEY,
    RULES_KEY,
    RUN_SECRETS_KEY,
    WORKER_COLLECTED,
)
from conformance.report.writers.all_reports import scrubbed, write_all
from conformance.report.writers.redact import Scrubber
from conformance.report.writers.repro_scripts import write as write_repro
from conformance.report.writers.run_dirs import make_run_dir, point_latest, prune
from conformance.report.writers.terminal import Progress, plain_summary, rich_summary, wants_rich


class ReportSession:
    """Gathers reports, shows progress, writes the reports, sets the exit status."""

    def __init__(self, config: pytest.Config, expectations: list[Expectation],
                 baseline: RunResult | None) -> None:
        self.config = config
        self.expectations = expectations
        self.baseline = baseline
        self.collector = Collector()
        self.started = now_iso()
        self.clock = time.monotonic()
        self.stream = sys.stdout
        self.rich = wants_rich(self.stream, bool(config.getoption("no_color")),
                               getattr(config.option, "color", None),
                               int(config.getoption("verbose") or 0))
        self.progress: Progress | None = None
        self.total: int | None = None
        self.rules: list[RuleInfo] | None = None
        self.titles: dict[str, str] = {}
        self.problem: str | None = None
        self.result: RunResult | None = None
        self.report_path: str | None = None

    # -------------------------------------------------------------- rules
    def rule_table(self) -> list[RuleInfo]:
        if self.rules is None:
            given = self.config.stash.get(RULES_KEY, None)
            if given is not None:
                self.rules, self.titles = list(given[0]), dict(given[1])
            else:
                self.rules, self.titles, self.problem = load_rules()
        return self.rules

    def area_of(self, nodeid: str) -> str | None:
        ids = self.collector.rule_ids(nodeid)
        if not ids:
            return None
        for rule in self.rule_table():
            if rule.id == ids[0]:
                return rule.area
        return ids[0].split("-", 1)[0]

    # ----------------------------------------------------------- progress
    def start_progress(self) -> None:
        if self.rich and self.progress is None:
            self.progress = Progress(self.stream)
            self.progress.start(self.total)
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                # The bar replaces pytest's file names and percentages.
                reporter.showfspath = False
                if hasattr(reporter, "_show_progress_info"):
                    reporter._show_progress_info = False

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not session.items:
            return  # an xdist controller: the workers report what they collected
        self.total = len(session.items)
        if any(spec_ids(item) for item in session.items):
            self.start_progress()

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        sent = getattr(node, "workeroutput", {}).get(WORKER_COLLECTED)
        if isinstance(sent, dict):
            self.config.stash.setdefault(COLLECTED_KEY, {}).update(sent)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if self.total is None:
            self.total = len(ids)
            if self.progress is not None:
                self.progress.set_total(len(ids))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        finished = self.collector.add(report)
        if properties(report, RULES_PROPERTY):
            self.start_progress()
        if self.progress is None:
            return
        area = self.area_of(report.nodeid)
        if finished:
            failed = any(r.failed for r in self.collector.reports_of(report.nodeid))
            self.progress.advance(area, failed)
        elif report.when == "setup":
            self.progress.area(area)

    @pytest.hookimpl(wrapper=True)
    def pytest_report_teststatus(self, report: pytest.TestReport, config: pytest.Config) -> Any:
        status = yield
        if status is None or not isinstance(status, tuple) or len(status) != 3:
            return status
        category, letter, word = status
        if report.failed and report.when == "call":
            attempts: list[dict[str, Any]] = next(iter(properties(report, ATTEMPTS_PROPERTY)), [])
            if any(a.get("outcome") == PASSED for a in attempts):
                category, letter, word = "flaky", "R", ("FLAKY", {"yellow": True})
            elif self.expected(report):
                category, letter, word = "expected-fail", "x", ("EXPECTED-FAIL", {"yellow": True})
        if self.progress is not None:
            # No letter while the bar is shown; the word still serves pytest's summary.
            return category, "", word
        return category, letter, word

    def expected(self, report: pytest.TestReport) -> bool:
        if not self.expectations:
            return False
        rules: list[str] = next(iter(properties(report, RULES_PROPERTY)), [])
        failed_rules = [r for v in properties(report, FAILED_RULES_PROPERTY) for r in v] or None
        probe = CheckResult(id=check_id(report.nodeid), nodeid=report.nodeid, rules=list(rules),
                            outcome=FAILED, raw_outcome=FAILED, failed_rules=failed_rules)
        today = dt.date.today()
        return any((matches(e, probe) if e.id not in rules else e.id in probe.blamed())
                   and not e.expired(today) for e in self.expectations)

    # ------------------------------------------------------------- finish
    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.progress is not None:
            self.progress.stop()
        if not self.collector.any_spec():
            return
        result = self.build()
        self.config.stash[RESULT_KEY] = result
        self.result = result
        if not self.config.getoption("no_reports"):
            try:
                self.report_path = str(self.write(result))
            except OSError as exc:
                self.result.verdict.warnings.append(f"reports could not be written: {exc}")
                result.verdict.exit_code = 3
        if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            session.exitstatus = {0: pytest.ExitCode.OK, 1: pytest.ExitCode.TESTS_FAILED}.get(
                result.verdict.exit_code, pytest.ExitCode.INTERNAL_ERROR)

    def build(self) -> RunResult:
        rules = complete(self.rule_table(), self.collector.all_rule_ids())
        checks = self.collector.results(rules)
        run = run_info(self.config, self.started, self.clock)
        warnings = [self.problem] if self.problem else []
        network = from_environment()
        result = assemble(
            run, rules, checks,
            host_chosen=network.chosen, network_why=network.explain(),
            expectations=self.expectations,
            expectations_source=str(self.config.getoption("expectations") or ""),
            baseline=self.baseline,
            new_checks=self.config.getoption("new_checks"),
            warnings=warnings,
            fail_on=self.config.getoption("fail_on"),
            scope=self.scope(checks),
            strict_expectations=bool(self.config.getoption("strict_expectations")),
        )
        known = self.config.stash.get(RUN_SECRETS_KEY, set())
        scrub = Scrubber(known, self.collector.digests)
        return scrubbed(result, scrub)

    def scope(self, checks: list[CheckResult]) -> Scope:
        """Which collected checks did not run, and why the run is partial."""
        collected: dict[str, list[str]] = self.config.stash.get(COLLECTED_KEY, {})
        ran = {check.id for check in checks}
        not_run = {ident: tuple(rules) for ident, rules in collected.items() if ident not in ran}
        option = self.config.option
        selected = tuple(self.config.getoption("rule", None) or ())
        why = []
        if selected:
            why.append("--rule " + " ".join(selected))
        checks_named = tuple(dict.fromkeys(self.config.getoption("check", None) or ()))
        if checks_named:
            why.append("--check " + (checks_named[0] if len(checks_named) == 1
                                     else f"{len(checks_named)} checks"))
        if getattr(option, "keyword", ""):
            why.append(f"-k {option.keyword}")
        if getattr(option, "markexpr", ""):
            why.append(f"-m {option.markexpr}")
        if getattr(option, "deselect", None):
            why.append("--deselect")
        if not_run:
            why.append(f"{len(not_run)} of {len(collected)} checks did not run")
        return Scope(partial=bool(why), why=tuple(why), not_run=not_run, selected=selected)

    def trails(self) -> dict[str, dict[str, Any]]:
        """Node id -> the check's trail, scrubbed like every report (keys as identities)."""
        known = self.config.stash.get(RUN_SECRETS_KEY, set())
        scrub = Scrubber(known, self.collector.digests)
        found: dict[str, dict[str, Any]] = {}
        for nodeid in self.collector.order():
            for report in self.collector.reports_of(nodeid):
                for value in properties(report, TRAIL_PROPERTY):
                    if isinstance(value, dict):
                        found[nodeid] = scrub.data(value)
        return found

    def write(self, result: RunResult) -> Path:
        report_dir = Path(self.config.getoption("report_dir"))
        if not report_dir.is_absolute():
            report_dir = Path(self.config.invocation_params.dir) / report_dir
        run_dir = make_run_dir(report_dir, result.run.run_id)
        write_repro(result, self.trails(), run_dir)
        write_all(result, run_dir, area_titles=self.titles,
                  new_checks=self.config.getoption("new_checks"))
        try:
            point_latest(report_dir, run_dir)
            prune(report_dir, int(self.config.getoption("keep_runs")), run_dir)
        except OSError as exc:
            result.verdict.warnings.append(f"could not update {report_dir}: {exc}")
        return run_dir / "report.html"

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.result is None:
            return
        if self.rich:
            terminalreporter.write_sep("=", "convox-conformance")
            rich_summary(self.result, self.stream, self.report_path,
                         width=getattr(terminalreporter._tw, "fullwidth", None))
        else:
            terminalreporter.write_sep("=", "convox-conformance")
            plain_summary(self.result, terminalreporter.write_line, self.report_path)
