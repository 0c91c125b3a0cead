"""PROXY: which host gets which key and Rack header.

Logged in to Console, rack commands go to Console with the user's own Console
key and a ``Rack: org/name`` header, and Console makes the hop to the rack
with the rack key it keeps. Logged in to a rack, commands go straight to that
rack with its key. The journal of the fakes shows both hops, so every check
here asserts on where each request went and which key identity it carried.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.checks.observations import described
from conformance.checks.scenarios import alice_runs_apps_on_production
from conformance.checks.standard_world import ALICE, LEGACY, PRODUCTION, STAGING
from conformance.harness.handle import Convox
from fakes.http.journal import JournalEntry


def _cli_hops(convox: Convox, since: int) -> list[JournalEntry]:
    return convox.journal.since(since, hop="cli")


def _proxied_request_ids(convox: Convox, mark: int, user: str, rack: str) -> set[str]:
    """The ids of apps' requests at Console for ``rack``: a CLI may ask Console other
    things too (its rack list, say), so only the apps request has to be proxied."""
    hops = convox.journal.expect_some(
        since=mark, hop="cli", server="console", key=user, rack_header=rack, path="/apps"
    )
    return {hop.request_id for hop in hops}


def _files_under(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.spec("PROXY-001")
def test_rack_command_goes_to_console_with_console_key_and_rack_header(convox: Convox) -> None:
    """Alice logged in to Console with acme/production selected runs apps."""
    convox.login_console(ALICE)
    convox.switched(PRODUCTION)
    alice = convox.identity(convox.user_key(ALICE))
    mark = convox.journal.mark()
    convox.ok(convox.run("apps"))

    convox.journal.expect_some(
        since=mark, hop="cli", server="console", key=alice, rack_header=PRODUCTION
    )
    convox.journal.expect_none(since=mark, hop="cli", server=PRODUCTION)
    strays = [e for e in _cli_hops(convox, mark) if e.server != "console"]
    assert not strays, "rack commands went somewhere besides Console:\n" + (
        described(strays, indent=""))


@pytest.mark.spec("PROXY-002")
def test_proxied_commands_show_the_selected_racks_answer(convox: Convox) -> None:
    """Alice logged in to Console with acme/production selected runs apps and rack_info."""
    convox.login_console(ALICE)
    convox.switched(PRODUCTION)

    mark = convox.journal.mark()
    apps = convox.ok(convox.run("apps"))
    for app in ("web", "worker"):  # acme/production's apps
        assert app in apps.stdout, f"apps does not show {app!r}:\n{apps.describe()}"
    assert "billing" not in apps.stdout, "apps shows another rack's app:\n" + apps.describe()
    convox.journal.expect_some(since=mark, hop="proxy", server=PRODUCTION)

    mark = convox.journal.mark()
    info = convox.ok(convox.run("rack_info"))
    assert "production" in info.stdout, "rack_info does not name the rack:\n" + info.describe()
    convox.journal.expect_some(since=mark, hop="proxy", server=PRODUCTION)


@pytest.mark.spec("PROXY-003")
def test_proxied_command_leaves_console_installed_rack_key_to_console(convox: Convox) -> None:
    """One proxied apps to acme/production, a rack whose key only Console holds."""
    convox.login_console(ALICE)
    convox.switched(PRODUCTION)
    alice = convox.identity(convox.user_key(ALICE))
    rack_key = convox.rack_key(PRODUCTION)
    rack = convox.identity(rack_key)
    session_start = 0

    mark = convox.journal.mark()
    convox.run("apps")
    ids = _proxied_request_ids(convox, mark, alice, PRODUCTION)
    convox.journal.expect_some(
        since=mark, hop="proxy", server=PRODUCTION, request_id=lambda rid: rid in ids, key=rack
    )
    convox.journal.expect_none(since=session_start, hop="cli", key=rack)
    holders = [
        str(path.relative_to(convox.cli.root))
        for path, data in _files_under(convox.cli.root).items()
        if rack_key.encode() in data
    ]
    assert not holders, f"the rack key of {PRODUCTION} is stored in {holders}"


@pytest.mark.spec("PROXY-003")
def test_proxied_command_does_not_use_a_directly_known_rack_key(convox: Convox) -> None:
    """Alice holds acme/staging's key from a direct login, then runs apps on it via Console."""
    convox.login_rack(STAGING)
    convox.login_console(ALICE)
    convox.switched(STAGING)
    alice = convox.identity(convox.user_key(ALICE))
    rack = convox.identity(convox.rack_key(STAGING))

    mark = convox.journal.mark()
    convox.run("apps")
    ids = _proxied_request_ids(convox, mark, alice, STAGING)
    convox.journal.expect_some(
        since=mark, hop="proxy", server=STAGING, request_id=lambda rid: rid in ids, key=rack
    )
    convox.journal.expect_none(since=mark, hop="cli", key=rack)
    convox.journal.expect_none(since=mark, hop="cli", server=STAGING)


