"""CONTEXT: the rack and credentials a command takes from where it runs.

A project directory is made inside the isolated home with ``convox.project``
(its ``.convox/rack`` names a rack) and commands are run in it with
``convox.in_project``; everything else runs in the home's plain working
directory. Credentials and the rack come from the environment through the
variables the profile names (``[environment]``), so a CLI that reads other
names, or none, is *not applicable* here rather than failing. The standard
world: alice logged in to the Console fake, acme/production and acme/staging
listed for her, acme/legacy reachable only directly with its own key, and
acme's deploy key acme/ci.
"""

from __future__ import annotations

import secrets

import pytest

from conformance.harness import Convox
from conformance.runner import Invocation

ALICE = "alice@example.com"
BOB = "bob@example.com"  # a developer-role collaborator in acme
PRODUCTION = "acme/production"
STAGING = "acme/staging"
#: alice's third Console rack, in her other organization.
EU_STAGING = "acme-eu/staging"
LEGACY = "acme/legacy"
#: acme's deploy key, and a rack of another organization (alice's acme-eu).
DEPLOY_KEY = "acme/ci"
OTHER_ORG = "acme-eu/staging"


def changed_files(before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    return sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))


def changes_in_home(invocation: Invocation) -> list[str]:
    return [f"{change.kind} {change.path}" for change in invocation.changes]


def alice_on_production(convox: Convox) -> str:
    """Given: alice logged in to Console with acme/production selected; her key."""
    convox.login_console(ALICE)
    convox.switched(PRODUCTION)
    return convox.user_key(ALICE)


def proxied_command_works(convox: Convox, email: str, operation: str) -> None:
    """Given, in a home of its own: ``email`` on acme/production runs ``operation``
    through Console (PROXY-002's subject), for checks about where else it may come from."""
    elsewhere = convox.another_home()
    elsewhere.login_console(email)
    elsewhere.switched(PRODUCTION)
    with elsewhere.given(f"{email} runs {operation} on {PRODUCTION} through Console"):
        elsewhere.ok(elsewhere.run(operation))


def environment_works(convox: Convox) -> None:
    """Given, in homes of their own: host and key from the environment reach a rack
    (CONTEXT-004's observation), and the rack variable selects the rack (CONTEXT-005's),
    for checks whose subject is what such a command may do."""
    convox.rack_commands_work(LEGACY)  # commands at a rack at all (PROXY-006) first
    bare = convox.another_home()
    key = bare.rack_key(LEGACY)
    with bare.given(f"apps at {LEGACY} with its host and key from the environment",
                    covered_by="CONTEXT-004"):
        mark = bare.journal.mark()
        bare.ok(bare.run("apps", env=bare.env_credentials(bare.rack_host(LEGACY), key)))
        bare.journal.expect_some(since=mark, server=LEGACY, hop="cli", key=bare.identity(key))
    chosen = convox.another_home()
    alice_on_production(chosen)
    with chosen.given(f"apps with {STAGING} in the rack variable", covered_by="CONTEXT-005"):
        mark = chosen.journal.mark()
        chosen.ok(chosen.run("apps", env=chosen.env_rack(STAGING)))
        chosen.journal.expect_some(since=mark, server="console", hop="cli",
                                   rack_header=STAGING)


@pytest.mark.spec("CONTEXT-001")
def test_a_project_rack_file_selects_the_rack_there(convox: Convox) -> None:
    """Alice, on acme/production, runs apps in a project that pins acme/staging."""
    key = alice_on_production(convox)
    project = convox.project(STAGING)
    mark = convox.journal.mark()
    with convox.in_project(project):
        convox.ok(convox.run("apps"))
    convox.journal.expect_some(since=mark, server="console", hop="cli",
                               key=convox.identity(key), rack_header=STAGING)


@pytest.mark.spec("CONTEXT-002")
def test_switch_never_changes_a_project_rack_file(convox: Convox) -> None:
    """Alice runs switch acme/production in a project that pins acme/staging."""
    convox.login_console(ALICE)
    project = convox.project(STAGING)
    pinned = project / ".convox" / "rack"
    before = pinned.read_bytes()
    with convox.in_project(project):
        convox.ok(convox.switch(PRODUCTION))
    after = pinned.read_bytes() if pinned.is_file() else None
    assert after == before, (
        f"switch {PRODUCTION} in the project changed its .convox/rack "
        f"from {before!r} to {after!r}"
    )


