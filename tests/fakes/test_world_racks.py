"""Unit tests of the world model's racks: Console's list, the proxy target, key rolls in time.

No sockets, no sleeping: the simulated clock (under freezegun or advanced by
hand) decides when a rolled key takes over on the rack.
"""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from fakes.model.clock import Clock
from fakes.model.world import World, WorldError
from tests.fakes.world_support import principal, refs, standard_world


# Overrides the conftest's ``world`` (a served LocalWorld): these tests need the model alone.
@pytest.fixture
def world() -> World:
    return standard_world()


# ------------------------------------------------------------------ racks


def test_racks_for_standard_world(world: World) -> None:
    listing = {
        u: refs(world.racks_for(principal(world, u)))
        for u in (
            "alice@example.com",
            "bob@example.com",
            "carol@example.com",
            "dave@example.com",
            "erin@example.com",
        )
    }
    assert listing == {
        "alice@example.com": ["acme/production", "acme/staging", "acme-eu/staging"],
        "bob@example.com": ["acme/production", "acme/staging"],
        "carol@example.com": ["carol/sandbox"],
        "dave@example.com": ["startup/api"],
        "erin@example.com": [],
    }
    entry = world.racks_for(principal(world, "carol@example.com"))[0]
    assert entry == {"name": "sandbox", "organization": {"name": "carol"}, "status": "running"}


def test_switch_ambiguity_is_built_in(world: World) -> None:
    names = [r["name"] for r in world.racks_for(principal(world, "alice@example.com"))]
    assert names.count("staging") == 2
    assert names.count("production") == 1


def test_add_rack_validates(world: World) -> None:
    with pytest.raises(WorldError) as err:
        world.add_rack("acme", "production", "h")
    assert err.value.status == 409
    with pytest.raises(WorldError) as err:
        world.add_rack("nowhere", "x", "h")
    assert err.value.status == 404
    with pytest.raises(WorldError) as err:
        world.add_rack("acme", "x", "h", console="sideloaded")
    assert err.value.status == 400
    with pytest.raises(WorldError) as err:
        world.add_rack("acme", "a/b", "h")
    assert err.value.status == 400


def test_rack_not_in_console_is_reachable_only_directly(world: World) -> None:
    alice = principal(world, "alice@example.com")
    assert "acme/legacy" not in refs(world.racks_for(alice))
    assert "acme/legacy" not in world.vault
    with pytest.raises(WorldError) as err:
        world.authorize_proxy(alice, "acme/legacy", "GET", "/apps")
    assert err.value.status == 404
    assert err.value.message == "no rack named acme/legacy in Console"
    assert world.rack_accepts("acme/legacy", world.rack_key("acme/legacy"))


def test_unknown_rack_is_404(world: World) -> None:
    with pytest.raises(WorldError) as err:
        world.authorize_proxy(principal(world, "alice@example.com"), "acme/nope", "GET", "/")
    assert (err.value.status, err.value.message) == (404, "no rack named acme/nope in Console")


def test_outsider_gets_403(world: World) -> None:
    with pytest.raises(WorldError) as err:
        world.authorize_proxy(principal(world, "erin@example.com"), "acme/production", "GET", "/")
    assert err.value.status == 403
    assert "erin@example.com is not a member of acme" in err.value.message


def test_proxy_target_uses_the_vault_key(world: World) -> None:
    target = world.authorize_proxy(
        principal(world, "alice@example.com"), "acme/staging", "GET", "/apps?x=1"
    )
    assert target.host == "acme-staging.convox.test"
    assert target.ref == "acme/staging"
    assert target.key == world.rack_key("acme/staging")
    assert target.key not in repr(target)