@pytest.mark.spec("PROXY-004")
def test_cli_never_sends_a_rack_key_to_console(convox: Convox) -> None:
    """Auth holds keys of two directly logged-in racks; then Console, racks, switch, apps."""
    convox.login_rack(LEGACY)
    convox.login_rack(STAGING)
    mark = convox.journal.mark()
    convox.login_console(ALICE)
    with convox.given("list racks and switch to acme/production through Console"):
        convox.ok(convox.run("racks"))
        convox.switched(PRODUCTION)
    # apps's requests are the observation, whatever its exit code: a CLI that sends a
    # rack key to Console is refused there, and that refusal is not this rule's subject.
    convox.run("apps")

    alice = convox.identity(convox.user_key(ALICE))
    at_console = convox.journal.expect_some(since=mark, hop="cli", server="console")
    wrong = [e for e in at_console if e.key_identity != alice]
    assert not wrong, "requests at Console without the user's Console key:\n" + (
        described(wrong, indent=""))
    convox.journal.expect_none(since=mark, hop="cli", key=lambda k: k.startswith("rack:"))


@pytest.mark.spec("PROXY-005")
def test_cli_never_sends_the_console_key_to_a_rack(convox: Convox) -> None:
    """Alice logs in to Console, then directly to acme/legacy, and runs apps there."""
    convox.login_console(ALICE)
    mark = convox.journal.mark()
    convox.login_rack(LEGACY)
    convox.run("apps")  # its requests are the observation, whatever its exit code

    rack = convox.identity(convox.rack_key(LEGACY))
    at_rack = convox.journal.expect_some(since=mark, hop="cli", server=LEGACY)
    wrong = [e for e in at_rack if e.key_identity != rack]
    assert not wrong, f"requests at {LEGACY} without its own key:\n" + described(wrong, indent="")
    convox.journal.expect_none(hop="cli", server=lambda s: s != "console",
                               key=lambda k: k.startswith("user:"))


@pytest.mark.spec("PROXY-006")
def test_direct_rack_login_sends_commands_straight_to_the_rack(convox: Convox) -> None:
    """Logged in to Console first, alice then logs in directly to acme/legacy (not in Console)."""
    convox.login_console(ALICE)
    convox.login_rack(LEGACY)
    rack = convox.identity(convox.rack_key(LEGACY))

    mark = convox.journal.mark()
    apps = convox.ok(convox.run("apps"))
    assert "billing" in apps.stdout, "apps does not show acme/legacy's app:\n" + apps.describe()
    info = convox.ok(convox.run("rack_info"))
    assert "legacy" in info.stdout, "rack_info does not name acme/legacy:\n" + info.describe()

    at_rack = convox.journal.expect_some(since=mark, hop="cli", server=LEGACY, key=rack)
    assert at_rack
    convox.journal.expect_none(since=mark, server="console")
    strays = [e for e in _cli_hops(convox, mark) if e.server != LEGACY]
    assert not strays, "direct rack commands went elsewhere:\n" + described(strays, indent="")