@pytest.mark.spec("CONTEXT-003")
def test_a_project_rack_file_stays_in_its_project(convox: Convox) -> None:
    """Alice, on acme/production, runs apps in a project pinning acme/staging, then
    runs apps outside it."""
    key = alice_on_production(convox)
    project = convox.project(STAGING)
    with convox.in_project(project), convox.given(
            "apps runs in a project directory", covered_by="CONTEXT-001"):
        convox.ok(convox.run("apps"))
    mark = convox.journal.mark()
    convox.ok(convox.run("apps"))
    convox.journal.expect_some(since=mark, server="console", hop="cli",
                               key=convox.identity(key), rack_header=PRODUCTION)
    selected = convox.state.selection()
    assert selected == PRODUCTION, (
        f"after apps in a project pinning {STAGING}, the selection names {selected!r}, "
        f"expected {PRODUCTION!r}"
    )


@pytest.mark.spec("CONTEXT-004")
def test_host_and_key_from_the_environment_need_no_files(convox: Convox) -> None:
    """In a home with no files, apps with the host and key of acme/legacy in the
    environment (a CI job's credentials)."""
    key = convox.rack_key(LEGACY)
    env = convox.env_credentials(convox.rack_host(LEGACY), key)
    # A CLI that cannot run apps at a rack even after a login is blocked here by
    # the rules about that (LOGIN-005, PROXY-006), not failed for this one.
    convox.rack_commands_work(LEGACY)
    mark = convox.journal.mark()
    done = convox.ok(convox.run("apps", env=env))
    convox.journal.expect_some(since=mark, server=LEGACY, hop="cli", method="GET",
                               path="/apps", key=convox.identity(key))
    changed = changes_in_home(done)
    assert not changed, f"a command with credentials from the environment wrote {changed}"


@pytest.mark.spec("CONTEXT-005")
def test_the_rack_variable_selects_the_rack_for_one_command(convox: Convox) -> None:
    """Alice, on acme/production, runs apps with acme/staging in the rack variable,
    then apps without it."""
    key = alice_on_production(convox)
    env = convox.env_rack(STAGING)
    before = convox.files()
    mark = convox.journal.mark()
    convox.ok(convox.run("apps", env=env))
    convox.journal.expect_some(since=mark, server="console", hop="cli",
                               key=convox.identity(key), rack_header=STAGING)
    changed = changed_files(before, convox.files())
    assert not changed, f"apps with the rack variable changed the CLI's files: {changed}"
    mark = convox.journal.mark()
    convox.ok(convox.run("apps"))
    convox.journal.expect_some(since=mark, server="console", hop="cli",
                               key=convox.identity(key), rack_header=PRODUCTION)


@pytest.mark.spec("CONTEXT-006")
def test_a_deploy_key_reaches_its_own_organizations_racks_only(convox: Convox) -> None:
    """A CI job with the acme/ci deploy key and Console in the environment runs
    rack_info at acme/production, then at acme-eu/staging (another organization)."""
    key = convox.deploy_key(DEPLOY_KEY)
    credentials = convox.env_credentials(convox.console, key)
    convox.env_rack(PRODUCTION)  # not applicable before anything runs
    # rack_info through Console must work at all (PROXY-002), and so must credentials
    # and a rack from the environment (CONTEXT-004, CONTEXT-005), for this to say anything.
    proxied_command_works(convox, ALICE, "rack_info")
    environment_works(convox)
    mark = convox.journal.mark()
    convox.ok(convox.run("rack_info", env={**credentials, **convox.env_rack(PRODUCTION)}))
    convox.journal.expect_some(since=mark, server="console", hop="cli", method="GET",
                               path="/system", key=convox.identity(key),
                               rack_header=PRODUCTION)
    mark = convox.journal.mark()
    convox.failed(convox.run("rack_info", env={**credentials, **convox.env_rack(OTHER_ORG)}))
    convox.journal.expect_some(since=mark, server="console", hop="cli",
                               key=convox.identity(key), rack_header=OTHER_ORG, status=403)


def reaches(convox: Convox, rack: str, operation: str = "apps",
            env: dict[str, str] | None = None, flag: str | None = None) -> None:
    """``operation`` (``flag`` its rack argument) exits 0 and reaches Console with Rack
    ``rack``."""
    mark = convox.journal.mark()
    convox.ok(convox.run(operation, env=env, rack=flag))
    convox.journal.expect_some(since=mark, server="console", hop="cli", rack_header=rack)


