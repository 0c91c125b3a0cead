"""The pytest plugin: options, the ``spec`` marker, fixtures, not applicable, not checked.

Registered through the ``pytest11`` entry point, so ``pytest --pyargs
conformance.checks --cli ... --profile ...`` works from any directory. The
fakes start once per pytest process (each xdist worker has its own) and every
check gets a fresh world and a fresh CLI home.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest

from conformance.harness.attribution import FAILED_RULES_PROPERTY, blamed_rules
from conformance.harness.evidence import EVIDENCE_PROPERTY, Redactor, evidence_data
from conformance.harness.handle import NOT_APPLICABLE, Convox, not_applicable, not_checked
from conformance.network.egress import invocation_of
from conformance.network.sandbox import GIVES_UP, Network, from_environment
from conformance.replay.record import TRAIL_PROPERTY, RecordingWorld, Trail, watching_examples
from conformance.report.model.outcomes import CHECK_SKIP_PREFIX, is_blocked
from conformance.running.capture import DEFAULT_MAX_OUTPUT, parse_size
from conformance.running.invoke import DEFAULT_TIMEOUT, CliNotRunnable, CliSession, check_runnable
from conformance.running.profiles import MACHINE_CAPABILITIES, Profile, ProfileError, load_profile
from conformance.running.world_session import make_session
from fakes.http.journal import EGRESS_SERVERS

if TYPE_CHECKING:
    from fakes.backends.in_process import Backend, WorldHandle

PROFILE_KEY = pytest.StashKey[Profile]()
NETWORK_KEY = pytest.StashKey[Network]()
BACKEND_KEY = pytest.StashKey["Backend"]()
#: Set on a check's item when its call raised.
RAISED_KEY = pytest.StashKey[bool]()
#: The reports (results model, report files, expectations, baselines, --verify), and
#: check modules named from the checks package down, not from site-packages.
pytest_plugins = ["conformance.report.pytest_wiring.plugin", "conformance.harness.check_paths"]
#: How an unknown --check id's usage error starts; set by the xdist controller when a
#: worker stopped on one (workers cannot raise a usage error themselves).
CHECK_USAGE_PREFIX = "--check:"
CHECK_USAGE_KEY = pytest.StashKey[str]()
DEFAULT_WORLD = "standard"
#: Each shrinking step reruns real CLI processes; a failing CLI's verdict should cost
#: about what a passing one's does, and a short budget still gives a readable example.
DEFAULT_SHRINK_SECONDS = 3.0


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("convox-conformance")
    group.addoption("--cli", default=None,
                    help="CLI to test: a path or a command line (default: the profile's command)")
    group.addoption("--profile", default="reference",
                    help="profile name or path to a profile .toml (default: reference)")
    group.addoption("--cli-timeout", type=float, default=DEFAULT_TIMEOUT,
                    help="seconds before one CLI invocation is killed "
                         f"(default {DEFAULT_TIMEOUT:g})")
    group.addoption("--max-output", type=max_output_type, default=DEFAULT_MAX_OUTPUT,
                    metavar="BYTES",
                    help="keep at most this much of each invocation's stdout and of its stderr: "
                         "the start and the end, with a marker saying how much was dropped "
                         "(K/M suffixes; default 1M)")
    group.addoption("--backend", default="inprocess",
                    help="fakes backend (entry point group convox_conformance.backends)")
    group.addoption("--serve", action="append", default=[], metavar="URL",
                    help="admin URL of a `convox-conformance serve` for --backend remote "
                         "(repeatable; default: $CONVOX_CONFORMANCE_SERVE)")
    group.addoption("--rule", action="append", default=[],
                    help="run only the checks of this rule id (repeatable)")
    group.addoption("--check", action="append", default=[], metavar="ID",
                    help="run only this check, by its id in results.json, e.g. "
                         "test_login.py::test_login_stores_the_key_under_the_host (repeatable; "
                         "with --rule, the checks of either)")
    group.addoption("--shrink-seconds", type=float, default=DEFAULT_SHRINK_SECONDS,
                    help="seconds the property and model checks may spend shrinking a "
                         f"failing example (default {DEFAULT_SHRINK_SECONDS:g}; 0 skips "
                         "shrinking)")
    group.addoption("--stop-at-rule", default=None, metavar="RULE",
                    help="stop the run after the first check that fails for this rule "
                         "(unlike --maxfail, a failure blamed on another rule goes on)")


def max_output_type(text: str) -> int:
    """``--max-output``'s value, or a one-line usage error."""
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "spec(*rule_ids): the catalogue rules a check verifies")
    config.addinivalue_line("markers", "world(name): the world file a check starts from")
    try:
        profile = load_profile(config.getoption("profile"))
        if config.getoption("cli"):
            profile = profile.with_command(config.getoption("cli"))
        check_runnable(profile)
    except (ProfileError, CliNotRunnable) as exc:
        raise pytest.UsageError(str(exc)) from None
    network = from_environment()
    config.stash[NETWORK_KEY] = network
    config.stash[PROFILE_KEY] = profile.in_sandbox() if network.sandboxed else profile
    bound_shrinking(config.getoption("shrink_seconds"))
    # Made (not started) now, so a bad --backend or --serve stops the run before any check.
    config.stash[BACKEND_KEY] = make_backend(config)