@pytest.mark.spec("PROXY-007")
def test_switch_retargets_the_very_next_command(convox: Convox) -> None:
    """Apps on acme/production, switch to acme/staging, apps again."""
    alice_runs_apps_on_production(convox, "run apps on acme/production")
    convox.switched(STAGING)

    mark = convox.journal.mark()
    apps = convox.ok(convox.run("apps"))
    convox.journal.expect_some(since=mark, hop="cli", server="console", rack_header=STAGING)
    convox.journal.expect_none(since=mark, hop="cli", rack_header=PRODUCTION)
    convox.journal.expect_some(since=mark, hop="proxy", server=STAGING)
    convox.journal.expect_none(since=mark, hop="proxy", server=PRODUCTION)
    assert "web" in apps.stdout, "apps does not show acme/staging's app:\n" + apps.describe()
    assert "worker" not in apps.stdout, (
        "apps still shows acme/production's apps after the switch:\n" + apps.describe()
    )


@pytest.mark.spec("PROXY-008")
def test_rack_console_no_longer_brokers_is_not_reached_around_console(convox: Convox) -> None:
    """Alice holds acme/staging's key, selects it via Console, then it is removed from Console."""
    convox.login_rack(STAGING)
    convox.login_console(ALICE)
    convox.switched(STAGING)
    convox.world.remove_rack_from_console(STAGING)

    mark = convox.journal.mark()
    convox.failed(convox.run("apps"))
    convox.journal.expect_none(since=mark, hop="cli", server=STAGING)
    convox.journal.expect_none(since=mark, hop="proxy", server=STAGING)
    convox.journal.expect_none(since=mark, hop="cli", server=lambda s: s != "console")


@pytest.mark.spec("PROXY-009")
def test_login_retargets_the_very_next_command(convox: Convox) -> None:
    """With acme/production selected via Console, log in to acme/legacy, then back to Console.
    Where the CLI has no commands at a rack, only where the login back to Console sends
    the next command is judged."""
    direct = convox.rack_commands_possible(LEGACY)
    convox.login_console(ALICE)
    convox.switched(PRODUCTION)
    # Where the logins leave the target is this rule's subject: they must succeed, not
    # record it (a CLI that keeps the old target fails here, not blocked by LOGIN-001).
    convox.login_rack(LEGACY, records=False)
    rack = convox.identity(convox.rack_key(LEGACY))
    alice = convox.identity(convox.user_key(ALICE))

    if direct:
        mark = convox.journal.mark()
        convox.run("apps")
        convox.journal.expect_some(since=mark, hop="cli", server=LEGACY, key=rack)
        convox.journal.expect_none(since=mark, server="console")

    convox.login_console(ALICE, records=False)
    mark = convox.journal.mark()
    convox.run("racks")
    convox.journal.expect_some(since=mark, hop="cli", server="console", key=alice)
    convox.journal.expect_none(since=mark, server=LEGACY)


@pytest.mark.world("empty-racks")
@pytest.mark.spec("PROXY-010")
def test_a_rack_without_apps_is_an_empty_answer(convox: Convox) -> None:
    """alice runs apps on acme/sandbox through Console and on acme/spare directly (where
    the CLI has commands at a rack); neither rack has an app yet (acme/production runs web,
    acme/legacy billing)."""
    # A CLI whose proxied or direct commands fail on any rack is PROXY-002's or
    # PROXY-006's to judge, not this rule's.
    alice_runs_apps_on_production(convox, covered_by="PROXY-002")
    direct_commands = convox.rack_commands_possible(LEGACY)
    convox.switched("acme/sandbox")
    mark = convox.journal.mark()
    proxied = convox.run("apps")
    # The switch from acme/production must re-target this apps: PROXY-007's step.
    with convox.given("Console proxies apps to acme/sandbox", covered_by="PROXY-007"):
        convox.journal.expect_some(since=mark, hop="proxy", server="acme/sandbox")
    convox.ok(proxied)
    assert not re.search(r"\bweb\b", proxied.stdout), (
        "apps on a rack without apps shows acme/production's web:\n" + proxied.describe()
    )

    if not direct_commands:
        return  # a CLI with no commands at a rack is judged through Console alone
    direct = convox.another_home()
    direct.login_rack("acme/spare")
    empty = direct.ok(direct.run("apps"))
    assert not re.search(r"\b(web|billing)\b", empty.stdout), (
        "apps on a rack without apps shows another rack's app:\n" + empty.describe()
    )

