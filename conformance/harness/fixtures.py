"""The fixtures a check asks for: the fakes, a fresh world, the CLI, and ``convox``.

A pytest plugin module, loaded by ``conformance.harness.plugin``. The fakes
start once per pytest process (each xdist worker has its own); every check
gets a fresh world and a fresh CLI home. ``convox``'s teardown keeps the
check's evidence, redacted, and the trail of a check that raised, for the
reports and the replay.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest

from conformance.harness.evidence import Redactor, evidence_data
from conformance.harness.handle import Convox
from conformance.harness.run_setup import BACKEND_KEY, RAISED_KEY, make_backend, network_of
from conformance.network.egress import invocation_of
from conformance.replay.record import RecordingWorld, watching_examples
from conformance.replay.trail import TRAIL_PROPERTY, Trail
from conformance.report.pytest_wiring.check_identity import spec_ids
from conformance.report.pytest_wiring.collect import EVIDENCE_PROPERTY
from conformance.report.pytest_wiring.stash_keys import PROFILE_KEY
from conformance.running.invoke import CliSession
from conformance.running.profiles import Profile
from conformance.running.world_session import make_session
from fakes.http.journal import EGRESS_SERVERS
from fakes.model.worldfile import DEFAULT_WORLD

if TYPE_CHECKING:
    from fakes.backends.in_process import Backend, WorldHandle



@pytest.fixture(scope="session")
def conformance_profile(pytestconfig: pytest.Config) -> Profile:
    """The validated profile of the CLI under test."""
    return pytestconfig.stash[PROFILE_KEY]


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