def bound_shrinking(seconds: float) -> None:
    """Stop Hypothesis shrinking a failure after ``seconds`` (0: do not shrink).

    Hypothesis has no public setting for this; its engine reads the module
    constant ``MAX_SHRINKING_SECONDS`` each time it starts shrinking, so the
    budget is set there (and left alone if a Hypothesis release renames it).
    """
    from hypothesis.internal.conjecture import engine

    if hasattr(engine, "MAX_SHRINKING_SECONDS"):
        engine.MAX_SHRINKING_SECONDS = max(seconds, 0)  # type: ignore[assignment]


#: How Hypothesis starts the message it prints when shrinking outlives its budget: meant
#: for its five-minute default, it asks users to report a bug. Ours is a budget by design.
SLOW_SHRINK_WARNING = "WARNING: Hypothesis has spent more than five minutes working to shrink"


@contextlib.contextmanager
def plain_shrink_budget(seconds: float) -> Iterator[None]:
    """Say plainly that shrinking stopped at ``--shrink-seconds``, instead of Hypothesis's
    "PLEASE REPORT THIS" (its reporter is swapped for this check's call only)."""
    try:
        from hypothesis.reporting import current_reporter, with_reporter
    except ImportError:  # a Hypothesis release that moved them: its own words stay
        yield
        return
    outer = current_reporter()

    def reporter(value: object) -> None:
        if str(value).startswith(SLOW_SHRINK_WARNING):
            outer(f"Shrinking stopped at the suite's budget (--shrink-seconds {seconds:g}): "
                  "the failing example is the smallest found by then.")
        else:
            outer(value)

    with with_reporter(reporter):
        yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """Record which rules a multi-rule check's failure blames (conformance.harness.attribution)."""
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


def cli_version(profile: Profile) -> str | None:
    """What the CLI's version operation printed, run in a throwaway isolated home."""
    from conformance.report.model.runinfo import version_text

    if not profile.has("version"):
        return None
    with tempfile.TemporaryDirectory(prefix="convox-version-") as root:
        session = CliSession(profile, Path(root), timeout=10)
        try:
            result = session.run("version")
        except AssertionError:  # CliTimeout: what it printed before it was killed still counts
            if not session.invocations:
                return "(version timed out)"
            result = session.invocations[-1]
        except (CliNotRunnable, OSError) as exc:
            return f"(version failed: {exc})"
    return version_text(result.stdout, result.stderr, result.exit_code, result.timed_out)


def spec_ids(item: pytest.Item) -> list[str]:
    return [rule for mark in item.iter_markers("spec") for rule in mark.args]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the checks --rule and --check name (either), the rules' own checks first."""
    wanted = set(config.getoption("rule"))
    checks = set(config.getoption("check"))
    if not wanted and not checks:
        return
    from conformance.catalogue import load_catalogue
    from conformance.report.pytest_wiring.collect import check_id

    unknown = sorted(wanted - set(load_catalogue().rules))
    if unknown:
        raise pytest.UsageError(
            f"--rule: unknown rule id {', '.join(unknown)} (see `convox-conformance rules`)"
        )
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


def network_of(config: pytest.Config) -> Network:
    """The run's network (plain pytest, which never made a sandbox, when unknown)."""
    return config.stash.get(NETWORK_KEY, None) or from_environment()


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


@pytest.fixture(scope="session")
def conformance_profile(pytestconfig: pytest.Config) -> Profile:
    """The validated profile of the CLI under test."""
    return pytestconfig.stash[PROFILE_KEY]


def make_backend(config: pytest.Config) -> Backend:
    """The backend --backend names (not started); a bad name or --serve is a usage error."""
    from fakes.backends.in_process import get_backend

    name = config.getoption("backend")
    serve = config.getoption("serve")
    try:
        made = get_backend(name, **({"urls": serve} if serve else {}))
    except (LookupError, ValueError) as exc:
        raise pytest.UsageError(str(exc)) from None
    except TypeError as exc:  # --serve given to a backend that takes no URLs
        raise pytest.UsageError(f"backend {name!r} does not take --serve ({exc})") from None
    if network_of(config).sandboxed:
        from fakes.backends.in_process import InProcessBackend
        from fakes.sandbox.addresses import SandboxedBackend

        if not isinstance(made, InProcessBackend):
            raise pytest.UsageError(f"the network sandbox cannot serve --backend {name}")
        return SandboxedBackend(made)
    return made


