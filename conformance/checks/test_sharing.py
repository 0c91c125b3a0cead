"""SHARING: collaborators on Pro and above, the rack key below Pro.

In the standard world bob is a developer-role collaborator of acme (Pro);
dave's startup is on the Developer plan and carol has only her personal
organization, so their racks are the "below Pro" ones nobody else reaches
through Console. Checks assert on what bob's CLI shows and stores and on the
journal: whose key identity reached Console, with which ``Rack`` header, and
whether Console made the hop to the rack.
"""

from __future__ import annotations

import base64
import re
import secrets

import pytest

from conformance.checks.observations import described, file_changes
from conformance.checks.standard_world import (
    ALICE,
    BOB,
    EU_STAGING,
    PRODUCTION,
    SANDBOX,
    STAGING,
    STARTUP_API,
)
from conformance.harness.handle import Convox
from conformance.running.invoke import Invocation


def _lists(output: str, ref: str) -> bool:
    """Whether some line of a listing names ``ref``'s organization and rack as words.

    A word may not run on into letters, digits or ``-``, so ``acme`` is not
    found in ``acme-eu``; the organization and name may be in one ``org/name``
    cell or in separate columns.
    """
    org, name = ref.split("/", 1)

    def word(text: str) -> str:
        return rf"(?<![\w-]){re.escape(text)}(?![\w-])"

    return any(
        re.search(word(org), line) and re.search(word(name), line) for line in output.splitlines()
    )


def _login_bob(convox: Convox) -> str:
    """bob logs in to Console with his own key; returns his key identity."""
    convox.login_console(BOB)
    return convox.identity(convox.user_key(BOB))


def _carol_shares_sandbox_key(convox: Convox) -> str:
    """carol resets her Console-installed rack's key by hand (the FAQ's way to learn a key
    Console never showed her) and returns it, to be shared."""
    key = secrets.token_hex(20)
    convox.world.set_rack_password(SANDBOX, key)
    return key


def _holds_shared_sandbox_key(convox: Convox) -> None:
    """bob logs in directly to carol/sandbox with the key carol shared with him."""
    key = _carol_shares_sandbox_key(convox)
    convox.logged_in(convox.rack_host(SANDBOX), key,
                     "bob logs in directly to carol/sandbox with the shared key")


def _all_output(invocations: list[Invocation]) -> str:
    return "\n".join(inv.stdout + "\n" + inv.stderr for inv in invocations)


# -------------------------------------------------------------- Pro and above


@pytest.mark.spec("SHARING-001")
def test_collaborator_sees_the_organizations_racks(convox: Convox) -> None:
    """bob, a collaborator in acme (Pro) and made one in acme-eu (Enterprise), lists racks."""
    convox.world.add_member("acme-eu", BOB, "developer")
    bob = _login_bob(convox)

    mark = convox.journal.mark()
    racks = convox.ok(convox.run("racks"))
    convox.journal.expect_some(
        since=mark, hop="cli", server="console", path="/racks", key=bob, status=200
    )
    for ref in (PRODUCTION, STAGING, EU_STAGING):
        assert _lists(racks.stdout, ref), f"racks does not list {ref}:\n{racks.describe()}"


@pytest.mark.spec("SHARING-002")
def test_collaborator_can_switch_to_the_organizations_racks(convox: Convox) -> None:
    """bob, a collaborator in acme (Pro) and acme-eu (Enterprise), switches to a rack of each."""
    convox.world.add_member("acme-eu", BOB, "developer")
    _login_bob(convox)

    for ref in (PRODUCTION, EU_STAGING):
        convox.ok(convox.switch(ref))
        assert convox.state.selection() == ref, f"after switch {ref} the selection is not {ref}"


