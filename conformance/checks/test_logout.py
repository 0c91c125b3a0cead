"""LOGOUT: being logged in is a key for the target host in auth, nothing more.

The FAQ defines the logged-in state by the files alone, so these checks edit
the files by hand (through ``convox.state``, whatever the profile's layout),
then watch what the next command does: where it goes, with which key, and
whether it exits zero. Account switching and a ``logout`` command, where a
profile has one, are judged the same way.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from conformance.checks.observations import described
from conformance.checks.scenarios import alice_runs_apps_on_production
from conformance.checks.standard_world import ALICE, BOB, LEGACY, PRODUCTION, STAGING
from conformance.harness.handle import Convox, Route


def _encodings(key: str) -> list[bytes]:
    """The forms a stored credential may take in a file: raw, base64, basic-auth base64."""
    raw = key.encode("utf-8")
    return [
        raw,
        base64.b64encode(raw),
        base64.urlsafe_b64encode(raw),
        base64.b64encode(b"convox:" + raw),
    ]


def _files_holding(root: Path, key: str, allowed: Path) -> list[str]:
    forms = _encodings(key)
    found = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path == allowed:
            continue
        data = path.read_bytes()
        if any(form in data for form in forms):
            found.append(str(path.relative_to(root)))
    return found


@pytest.mark.spec("LOGOUT-001")
def test_hand_written_files_are_a_login(convox: Convox) -> None:
    """The target file and auth written by hand for acme/legacy (where the CLI has no
    commands at a rack: for Console and alice's key, with acme/production selected); no
    login is ever run."""
    route = convox.route()
    convox.write_route_files(route)

    mark = convox.journal.mark()
    shown = convox.ok(convox.run(route.operation))
    assert route.shows in shown.stdout, (
        f"{route.describe()} does not show {route.shows}:\n" + shown.describe())
    convox.journal.expect_some(since=mark, hop="cli", server=route.server,
                               key=convox.identity(route.key))


def logged_in_and_working(convox: Convox) -> Route:
    """Given: a login by the CLI's route (:meth:`Convox.route`), used once."""
    route = convox.route()
    convox.log_in_by(route)
    with convox.given(f"run {route.describe()}"):
        convox.ok(convox.run(route.operation))
    return route


@pytest.mark.spec("LOGOUT-002")
def test_removing_the_key_from_auth_logs_out(convox: Convox) -> None:
    """Logged in to acme/legacy (or Console) and used once, its entry is then deleted
    from auth by hand."""
    route = logged_in_and_working(convox)
    convox.state.remove_key(route.host)

    mark = convox.journal.mark()
    convox.failed(convox.run(route.operation))
    convox.journal.expect_none(since=mark, key=convox.identity(route.key))


@pytest.mark.spec("LOGOUT-003")
def test_removing_the_target_file_logs_out(convox: Convox) -> None:
    """Logged in to acme/legacy (or Console) and used once, the target file is then
    deleted by hand."""
    route = logged_in_and_working(convox)
    convox.state.remove_target()

    mark = convox.journal.mark()
    convox.failed(convox.run(route.operation))
    convox.journal.expect_none(since=mark, key=convox.identity(route.key))


@pytest.mark.spec("LOGOUT-004")
def test_restoring_the_files_logs_back_in(convox: Convox) -> None:
    """Logged in to acme/legacy (or Console): the auth entry, then the target file,
    removed and restored."""
    route = logged_in_and_working(convox)
    identity = convox.identity(route.key)
    entries = convox.state.keys()

    convox.state.remove_key(route.host)
    convox.failed(convox.run(route.operation))
    convox.state.write_auth(entries)
    mark = convox.journal.mark()
    convox.ok(convox.run(route.operation))
    convox.journal.expect_some(since=mark, hop="cli", server=route.server, key=identity)

    convox.state.remove_target()
    convox.failed(convox.run(route.operation))
    convox.state.write_target(route.host)
    mark = convox.journal.mark()
    convox.ok(convox.run(route.operation))
    convox.journal.expect_some(since=mark, hop="cli", server=route.server, key=identity)


@pytest.mark.spec("LOGOUT-005")
def test_no_credential_is_kept_outside_auth(convox: Convox) -> None:
    """Alice logs in to Console, switches to acme/production and runs apps."""
    alice_runs_apps_on_production(convox, "run apps on acme/production")

    key = convox.user_key(ALICE)
    stored = convox.identity(convox.state.keys().get(convox.console))
    with convox.given("auth holds alice's key for Console", covered_by="LOGIN-002"):
        assert stored == convox.identity(key), "auth does not hold alice's key for Console"
    holders = _files_holding(convox.cli.root, key, convox.state.auth_path)
    assert not holders, f"the Console key is also kept in {holders}"


@pytest.mark.spec("LOGOUT-006")
def test_logged_out_cli_sends_no_empty_or_wrong_key(convox: Convox) -> None:
    """Logged in to Console then acme/legacy, acme/legacy's key is removed from auth by hand."""
    convox.login_console(ALICE)
    convox.login_rack(LEGACY)
    convox.state.remove_key(convox.rack_host(LEGACY))

    mark = convox.journal.mark()
    convox.failed(convox.run("apps"))
    rack = convox.identity(convox.rack_key(LEGACY))
    sent = [e for e in convox.journal.since(mark, hop="cli") if e.key_identity != rack]
    assert not sent, (
        "a logged-out CLI sent requests with an empty, unknown or another host's key:\n"
        + described(sent)
    )


@pytest.mark.spec("LOGOUT-007")
def test_logged_out_cli_says_how_to_log_in(convox: Convox) -> None:
    """Apps with no target file, then with a target file naming a host auth has no key
    for: acme/legacy, or Console where the CLI has no commands at a rack."""
    route = convox.route()  # a CLI that logs in somewhere and works there
    missing_target = convox.failed(convox.run("apps"))
    assert "login" in missing_target.output.lower(), (
        "with no target file, apps does not mention login:\n" + missing_target.describe()
    )

    convox.state.write_target(route.host)
    missing_key = convox.failed(convox.run("apps"))
    assert "login" in missing_key.output.lower(), (
        "with no key for the target, apps does not mention login:\n" + missing_key.describe()
    )


@pytest.mark.spec("LOGOUT-008")
def test_login_with_another_key_switches_accounts_on_that_host_only(convox: Convox) -> None:
    """Logged in directly to acme/legacy, then to Console as alice, then to Console as bob."""
    convox.login_rack(LEGACY)
    convox.login_console(ALICE)
    rack_host = convox.rack_host(LEGACY)
    rack_entry = convox.state.keys().get(rack_host)
    with convox.given("auth holds acme/legacy's key", covered_by="LOGIN-002"):
        assert rack_entry is not None, "the direct login stored no key for acme/legacy"

    convox.ok(convox.login(convox.console, convox.user_key(BOB)))
    keys = convox.state.keys()
    assert convox.identity(keys.get(convox.console)) == convox.identity(convox.user_key(BOB)), (
        "after the account switch auth does not map Console to bob's key"
    )
    # compared as identities so a failure never prints a key; equal keys, equal identities
    assert convox.identity(keys.get(rack_host)) == convox.identity(rack_entry), (
        "the account switch changed acme/legacy's entry"
    )
    assert convox.state.target() == convox.console


@pytest.mark.spec("LOGOUT-009")
def test_after_switching_accounts_the_next_command_acts_as_the_new_user(convox: Convox) -> None:
    """Alice logs in to Console and lists racks; then bob logs in to the same Console."""
    convox.login_console(ALICE)
    with convox.given("alice lists racks"):
        convox.ok(convox.run("racks"))
    convox.login_console(BOB)

    mark = convox.journal.mark()
    racks = convox.ok(convox.run("racks"))
    bob = convox.identity(convox.user_key(BOB))
    convox.journal.expect_some(since=mark, hop="cli", server="console", key=bob)
    convox.journal.expect_none(
        since=mark, hop="cli", key=convox.identity(convox.user_key(ALICE))
    )
    assert PRODUCTION in racks.stdout, "racks does not list bob's racks:\n" + racks.describe()
    assert "acme-eu" not in racks.stdout, (
        "racks lists racks only alice can use:\n" + racks.describe()
    )


@pytest.mark.spec("LOGOUT-010")
def test_logout_command_logs_out_of_the_current_host(convox: Convox) -> None:
    """Logged in to acme/legacy, the user runs logout, then apps."""
    convox.login_rack(LEGACY)
    convox.ok(convox.run("logout"))
    assert convox.state.logged_in_host() is None, (
        f"after logout the files still say logged in to {convox.state.target()}"
    )

    mark = convox.journal.mark()
    convox.failed(convox.run("apps"))
    convox.journal.expect_none(since=mark, key=convox.identity(convox.rack_key(LEGACY)))


@pytest.mark.spec("LOGOUT-011")
def test_logout_command_keeps_other_hosts_keys(convox: Convox) -> None:
    """Logged in to acme/legacy and acme/staging, then to Console; the user runs logout."""
    convox.login_rack(LEGACY)
    convox.login_rack(STAGING)
    convox.login_console(ALICE)
    before = convox.state.keys()
    hosts = (convox.rack_host(LEGACY), convox.rack_host(STAGING))
    racks = {host: before.get(host) for host in hosts}

    with convox.given("log out"):
        convox.ok(convox.run("logout"))
    after = convox.state.keys()
    changed = {
        host: convox.identity(after.get(host))
        for host, key in racks.items()
        if after.get(host) != key
    }
    assert not changed, f"logout changed the keys of other hosts (host -> now): {changed}"
