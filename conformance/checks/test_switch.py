"""SWITCH: choosing the rack Console proxies to, and what switch refuses.

The standard world gives alice, logged in to the Console fake: acme/production
(installed via Console), acme/staging (added to Console by hand), acme-eu/staging
(so a bare ``staging`` is ambiguous while ``production`` is unique) and
acme/legacy (installed by CLI and not in Console). Files are read and edited only
through ``convox.state`` so each check runs against every profile's layout.
"""

from __future__ import annotations

import pytest

from conformance.checks.observations import changed_files, read_bytes
from conformance.checks.standard_world import ALICE, BOB, LEGACY, PRODUCTION, STAGING
from conformance.harness.handle import Convox


def selection_file(convox: Convox) -> str:
    """The selection's path relative to the config dir, as ``convox.files()`` names it."""
    return str(convox.state.selection_path.relative_to(convox.state.config_dir))


def assert_selected(convox: Convox, ref: str | None, after: str) -> None:
    selected = convox.state.selection()
    assert selected == ref, f"{after}, the selection names {selected!r}, expected {ref!r}"


@pytest.mark.spec("SWITCH-001")
def test_switch_selects_a_console_installed_rack(convox: Convox) -> None:
    """Logged in to Console as alice, switch to acme/production (installed via Console)."""
    key = convox.user_key(ALICE)
    convox.login_console(ALICE)
    mark = convox.journal.mark()
    convox.ok(convox.switch(PRODUCTION))
    assert_selected(convox, PRODUCTION, f"after switch {PRODUCTION}")
    convox.journal.expect_some(since=mark, server="console", hop="cli",
                               key=convox.identity(key))


@pytest.mark.spec("SWITCH-002")
def test_switch_selects_a_rack_added_to_console_by_hand(convox: Convox) -> None:
    """Alice switches to acme/staging (added by hand), then to acme/legacy once added by hand."""
    convox.login_console(ALICE)
    convox.ok(convox.switch(STAGING))
    assert_selected(convox, STAGING, f"after switch {STAGING}")
    convox.world.add_rack_to_console(LEGACY, convox.rack_key(LEGACY))
    convox.ok(convox.switch(LEGACY))
    assert_selected(convox, LEGACY, f"after adding {LEGACY} to Console and switching to it")


@pytest.mark.spec("SWITCH-003")
def test_switch_refuses_a_rack_console_does_not_list(convox: Convox) -> None:
    """Alice, on acme/production, switches to acme/legacy, which was never added to Console."""
    convox.login_console(ALICE)
    convox.switched(PRODUCTION)
    before = convox.files()
    convox.failed(convox.switch(LEGACY))
    assert_selected(convox, PRODUCTION, f"after a refused switch {LEGACY}")
    changed = changed_files(before, convox.files())
    assert not changed, f"a refused switch changed the CLI's files: {changed}"


@pytest.mark.spec("SWITCH-004")
def test_switch_needs_a_console_login(convox: Convox) -> None:
    """Logged in directly to acme/legacy, switch to acme/production."""
    convox.login_rack(LEGACY)
    before = convox.files()
    mark = convox.journal.mark()
    convox.failed(convox.switch(PRODUCTION))
    assert_selected(convox, None, "logged in to a rack directly, after switch")
    changed = changed_files(before, convox.files())
    assert not changed, f"switch while logged in to a rack changed the CLI's files: {changed}"
    convox.journal.expect_none(since=mark, server="console")


@pytest.mark.spec("SWITCH-005")
def test_switch_never_changes_the_login_target(convox: Convox) -> None:
    """Logged in to Console as alice, switch to acme/production and then acme/staging."""
    convox.login_console(ALICE)
    target, auth = read_bytes(convox.state.target_path), read_bytes(convox.state.auth_path)
    with convox.given("login left a target file and an auth file", covered_by="LOGIN-002"):
        assert target is not None and auth is not None, "login left no target file or no auth file"
    before = convox.files()
    for ref in (PRODUCTION, STAGING):
        convox.ok(convox.switch(ref))
        target_kept = read_bytes(convox.state.target_path) == target
        assert target_kept, (
            f"switch {ref} changed the target file (was {target!r}, "
            f"now {convox.state.target()!r})"
        )
        # a bool, so pytest does not print the auth file (keys) into the report
        auth_kept = read_bytes(convox.state.auth_path) == auth
        assert auth_kept, f"switch {ref} changed the auth file"
    convox.selected(STAGING)  # what the selection names is SWITCH-001's
    others = [p for p in changed_files(before, convox.files()) if p != selection_file(convox)]
    assert not others, f"switch changed files other than the selection: {others}"


@pytest.mark.spec("SWITCH-006")
def test_switch_accepts_a_unique_bare_name(convox: Convox) -> None:
    """Alice, whose only listed rack named production is acme/production, runs switch
    production; bob, who is listed acme/production and acme/staging only, runs switch
    staging and then switch production (each name unique for him, in either order)."""
    convox.login_console(ALICE)
    convox.ok(convox.switch("production"))
    assert_selected(convox, PRODUCTION, "after switch production")
    bob = convox.another_home()
    bob.login_console(BOB)
    bob.ok(bob.switch("staging"))
    assert_selected(bob, STAGING, "after bob's switch staging")
    bob.ok(bob.switch("production"))
    assert_selected(bob, PRODUCTION, "after bob's switch production")


@pytest.mark.spec("SWITCH-007")
def test_switch_refuses_an_unknown_name(convox: Convox) -> None:
    """Alice, on acme/production, switches to acme/nope and to nope, which Console does not list."""
    convox.login_console(ALICE)
    convox.switched(PRODUCTION)
    for wanted in ("acme/nope", "nope"):
        convox.failed(convox.switch(wanted))
        assert_selected(convox, PRODUCTION, f"after a refused switch {wanted}")


@pytest.mark.spec("SWITCH-008")
def test_switch_refuses_an_ambiguous_bare_name(convox: Convox) -> None:
    """Alice, on acme/production, runs switch staging (acme/staging and acme-eu/staging)."""
    convox.login_console(ALICE)
    convox.switched(PRODUCTION)
    convox.failed(convox.switch("staging"))
    assert_selected(convox, PRODUCTION, "after a refused switch staging")


@pytest.mark.spec("SWITCH-009")
def test_switch_without_a_rack_shows_the_current_rack(convox: Convox) -> None:
    """Alice switches to acme/production, then asks for the current rack."""
    convox.login_console(ALICE)
    convox.switched(PRODUCTION)
    before = convox.files()
    shown = convox.ok(convox.current_rack())
    assert PRODUCTION in shown.stdout, (
        f"the current rack {PRODUCTION} is not on stdout: {shown.stdout.strip()!r}"
    )
    changed = changed_files(before, convox.files())
    assert not changed, f"showing the current rack changed the CLI's files: {changed}"


@pytest.mark.spec("SWITCH-010")
def test_a_selection_written_by_hand_acts_like_switch(convox: Convox) -> None:
    """Logged in to Console as alice, select acme/staging by editing the file, then run apps."""
    key = convox.user_key(ALICE)
    convox.login_console(ALICE)
    convox.state.write_selection(STAGING)
    mark = convox.journal.mark()
    convox.ok(convox.run("apps"))
    convox.journal.expect_some(since=mark, server="console", hop="cli",
                               key=convox.identity(key), rack_header=STAGING)