def test_add_rack_to_console_by_hand_and_remove(world: World) -> None:
    alice = principal(world, "alice@example.com")
    world.add_rack_to_console("acme/legacy", world.rack_key("acme/legacy"))
    assert world.rack("acme/legacy").console == "added_by_hand"
    assert "acme/legacy" in refs(world.racks_for(alice))
    assert world.authorize_proxy(alice, "acme/legacy", "GET", "/apps").key == world.rack_key(
        "acme/legacy"
    )
    with pytest.raises(WorldError) as err:
        world.add_rack_to_console("acme/legacy", "whatever")
    assert err.value.status == 409

    world.remove_rack_from_console("acme/legacy")
    assert "acme/legacy" not in world.vault
    assert "acme/legacy" not in refs(world.racks_for(alice))
    with pytest.raises(WorldError) as err:
        world.remove_rack_from_console("acme/legacy")
    assert err.value.status == 404


def test_add_rack_to_console_with_a_wrong_key(world: World) -> None:
    alice = principal(world, "alice@example.com")
    typo = "not-the-rack-key-at-all-0123456789"
    world.add_rack_to_console("acme/legacy", typo)
    target = world.authorize_proxy(alice, "acme/legacy", "GET", "/apps")
    assert target.key == typo
    assert not world.rack_accepts("acme/legacy", target.key)
    assert typo in world.secrets()
    assert world.key_identity(typo).startswith("unknown:")
    world.remove_rack_from_console("acme/legacy")
    with pytest.raises(WorldError) as err:
        world.add_rack_to_console("acme/legacy", "")
    assert err.value.status == 400


def test_rack_system_and_apps(world: World) -> None:
    world.rack("acme/production").parameters["Password"] = "leak-me"
    system = world.rack_system("acme/production")
    assert set(system) == {"name", "status", "version", "region", "count", "type", "parameters"}
    assert system["name"] == "production"
    assert "Password" not in system["parameters"]
    assert "leak-me" not in repr(system)
    apps = world.rack_apps("acme/production")
    assert [a["name"] for a in apps] == ["web", "worker"]
    assert all(set(a) == {"name", "status", "release", "generation"} for a in apps)
    assert apps == world.rack_apps("acme/production")  # stable ids


def test_rack_by_host_and_finders(world: World) -> None:
    assert world.rack_by_host("carol-sandbox.convox.test").ref == "carol/sandbox"
    alice = world.user("alice@example.com")
    assert world.user_by_id(alice.id) is alice
    with pytest.raises(WorldError):
        world.rack_by_host("nope")
    with pytest.raises(WorldError):
        world.user_by_id("nope")
    assert len(world.users()) == 5
    assert len(world.racks()) == 6
    assert {o.name for o in world.organizations()} >= {"acme", "acme-eu", "startup", "erin"}


# ------------------------------------------------------------------ clock


def test_clock_follows_freezegun_and_advances() -> None:
    clock = Clock()
    with freeze_time("2024-01-01 00:00:00") as frozen:
        start = clock.now()
        frozen.tick(10)
        assert clock.now() == start + 10
        clock.advance(5)
        assert clock.now() == start + 15


def test_clock_refuses_to_run_backwards() -> None:
    with pytest.raises(ValueError):
        Clock().advance(-1)


def test_clock_source_can_be_fixed() -> None:
    clock = Clock(source=lambda: 100.0)
    clock.advance(2.5)
    assert clock.now() == 102.5
    assert clock.offset == 2.5


# ------------------------------------------------------------------ keyroll


def test_roll_rack_key_window_under_freezegun() -> None:
    with freeze_time("2024-05-01 12:00:00") as frozen:
        world = standard_world()
        alice = principal(world, "alice@example.com")
        old = world.rack_key("acme/production")
        world.roll_rack_key("acme/production")
        new = world.authorize_proxy(alice, "acme/production", "GET", "/apps").key

        assert new != old and len(new) >= 32
        assert world.key_identity(new) == "rack:acme/production#2"
        assert world.key_identity(old) == "rack:acme/production#1"
        # Console switched at once; the rack still only takes the old key.
        assert world.rack_accepts("acme/production", old)
        assert not world.rack_accepts("acme/production", new)
        assert world.rack_status("acme/production") == "updating"
        assert world.racks_for(alice)[0]["status"] == "updating"
        assert world.rack_system("acme/production")["status"] == "updating"

        frozen.tick(299)
        assert world.rack_accepts("acme/production", old)
        assert not world.rack_accepts("acme/production", new)

        frozen.tick(1)
        assert not world.rack_accepts("acme/production", old)
        assert world.rack_accepts("acme/production", new)
        assert world.rack_key("acme/production") == new
        assert world.rack_status("acme/production") == "running"


