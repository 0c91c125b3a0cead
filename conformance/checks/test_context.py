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

import pytest

from conformance.harness import Convox
from conformance.runner import Invocation

ALICE = "alice@example.com"
PRODUCTION = "acme/production"
STAGING = "acme/staging"
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
    elsewhere = convox.another_home()
    elsewhere.login_console(ALICE)
    elsewhere.switched(PRODUCTION)
    with elsewhere.given(f"run rack_info at {PRODUCTION} through Console"):
        elsewhere.ok(elsewhere.run("rack_info"))
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
