"""The reports' pytest plugin: options, the per-check recorder, the run report.

Two roles, because of pytest-xdist:

* :class:`CheckRecorder` runs wherever checks run (every worker, or the only
  process). It labels each phase report with the check's rule ids and the
  kind of exception, redacts it with the keys the check's fixtures know, and
  performs ``--verify`` reruns. Everything it adds is plain data on
  ``report.user_properties``, the only thing that travels to a controller.
* :class:`ReportSession` runs where results are gathered (the controller, or
  the only process). It shows progress, builds the model, applies
  expectations and the baseline, writes the report files and sets the exit
  status.

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

import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conformance.network.sandbox import Network, from_environment
from conformance.replay.record import TRAIL_PROPERTY
from conformance.replay.scripts import write as write_repro
from conformance.report.gate.assemble import assemble
from conformance.report.gate.baseline import BaselineError
from conformance.report.gate.baseline import load as load_baseline
from conformance.report.gate.expectations import Expectation, ExpectationsError, matches
from conformance.report.gate.expectations import load as load_expectations
from conformance.report.model.outcomes import CLI_FAULTS, FAILED, PASSED
from conformance.report.model.results import CheckResult, RuleInfo, RunInfo, RunResult
from conformance.report.model.rules import complete, load_rules
from conformance.report.model.runinfo import (
    now_iso,
    platform_info,
    seed_info,
    suite_digest,
    suite_version,
)
from conformance.report.model.scoring import Scope
from conformance.report.pytest_wiring.collect import (
    ATTEMPTS_PROPERTY,
    EXCEPTION_PROPERTY,
    FAILED_RULES_PROPERTY,
    RULES_PROPERTY,
    Collector,
    check_id,
    properties,
    reason_line,
)
from conformance.report.writers.all_reports import scrubbed, write_all
from conformance.report.writers.redact import (
    SECRETS_PROPERTY,
    Scrubber,
    digest,
    redact_report,
    secrets_of,
)
from conformance.report.writers.run_dirs import (
    DEFAULT_KEEP,
    make_run_dir,
    new_run_id,
    point_latest,
    prune,
)
from conformance.report.writers.terminal import Progress, plain_summary, rich_summary, wants_rich

#: Tests (and embedders) may set (rules, area titles) here instead of the catalogue.
RULES_KEY = pytest.StashKey[tuple[list[RuleInfo], dict[str, str]]]()
RUN_SECRETS_KEY = pytest.StashKey[set[str]]()
ITEM_SECRETS_KEY = pytest.StashKey[set[str]]()
RESULT_KEY = pytest.StashKey[RunResult]()
#: check id -> rule ids of every spec check collected, before any deselection.
COLLECTED_KEY = pytest.StashKey[dict[str, list[str]]]()
WORKER_COLLECTED = "conformance_collected"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("convox-conformance reports")
    group.addoption("--report-dir", default="reports",
                    help="where each run writes <run-id>/ and the 'latest' link (default: reports)")
    group.addoption("--keep-runs", type=int, default=DEFAULT_KEEP, metavar="N",
                    help=f"keep the N newest run directories in --report-dir, delete older "
                         f"ones (default {DEFAULT_KEEP}; 0 keeps all)")
    group.addoption("--no-reports", action="store_true", default=False,
                    help="write no report files (the terminal summary and exit code remain)")
    group.addoption("--expectations", default=None, metavar="FILE",
                    help="TOML file of known failures (rule or check ids, reason, link, expires)")
    group.addoption("--baseline", default=None, metavar="RESULTS",
                    help="results.json (or run directory) of an earlier run: fail only on "
                         "regressions against it")
    group.addoption("--new-checks", choices=("fail", "pending"), default="fail",
                    help="with --baseline: whether failing checks the baseline lacks fail the "
                         "run (default) or only warn (pending)")
    group.addoption("--fail-on", choices=("must", "should"), default="should",
                    help="the gate: fail the run on failing MUST rules only (must) or on any "
                         "failing rule (should, the default)")
    group.addoption("--strict-expectations", action="store_true", default=False,
                    help="fail the run when an expectations entry was never exercised")
    group.addoption("--verify", type=int, default=0, metavar="N",
                    help="rerun each failing check N times; label it flaky when outcomes differ")
    group.addoption("--no-color", action="store_true", default=False,
                    help="plain terminal output: no progress bar, no colours")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("no_color"):
        config.option.color = "no"  # before the terminal reporter picks its writer
    if config.getoption("verify") < 0:
        raise pytest.UsageError("--verify: must be 0 or more")
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


def spec_ids(item: pytest.Item) -> list[str]:
    return [rule for mark in item.iter_markers("spec") for rule in mark.args]


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
        run = self.run_info()
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

    def run_info(self) -> RunInfo:
        from conformance.harness.plugin import PROFILE_KEY, cli_version

        profile = self.config.stash.get(PROFILE_KEY, None)
        name = profile.name if profile is not None else "unknown"
        command = profile.command_argv() if profile is not None else []
        version = cli_version(profile) if profile is not None else None
        try:
            digest_info = suite_digest()
        except Exception as exc:  # a digest is informative, never worth losing a run over
            digest_info = {"algorithm": "sha256", "specs": "", "checks": "", "combined": "",
                           "error": str(exc)}
        options = {
            "rules": list(self.config.getoption("rule", None) or []),
            "checks": list(self.config.getoption("check", None) or []),
            "expectations": self.config.getoption("expectations"),
            "baseline": self.config.getoption("baseline"),
            "new_checks": self.config.getoption("new_checks"),
            "fail_on": self.config.getoption("fail_on"),
            "strict_expectations": self.config.getoption("strict_expectations"),
            "verify": self.config.getoption("verify"),
            "backend": self.config.getoption("backend", None),
            "cli_timeout": self.config.getoption("cli_timeout", None),
            "workers": getattr(self.config.option, "numprocesses", None),
            "network": network_info(from_environment()),
        }
        return RunInfo(
            run_id=new_run_id(name),
            suite_version=suite_version(),
            digest=digest_info,
            cli_command=command,
            profile={"name": name, "source": profile.source if profile is not None else ""},
            cli_version=version,
            platform=platform_info(),
            started=self.started,
            finished=now_iso(),
            duration=round(time.monotonic() - self.clock, 3),
            seed=seed_info(self.config),
            options=options,
        )

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


def network_info(network: Network) -> dict[str, Any]:
    """The run's network for ``run.options``: where the CLI's traffic could go, and why."""
    return {"mode": network.mode, "why": network.why, "fix": network.fix,
            "chosen": network.chosen}