def test_roll_window_follows_clock_advance_and_custom_duration() -> None:
    clock = Clock(source=lambda: 1000.0)
    world = World(clock=clock, rack_update_seconds=60)
    world.add_user("a@example.com")
    world.add_rack("a", "r", "h")
    old = world.rack_key("a/r")
    world.roll_rack_key("a/r")
    clock.advance(59.9)
    assert world.rack_key("a/r") == old
    clock.advance(0.1)
    assert world.rack_key("a/r") != old


def test_roll_with_zero_window_is_immediate() -> None:
    world = World(rack_update_seconds=0)
    world.add_user("a@example.com")
    world.add_rack("a", "r", "h")
    world.roll_rack_key("a/r")
    assert world.rack_accepts("a/r", world.vault.get("a/r"))
    assert world.rack_status("a/r") == "running"


def test_finish_rack_updates(world: World) -> None:
    world.roll_rack_key("acme/production")
    world.roll_rack_key("carol/sandbox")
    world.finish_rack_updates()
    for ref in ("acme/production", "carol/sandbox"):
        assert world.rack_accepts(ref, world.vault.get(ref))
        assert world.rack_status(ref) == "running"
    before = world.clock.offset
    world.finish_rack_updates()  # nothing pending: time stands still
    assert world.clock.offset == before


def test_roll_needs_a_console_rack_and_a_working_stored_key(world: World) -> None:
    with pytest.raises(WorldError) as err:
        world.roll_rack_key("acme/legacy")
    assert err.value.status == 404
    world.roll_rack_key("acme/production")
    with pytest.raises(WorldError) as err:
        world.roll_rack_key("acme/production")  # Console's new key is not accepted yet
    assert err.value.status == 502
    assert "acme/production" in err.value.message


def test_set_rack_password_behind_consoles_back(world: World) -> None:
    alice = principal(world, "alice@example.com")
    stale = world.rack_key("acme/production")
    world.set_rack_password("acme/production", "a-brand-new-password-1234567890")
    assert world.rack_accepts("acme/production", "a-brand-new-password-1234567890")
    assert not world.rack_accepts("acme/production", stale)
    assert world.key_identity("a-brand-new-password-1234567890") == "rack:acme/production#2"
    # Console still holds (and proxies with) the stale key.
    target = world.authorize_proxy(alice, "acme/production", "GET", "/apps")
    assert target.key == stale
    assert not world.rack_accepts("acme/production", target.key)
    with pytest.raises(WorldError) as err:
        world.roll_rack_key("acme/production")
    assert err.value.status == 502
    # The fix: remove the rack from Console and add it again with the new key.
    world.remove_rack_from_console("acme/production")
    world.add_rack_to_console("acme/production", "a-brand-new-password-1234567890")
    target = world.authorize_proxy(alice, "acme/production", "GET", "/apps")
    assert world.rack_accepts("acme/production", target.key)


def test_set_rack_password_during_a_roll_cancels_it(world: World) -> None:
    world.roll_rack_key("acme/production")
    world.set_rack_password("acme/production", "manual-password-0123456789abcdef")
    world.finish_rack_updates()
    assert world.rack_key("acme/production") == "manual-password-0123456789abcdef"
    assert world.rack_status("acme/production") == "running"
    with pytest.raises(WorldError) as err:
        world.set_rack_password("acme/production", "")
    assert err.value.status == 400