@pytest.mark.spec("CONTEXT-007")
def test_the_host_variable_wins_over_the_host_file(convox: Convox) -> None:
    """alice logged in to acme/legacy directly, then to Console; apps with only the host
    variable naming acme/legacy."""
    convox.require("env_credentials")
    assert convox.profile.environment.host is not None
    key = convox.rack_key(LEGACY)
    # A CLI that cannot run apps at a rack at all is blocked here (LOGIN-005, PROXY-006).
    convox.rack_commands_work(LEGACY)
    convox.login_rack(LEGACY)
    convox.login_console(ALICE)
    mark = convox.journal.mark()
    convox.ok(convox.run("apps", env={convox.profile.environment.host: convox.rack_host(LEGACY)}))
    convox.journal.expect_some(since=mark, server=LEGACY, hop="cli", method="GET",
                               path="/apps", key=convox.identity(key))
    convox.journal.expect_none(since=mark, server="console")


@pytest.mark.spec("CONTEXT-008")
def test_the_key_variable_wins_over_the_stored_key(convox: Convox) -> None:
    """alice, on acme/production through Console, runs apps with only the key variable
    holding bob's Console key."""
    convox.require("env_credentials")
    assert convox.profile.environment.key is not None
    bob = convox.user_key(BOB)
    proxied_command_works(convox, BOB, "apps")
    alice_on_production(convox)
    convox.cli.remember(bob)
    mark = convox.journal.mark()
    convox.ok(convox.run("apps", env={convox.profile.environment.key: bob}))
    convox.journal.expect_some(since=mark, server="console", hop="cli",
                               key=convox.identity(bob), rack_header=PRODUCTION)


@pytest.mark.spec("CONTEXT-009")
def test_the_rack_variable_wins_over_a_project_rack_file(convox: Convox) -> None:
    """alice, on acme/production, runs apps in a project pinning acme/staging with
    acme-eu/staging in the rack variable."""
    env = convox.env_rack(EU_STAGING)
    alice_on_production(convox)
    project = convox.project(STAGING)
    with convox.given(f"apps with the rack variable naming {EU_STAGING} reaches it",
                      covered_by="CONTEXT-005"):
        reaches(convox, EU_STAGING, env=env)
    with convox.in_project(project):
        with convox.given(f"apps in a project pinning {STAGING} reaches it",
                          covered_by="CONTEXT-001"):
            reaches(convox, STAGING)
        reaches(convox, EU_STAGING, env=env)


@pytest.mark.spec("CONTEXT-010")
def test_a_rack_flag_wins_over_the_rack_variable(convox: Convox) -> None:
    """alice, on acme/production, runs apps with acme-eu/staging in the rack flag and
    acme/staging in the rack variable."""
    env = convox.env_rack(STAGING)
    convox.require("apps_rack")
    alice_on_production(convox)
    with convox.given(f"apps with the rack variable naming {STAGING} reaches it",
                      covered_by="CONTEXT-005"):
        reaches(convox, STAGING, env=env)
    reaches(convox, EU_STAGING, "apps_rack", env=env, flag=EU_STAGING)


@pytest.mark.spec("CONTEXT-011")
def test_a_rack_key_set_from_the_environment_is_not_written(convox: Convox) -> None:
    """In a home with no files, a CI job with acme/legacy's host and key in the
    environment sets the rack's Password."""
    key = convox.rack_key(LEGACY)
    env = convox.env_credentials(convox.rack_host(LEGACY), key)
    convox.require("rack_set_password")
    convox.rack_commands_work(LEGACY)
    # Commands with credentials from the environment must work at all (CONTEXT-004);
    # tried in a home of its own, so this one stays without files.
    elsewhere = convox.another_home()
    with elsewhere.given(f"apps with {LEGACY}'s host and key in the environment",
                         covered_by="CONTEXT-004"):
        elsewhere.ok(elsewhere.run("apps", env=env))
    done = convox.ok(convox.run("rack_set_password", password=secrets.token_hex(20), env=env))
    changed = changes_in_home(done)
    assert not changed, (
        f"rack_set_password with credentials from the environment wrote {changed}"
    )
