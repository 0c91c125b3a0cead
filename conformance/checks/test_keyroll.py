"""KEYROLL: regenerated Console keys, rolled rack keys, rack passwords set by hand.

Keys change underneath the CLI: Console's "Regenerate API key" stops the old
user key at once; Console's "Roll API key" gives a rack a new key that Console
uses at once and the rack accepts only after its update (the fakes' update
window, closed with ``world.finish_rack_updates()``, never by sleeping); and
``rack params set Password=...`` changes a rack's key behind Console's back.
Each check puts the CLI through one of these and asserts on exit codes, the
CLI's files and which key identity reached which server.
"""

from __future__ import annotations

import re
import secrets

import pytest

from conformance.checks.observations import file_changes
from conformance.checks.scenarios import alice_runs_apps_on_production
from conformance.checks.standard_world import ALICE, LEGACY, PRODUCTION, STAGING
from conformance.harness.handle import Convox
from conformance.running.invoke import Invocation


def _new_password() -> str:
    return secrets.token_hex(20)


def _mentions_login(invocation: Invocation) -> bool:
    return re.search(r"login", invocation.output, re.IGNORECASE) is not None


def _refused_after_regeneration(convox: Convox) -> tuple[str, Invocation]:
    """Regenerate alice's Console key and run apps with the old one still stored."""
    old = convox.user_key(ALICE)
    convox.world.regenerate_user_key(ALICE)
    return old, convox.run("apps")


# -------------------------------------------------------------- user key regenerated


@pytest.mark.spec("KEYROLL-001")
def test_regenerated_console_key_stops_the_old_login(convox: Convox) -> None:
    """Alice, on acme/production through Console, runs apps after her key is regenerated."""
    alice_runs_apps_on_production(convox)
    mark = convox.journal.mark()
    old, apps = _refused_after_regeneration(convox)

    convox.failed(apps)
    convox.journal.expect_some(
        since=mark, hop="cli", server="console", key=convox.identity(old), status=401
    )
    convox.journal.expect_none(since=mark, hop="proxy")


@pytest.mark.spec("KEYROLL-002")
def test_refusal_of_old_console_key_points_to_login(convox: Convox) -> None:
    """The apps refused after alice's key was regenerated says how to get back in."""
    alice_runs_apps_on_production(convox)
    _old, apps = _refused_after_regeneration(convox)

    convox.failed(apps)
    assert _mentions_login(apps), (
        "the refusal does not mention login, the only way back in:\n" + apps.describe()
    )


@pytest.mark.spec("KEYROLL-003")
def test_refused_old_console_key_corrupts_no_file(convox: Convox) -> None:
    """Alice runs apps and racks with her regenerated (old) key still in auth."""
    alice_runs_apps_on_production(convox)
    before = convox.files()
    # Whether each command exits non-zero is KEYROLL-001's (and the refusal wording
    # KEYROLL-002's) business; this rule is only about the files.
    _old, apps = _refused_after_regeneration(convox)
    racks = convox.run("racks")

    assert convox.files() == before, "a refused key changed the CLI's files:\n" + "\n".join(
        f"  {change}" for change in file_changes(apps, racks)
    )


@pytest.mark.spec("KEYROLL-004")
def test_login_with_new_console_key_restores_access(convox: Convox) -> None:
    """After her key is regenerated and apps is refused, alice logs in with the new key."""
    alice_runs_apps_on_production(convox)
    _old, apps = _refused_after_regeneration(convox)
    with convox.given("apps with the old key is refused", covered_by="KEYROLL-001"):
        convox.failed(apps)
    new = convox.user_key(ALICE)
    new_id = convox.identity(new)

    convox.ok(convox.login(convox.console, new))
    assert convox.state.keys().get(convox.console) == new, (
        "after the login auth does not hold the new key for Console"
    )
    mark = convox.journal.mark()
    convox.ok(convox.run("racks"))
    convox.journal.expect_some(
        since=mark, hop="cli", server="console", path="/racks", key=new_id, status=200
    )
    if convox.state.selection() != PRODUCTION:  # the login may clear the selection
        convox.switched(PRODUCTION)
    mark = convox.journal.mark()
    # Access is restored when Console answers it; what apps prints is PROXY-002's.
    convox.ok(convox.run("apps"))
    convox.journal.expect_some(
        since=mark, hop="cli", server="console", key=new_id, rack_header=PRODUCTION, status=200
    )
    convox.journal.expect_some(since=mark, hop="proxy", server=PRODUCTION, status=200)


# -------------------------------------------------------------- rack key rolled by Console


@pytest.mark.spec("KEYROLL-005")
def test_rack_key_roll_keeps_proxied_access_once_rack_is_updated(convox: Convox) -> None:
    """Console rolls acme/production's key; alice lists racks while the rack updates
    (Console shows it updating), then runs apps once the update is done."""
    alice_runs_apps_on_production(convox)
    old_rack = convox.identity(convox.rack_key(PRODUCTION))
    before = convox.files()

    convox.world.roll_rack_key(PRODUCTION)
    with convox.given("alice lists racks while the rack updates"):
        convox.ok(convox.run("racks"))
    convox.world.finish_rack_updates()
    new_rack = convox.identity(convox.rack_key(PRODUCTION))
    assert new_rack != old_rack
    mark = convox.journal.mark()
    apps = convox.run("apps")

    convox.ok(apps)  # what it prints is PROXY-002's
    convox.journal.expect_some(
        since=mark, hop="cli", server="console", rack_header=PRODUCTION, status=200
    )
    convox.journal.expect_some(since=mark, hop="proxy", server=PRODUCTION, key=new_rack, status=200)
    assert convox.files() == before, "the CLI's files changed across the key roll"