@pytest.mark.spec("SHARING-003")
def test_collaborators_commands_are_proxied_with_their_own_key(convox: Convox) -> None:
    """bob, who also holds carol's shared sandbox key, logs in to Console, selects
    acme/production and runs apps."""
    _holds_shared_sandbox_key(convox)
    bob = _login_bob(convox)

    # The switch's requests are observed too: a CLI sending the wrong stored key
    # shows it there first. Whether the switch worked is SWITCH-001's business.
    mark = convox.journal.mark()
    switch = convox.switch(PRODUCTION)
    convox.journal.expect_none(since=mark, hop="cli", key=lambda k: k != bob)
    with convox.given("switch to acme/production"):
        convox.ok(switch)
    convox.selected(PRODUCTION)
    apps = convox.ok(convox.run("apps"))
    for app in ("web", "worker"):
        assert app in apps.stdout, f"apps does not show acme/production's {app!r}:\n" + (
            apps.describe()
        )
    convox.journal.expect_some(
        since=mark, hop="cli", server="console", key=bob, rack_header=PRODUCTION, status=200
    )
    convox.journal.expect_some(since=mark, hop="proxy", server=PRODUCTION, status=200)
    convox.journal.expect_none(since=mark, hop="cli", key=lambda k: k != bob)


# -------------------------------------------------------------- below Pro


@pytest.mark.spec("SHARING-004")
def test_below_pro_non_member_can_neither_list_nor_switch(convox: Convox) -> None:
    """bob lists racks and tries to switch to dave's startup/api (Developer plan) and to
    carol's carol/sandbox (personal organization)."""
    _login_bob(convox)
    with convox.given("bob's racks lists his own racks", covered_by="SHARING-001"):
        racks = convox.ok(convox.run("racks"))
        assert _lists(racks.stdout, PRODUCTION), "racks does not list bob's own racks at all"

    for ref in (STARTUP_API, SANDBOX):
        assert not _lists(racks.stdout, ref), f"racks lists {ref}:\n{racks.describe()}"
        convox.failed(convox.switch(ref))
        assert convox.state.selection() is None, (
            f"a refused switch {ref} stored the selection {convox.state.selection()}"
        )


@pytest.mark.spec("SHARING-005")
def test_below_pro_non_members_proxied_command_fails(convox: Convox) -> None:
    """bob holds carol's shared sandbox key and a Console login; with a hand-written
    selection naming startup/api, then carol/sandbox, he runs apps."""
    _holds_shared_sandbox_key(convox)
    _login_bob(convox)

    # Asking Console (which refuses) and refusing locally, because the rack is not
    # in bob's listing, both satisfy the rule; reaching the rack some other way does not.
    for ref in (STARTUP_API, SANDBOX):
        convox.state.write_selection(ref)
        mark = convox.journal.mark()
        convox.failed(convox.run("apps"))
        convox.journal.expect_none(since=mark, server=ref)
        convox.journal.expect_none(since=mark, hop="cli", server=lambda s: s != "console")


@pytest.mark.spec("SHARING-006")
def test_shared_rack_key_gives_full_direct_access(convox: Convox) -> None:
    """carol resets her carol/sandbox's key, logs in to it and shares the key with bob,
    who logs in with it in his own home and runs apps and rack_info."""
    key = _carol_shares_sandbox_key(convox)
    host = convox.rack_host(SANDBOX)
    rack_id = convox.identity(key)
    convox.logged_in(host, key, "carol logs in to carol/sandbox with the key")
    with convox.given("carol runs apps at carol/sandbox"):
        owners_apps = convox.ok(convox.run("apps"))

    bob = convox.another_home()
    mark = convox.journal.mark()
    convox.ok(bob.login(host, key))
    apps = convox.ok(bob.run("apps"))
    info = convox.ok(bob.run("rack_info"))

    for seen_by in (owners_apps, apps):
        assert "hello" in seen_by.stdout, "apps does not show the rack's apps:\n" + (
            seen_by.describe()
        )
    assert "sandbox" in info.stdout, "bob's rack_info does not name the rack:\n" + info.describe()
    seen = convox.journal.since(mark)
    assert len(seen) >= 3, "fewer requests than commands reached the fakes"
    strays = [e for e in seen if e.server != SANDBOX or e.key_identity != rack_id]
    assert not strays, "bob's CLI went elsewhere or with another key:\n" + (
        described(strays, indent=""))
    convox.journal.expect_none(since=mark, server="console")