@pytest.fixture(scope="session")
def backend(pytestconfig: pytest.Config) -> Iterator[Backend]:
    """The fakes, started once per process (per xdist worker)."""
    chosen = pytestconfig.stash.get(BACKEND_KEY, None)
    if chosen is None:
        chosen = make_backend(pytestconfig)
    chosen.start()
    try:
        yield chosen
    finally:
        chosen.stop()


@pytest.fixture
def world(request: pytest.FixtureRequest, backend: Backend) -> Iterator[WorldHandle]:
    """A fresh world for this check (``@pytest.mark.world("name")`` picks one)."""
    marker = request.node.get_closest_marker("world")
    profile = request.config.stash[PROFILE_KEY]
    handle = backend.new_world(marker.args[0] if marker else DEFAULT_WORLD, profile.rack_api)
    try:
        yield handle
    finally:
        handle.close()


@pytest.fixture
def cli_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh directory holding the CLI's HOME for one check."""
    return tmp_path_factory.mktemp("cli")


@pytest.fixture
def cli(
    conformance_profile: Profile,
    backend: Backend,
    world: WorldHandle,
    cli_home: Path,
    pytestconfig: pytest.Config,
) -> CliSession:
    """The CLI under test, isolated, wired to trust and resolve the world."""
    return make_session(conformance_profile, backend, world, cli_home,
                        pytestconfig.getoption("cli_timeout"),
                        pytestconfig.getoption("max_output"))


@pytest.fixture
def convox(
    request: pytest.FixtureRequest,
    conformance_profile: Profile,
    backend: Backend,
    world: WorldHandle,
    cli: CliSession,
    tmp_path_factory: pytest.TempPathFactory,
    pytestconfig: pytest.Config,
) -> Iterator[Convox]:
    """The harness a check talks to; its evidence and its trail are kept for the reports."""
    marker = request.node.get_closest_marker("world")
    trail = Trail(world, marker.args[0] if marker else DEFAULT_WORLD, conformance_profile,
                  network=network_of(pytestconfig).mode,
                  hosts=_hosts(world, conformance_profile))
    cli.trail = trail
    sessions = [cli]

    def new_session() -> CliSession:
        session = make_session(conformance_profile, backend, world,
                               tmp_path_factory.mktemp("cli"),
                               pytestconfig.getoption("cli_timeout"),
                               pytestconfig.getoption("max_output"))
        session.trail = trail
        sessions.append(session)
        return session

    mark = world.journal.mark()
    recorded = cast("WorldHandle", RecordingWorld(world, trail))
    with watching_examples(getattr(request.node, "obj", None), trail):
        yield Convox(recorded, cli, new_session, request.node.user_properties,
                     own_rules=frozenset(spec_ids(request.node)))
    typed = {s for session in sessions for s in session.secrets}
    secrets = [*world.secrets(), *typed]
    label = _safe_identity(world)
    redact = Redactor(secrets, label=label)
    invocations = [inv for session in sessions for inv in session.invocations]
    journal = [entry_data(e, invocations) for e in world.journal.since(mark)]
    request.node.user_properties.append(
        (EVIDENCE_PROPERTY, evidence_data(invocations, journal, redact))
    )
    if request.node.stash.get(RAISED_KEY, False):
        # Only failed and blocked checks get a replay script: a passing one's trail
        # would be tokenized, sent to the controller and scrubbed for nothing.
        request.node.user_properties.append(
            (TRAIL_PROPERTY, trail.export(world.secrets(), typed, label)))


def _hosts(world: WorldHandle, profile: Profile) -> dict[str, str]:
    """Host string -> server, in the profile's form and in the fakes' own."""
    from fakes.backends.in_process import DEFAULT_FORM

    found: dict[str, str] = {}
    for server in getattr(world, "servers", list)():
        for form in {profile.host_form, DEFAULT_FORM}:
            with contextlib.suppress(Exception):
                found[world.host(server, form)] = server
    return found


def _safe_identity(world: WorldHandle) -> Any:
    def label(secret: str) -> str:
        try:
            return world.key_identity(secret)
        except Exception:
            return "key"

    return label


def entry_data(entry: Any, invocations: list[Any] | None = None) -> dict[str, Any]:
    fields = ("seq", "request_id", "server", "address", "host_header", "hop", "method", "path",
              "query", "key_identity", "rack_header", "status")
    data = {name: getattr(entry, name, None) for name in fields}
    if invocations is not None and data["server"] in EGRESS_SERVERS:
        # Lookups and guard connections carry no request of ours: say which invocation made them.
        data["invocation"] = invocation_of(invocations, entry.time)
    return data


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