@pytest.mark.spec("KEYROLL-006")
def test_proxied_command_fails_cleanly_during_roll_and_recovers(convox: Convox) -> None:
    """Alice runs apps while acme/production's key roll is under way, then again after it."""
    alice_runs_apps_on_production(convox)
    convox.world.roll_rack_key(PRODUCTION)
    before = convox.files()

    during = convox.run("apps")
    convox.failed(during)
    assert during.stderr.strip(), "the failure during the roll printed nothing on stderr"
    assert convox.files() == before, "the failure during the roll changed files: " + ", ".join(
        file_changes(during)
    )

    convox.world.finish_rack_updates()
    mark = convox.journal.mark()
    after = convox.run("apps")
    convox.ok(after)
    convox.journal.expect_some(
        since=mark, hop="proxy", server=PRODUCTION, key=convox.identity(convox.rack_key(PRODUCTION))
    )


@pytest.mark.spec("KEYROLL-007")
def test_old_rack_key_stops_working_after_roll(convox: Convox) -> None:
    """Alice logged in directly to acme/staging (added to Console by hand); Console rolls
    its key and the update completes; she runs apps, then logs in again with the old key."""
    host = convox.rack_host(STAGING)
    old = convox.rack_key(STAGING)
    convox.login_rack(STAGING)
    with convox.given("apps at acme/staging before the roll"):
        convox.ok(convox.run("apps"))
    convox.world.roll_rack_key(STAGING)
    convox.world.finish_rack_updates()
    assert convox.rack_key(STAGING) != old

    mark = convox.journal.mark()
    convox.failed(convox.run("apps"))
    convox.journal.expect_some(
        since=mark, hop="cli", server=STAGING, key=convox.identity(old), status=401
    )

    before = convox.files()
    again = convox.login(host, old)
    convox.failed(again)
    assert convox.files() == before, "a login with the rolled-away key changed files: " + ", ".join(
        file_changes(again)
    )


# -------------------------------------------------------------- rack password set by hand


def a_change(method: str) -> bool:
    """How a CLI may send a parameter change: today's ``PUT /system`` or the 2017 API's
    ``POST /apps/<rack>/parameters`` (the classic CLI's); the rule names neither."""
    return method in ("PUT", "POST")


@pytest.mark.spec("KEYROLL-008")
def test_setting_rack_password_keeps_user_able_to_reach_rack(convox: Convox) -> None:
    """Alice, logged in directly to acme/legacy, sets its Password to a new key."""
    host = convox.rack_host(LEGACY)
    old = convox.rack_key(LEGACY)
    convox.login_rack(LEGACY)
    with convox.given("apps at acme/legacy"):
        convox.ok(convox.run("apps"))
    new = _new_password()

    mark = convox.journal.mark()
    changed = convox.ok(convox.run("rack_set_password", password=new))
    convox.journal.expect_some(
        since=mark, hop="cli", server=LEGACY, method=a_change, key=convox.identity(old),
        status=200,
    )
    assert convox.rack_key(LEGACY) == new, "the rack did not take the new Password"

    if convox.state.keys().get(host) != new:
        assert _mentions_login(changed), (
            "auth still holds the old key for the rack and the output does not say to log "
            "in with the new one:\n" + changed.describe()
        )
        convox.ok(convox.login(host, new))
    mark = convox.journal.mark()
    convox.ok(convox.run("apps"))
    convox.journal.expect_some(
        since=mark, hop="cli", server=LEGACY, key=convox.identity(new), status=200
    )


@pytest.mark.spec("KEYROLL-009")
def test_password_changed_behind_console_fails_until_rack_is_re_added(convox: Convox) -> None:
    """acme/production's Password is changed on the rack itself while alice uses it through
    Console; later the rack is removed from Console and added back with the new key."""
    alice_runs_apps_on_production(convox)
    new = _new_password()
    convox.world.set_rack_password(PRODUCTION, new)
    before = convox.files()

    broken = convox.run("apps")
    convox.failed(broken)
    assert broken.stderr.strip(), "the failure printed nothing on stderr"
    assert convox.files() == before, "the failure changed files: " + ", ".join(
        file_changes(broken)
    )

    convox.world.remove_rack_from_console(PRODUCTION)
    convox.world.add_rack_to_console(PRODUCTION, new)
    mark = convox.journal.mark()
    convox.ok(convox.run("apps"))
    convox.journal.expect_some(
        since=mark, hop="proxy", server=PRODUCTION, key=convox.identity(new), status=200
    )


@pytest.mark.spec("KEYROLL-010")
def test_regenerated_console_key_leaves_direct_rack_login_working(convox: Convox) -> None:
    """Alice holds a Console login and a direct login to acme/legacy (the target); her
    Console key is regenerated, a login to Console with the old key is refused, and she
    runs apps at the rack."""
    rack_host = convox.rack_host(LEGACY)
    rack_key = convox.rack_key(LEGACY)
    convox.login_console(ALICE)
    convox.login_rack(LEGACY)
    with convox.given("apps at acme/legacy"):
        convox.ok(convox.run("apps"))
    old = convox.user_key(ALICE)
    convox.world.regenerate_user_key(ALICE)
    with convox.given("a login to Console with the old key is refused", covered_by="LOGIN-011"):
        convox.failed(convox.login(convox.console, old))

    mark = convox.journal.mark()
    convox.ok(convox.run("apps"))
    convox.journal.expect_some(
        since=mark, hop="cli", server=LEGACY, key=convox.identity(rack_key), status=200
    )
    convox.journal.expect_none(since=mark, server="console")
    assert convox.state.keys().get(rack_host) == rack_key, (
        "the rack's entry in auth changed after the Console key was regenerated"
    )