@pytest.mark.spec("SHARING-007")
def test_console_installed_rack_key_is_never_revealed(convox: Convox) -> None:
    """alice (who installed acme/production via Console) and bob (a collaborator) each log
    in, list racks, switch to acme/production and run apps and rack_info."""
    homes = [convox, convox.another_home()]
    for home, email in zip(homes, (ALICE, BOB), strict=True):
        home.login_console(email)
        with home.given(f"{email} lists racks, switches to acme/production, runs apps and "
                        "rack_info"):
            home.ok(home.run("racks"))
            home.switched(PRODUCTION)
            home.ok(home.run("apps"))
            home.ok(home.run("rack_info"))

    rack_keys = [
        key
        for key in convox.world.secrets()
        if convox.identity(key).startswith(f"rack:{PRODUCTION}#")
    ]
    assert rack_keys, "the world has no key for acme/production"
    needles = {}
    for key in rack_keys:
        needles[key] = convox.identity(key)
        needles[base64.b64encode(f"convox:{key}".encode()).decode()] = convox.identity(key)
    output = _all_output([inv for home in homes for inv in home.cli.invocations])
    for needle, identity in needles.items():
        assert needle not in output, f"the key {identity} appeared in the CLI's output"
    for home in homes:
        for path in sorted(home.cli.home.rglob("*")):
            if not path.is_file():
                continue
            data = path.read_bytes()
            for needle, identity in needles.items():
                assert needle.encode() not in data, f"the key {identity} was written to {path}"


@pytest.mark.spec("SHARING-008")
def test_downgrade_from_pro_ends_collaborators_access(convox: Convox) -> None:
    """bob, who also holds carol's shared sandbox key, uses acme/production through Console;
    acme moves to the Developer plan; bob runs apps again."""
    _holds_shared_sandbox_key(convox)
    _login_bob(convox)
    convox.switched(PRODUCTION)
    with convox.given("bob runs apps on acme/production"):
        convox.ok(convox.run("apps"))
    convox.world.set_plan("acme", "developer")
    before = convox.files()

    mark = convox.journal.mark()
    apps = convox.run("apps")
    convox.failed(apps)
    convox.journal.expect_none(since=mark, hop="proxy", server=PRODUCTION)
    convox.journal.expect_none(since=mark, hop="cli", server=lambda s: s != "console")
    assert convox.files() == before, "the refusal changed bob's files: " + ", ".join(
        file_changes(apps)
    )


@pytest.mark.spec("SHARING-009")
def test_removed_collaborator_loses_access_at_next_command(convox: Convox) -> None:
    """bob, who also holds carol's shared sandbox key, lists racks and uses acme/production;
    he is removed from acme; he runs apps and lists racks again."""
    _holds_shared_sandbox_key(convox)
    _login_bob(convox)
    with convox.given("bob lists racks, switches to acme/production and runs apps"):
        convox.ok(convox.run("racks"))
        convox.switched(PRODUCTION)
        convox.ok(convox.run("apps"))
    convox.world.remove_member("acme", BOB)

    mark = convox.journal.mark()
    convox.failed(convox.run("apps"))
    convox.journal.expect_none(since=mark, hop="proxy", server=PRODUCTION)
    convox.journal.expect_none(since=mark, hop="cli", server=lambda s: s != "console")
    racks = convox.run("racks")
    for ref in (PRODUCTION, STAGING):
        assert not _lists(racks.stdout, ref), (
            f"racks still lists {ref} after bob left acme:\n{racks.describe()}"
        )
