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

from conformance.checks.observations import changed_files, file_changes
from conformance.checks.scenarios import alice_on_production
from conformance.checks.standard_world import (
    ALICE,
    BOB,
    DEPLOY_KEY,
    EU_STAGING,
    LEGACY,
    PRODUCTION,
    STAGING,
)
from conformance.harness.handle import Convox

#: A rack of another organization than the deploy key's (alice's acme-eu).
OTHER_ORG = EU_STAGING


def proxied_command_works(convox: Convox, email: str, operation: str) -> None:
    """Given, in a home of its own: ``email`` on acme/production runs ``operation``
    through Console (PROXY-002's subject), for checks about where else it may come from."""
    elsewhere = convox.another_home()
    elsewhere.login_console(email)
    elsewhere.switched(PRODUCTION)
    with elsewhere.given(f"{email} runs {operation} on {PRODUCTION} through Console"):
        elsewhere.ok(elsewhere.run(operation))


def environment_works(convox: Convox) -> None:
    """Given, in homes of their own: host and key from the environment reach a server
    (CONTEXT-004's observation, by the CLI's route), and the rack variable selects the
    rack (CONTEXT-005's), for checks whose subject is what such a command may do."""
    route = convox.route()
    bare = convox.another_home()
    with bare.given(f"{route.describe()} with its host and key from the environment",
                    covered_by="CONTEXT-004"):
        mark = bare.journal.mark()
        bare.ok(bare.run(route.operation, env=bare.route_env(route)))
        bare.journal.expect_some(since=mark, server=route.server, hop="cli",
                                 key=bare.identity(route.key))
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
    environment (a CI job's credentials); where the CLI has no commands at a rack, with
    Console's host, alice's key and acme/production instead."""
    convox.require("env_credentials")
    # The route a login takes (tried in a home of its own): a CLI with no commands at any
    # server is blocked by the rules about those, not failed for this one.
    route = convox.route()
    env = convox.route_env(route)
    mark = convox.journal.mark()
    done = convox.ok(convox.run(route.operation, env=env))
    convox.journal.expect_some(since=mark, server=route.server, hop="cli", method="GET",
                               key=convox.identity(route.key))
    changed = file_changes(done)
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
    # Console refuses the other organization's rack (403); a CLI that finds it missing
    # from the key's rack list and stops there keeps to the rule as well.
    convox.failed(convox.run("rack_info", env={**credentials, **convox.env_rack(OTHER_ORG)}))


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
    variable naming acme/legacy. Where the CLI has no commands at a rack, the other way
    round: alice on acme/production through Console, the target file then naming
    acme/legacy, and apps with the host variable naming Console."""
    convox.require("env_credentials")
    assert convox.profile.environment.host is not None
    route = convox.route()
    if route.via == "rack":
        convox.login_rack(LEGACY)
        convox.login_console(ALICE)
        elsewhere = "console"
    else:
        convox.log_in_by(route)
        convox.state.write_target(convox.rack_host(LEGACY))  # the file of an earlier login
        elsewhere = LEGACY
    mark = convox.journal.mark()
    convox.ok(convox.run(route.operation, env={convox.profile.environment.host: route.host}))
    convox.journal.expect_some(since=mark, server=route.server, hop="cli", method="GET",
                               key=convox.identity(route.key))
    convox.journal.expect_none(since=mark, server=elsewhere)


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
    environment sets the rack's Password; where the CLI has no commands at a rack, with
    Console's host, alice's key and acme/production in the environment."""
    convox.require("env_credentials", "rack_set_password")
    route = convox.route()
    env = convox.route_env(route)
    # Commands with credentials from the environment must work at all (CONTEXT-004);
    # tried in a home of its own, so this one stays without files.
    elsewhere = convox.another_home()
    with elsewhere.given(f"{route.describe()} with its host and key in the environment",
                         covered_by="CONTEXT-004"):
        elsewhere.ok(elsewhere.run(route.operation, env=env))
    done = convox.ok(convox.run("rack_set_password", password=secrets.token_hex(20), env=env))
    changed = file_changes(done)
    assert not changed, (
        f"rack_set_password with credentials from the environment wrote {changed}"
    )
