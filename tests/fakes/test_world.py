"""Unit tests of the world model's rules: no sockets, no sleeping."""

from __future__ import annotations

import hashlib
import re

import pytest
from freezegun import freeze_time

from fakes.model.clock import Clock
from fakes.model.vault import Vault
from fakes.model.world import (
    DEPLOY_KEY_ROUTES,
    KEY_LENGTH,
    Principal,
    World,
    WorldError,
)
from fakes.model.worldfile import load_world


def host_for(ref: str) -> str:
    return ref.replace("/", "-") + ".convox.test"


@pytest.fixture
def world() -> World:
    return load_world("standard", hosts=host_for)


def refs(listing: list[dict]) -> list[str]:
    return [f"{r['organization']['name']}/{r['name']}" for r in listing]


def principal(world: World, email: str) -> Principal:
    found = world.authenticate(world.user_key(email))
    assert found is not None
    return found


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


# ------------------------------------------------------------------ vault


def test_vault_round_trip_and_masked_form() -> None:
    vault = Vault()
    key = "k" * 36 + "WXYZ"
    vault.put("acme/production", key)
    assert vault.get("acme/production") == key
    assert vault.masked("acme/production") == "********WXYZ"
    assert "acme/production" in vault
    vault.remove("acme/production")
    assert "acme/production" not in vault
    with pytest.raises(KeyError):
        vault.get("acme/production")


def test_vault_never_holds_plaintext_at_rest() -> None:
    vault = Vault()
    key = "SuperSecretRackKey0123456789abcdefghij"
    vault.put("acme/production", key)
    at_rest = vault.ciphertexts()
    assert set(at_rest) == {"acme/production"}
    blob = b"".join(at_rest.values())
    assert key.encode() not in blob
    # Nothing anywhere in the object's attributes carries the plaintext either.
    for value in vars(vault).values():
        assert key not in repr(value)


def test_vault_masks_short_keys_entirely() -> None:
    vault = Vault()
    vault.put("r/x", "abc")
    assert vault.masked("r/x") == "********"


def test_world_vault_holds_console_rack_keys_encrypted(world: World) -> None:
    assert set(world.vault.refs()) == {
        "acme/production",
        "acme/staging",
        "acme-eu/staging",
        "carol/sandbox",
        "startup/api",
    }
    blob = b"".join(world.vault.ciphertexts().values())
    for key in world.secrets():
        assert key.encode() not in blob
    key = world.rack_key("acme/production")
    assert world.console_key_masked("acme/production") == "********" + key[-4:]


# ------------------------------------------------------------ users & orgs


def test_add_user_creates_personal_developer_org() -> None:
    world = World()
    user = world.add_user("zoe@example.com")
    org = world.organization("zoe")
    assert (org.plan, org.owner, org.personal, org.members) == (
        "developer",
        "zoe@example.com",
        True,
        {},
    )
    assert user.personal_org == "zoe"
    assert len(user.key) >= 32
    assert world.key_identity(user.key) == "user:zoe@example.com#1"


@pytest.mark.parametrize("email", ["", "nobody", "@example.com", "a@", "a/b@example.com"])
def test_add_user_rejects_bad_emails(email: str) -> None:
    with pytest.raises(WorldError) as err:
        World().add_user(email)
    assert err.value.status == 400


def test_duplicate_user_and_org_conflict(world: World) -> None:
    with pytest.raises(WorldError) as err:
        world.add_user("alice@example.com")
    assert err.value.status == 409
    with pytest.raises(WorldError) as err:
        world.add_organization("acme", "pro", "alice@example.com")
    assert err.value.status == 409


def test_add_organization_validates(world: World) -> None:
    with pytest.raises(WorldError, match="unknown plan 'gold'") as err:
        world.add_organization("new", "gold", "alice@example.com")
    assert err.value.status == 400
    with pytest.raises(WorldError, match="no user") as err:
        world.add_organization("new", "pro", "nobody@example.com")
    assert err.value.status == 404


def test_keys_are_random_and_long() -> None:
    world = World()
    keys = {world.add_user(f"u{i}@example.com").key for i in range(20)}
    assert len(keys) == 20
    assert all(len(k) == KEY_LENGTH >= 32 and k.isalnum() for k in keys)


def test_collaborator_refused_on_developer_plan(world: World) -> None:
    with pytest.raises(WorldError) as err:
        world.add_member("startup", "erin@example.com", "developer")
    assert err.value.status == 409
    assert "Pro organizations and above" in err.value.message
    assert "startup" in err.value.message
    assert world.organization("startup").members == {}


def test_collaborator_refused_on_personal_org_even_when_upgraded(world: World) -> None:
    world.set_plan("carol", "pro")
    with pytest.raises(WorldError) as err:
        world.add_member("carol", "erin@example.com", "administrator")
    assert err.value.status == 409
    assert "personal organization" in err.value.message
    assert "share the rack API key" in err.value.message


def test_add_member_validates_role_user_and_owner(world: World) -> None:
    with pytest.raises(WorldError) as err:
        world.add_member("acme", "erin@example.com", "superuser")
    assert err.value.status == 400
    with pytest.raises(WorldError) as err:
        world.add_member("acme", "nobody@example.com", "developer")
    assert err.value.status == 404
    with pytest.raises(WorldError) as err:
        world.add_member("nowhere", "erin@example.com", "developer")
    assert err.value.status == 404
    with pytest.raises(WorldError) as err:
        world.add_member("acme", "alice@example.com", "developer")
    assert err.value.status == 409


def test_add_member_twice_changes_the_role(world: World) -> None:
    world.add_member("acme", "bob@example.com", "operator")
    assert world.organization("acme").members == {"bob@example.com": "operator"}


def test_collaborator_reaches_racks_and_loses_them_when_removed(world: World) -> None:
    world.add_member("acme-eu", "erin@example.com", "operator")
    erin = principal(world, "erin@example.com")
    assert refs(world.racks_for(erin)) == ["acme-eu/staging"]
    world.remove_member("acme-eu", "erin@example.com")
    assert world.racks_for(erin) == []
    with pytest.raises(WorldError) as err:
        world.authorize_proxy(erin, "acme-eu/staging", "GET", "/apps")
    assert err.value.status == 403


def test_remove_member_errors(world: World) -> None:
    with pytest.raises(WorldError) as err:
        world.remove_member("acme", "erin@example.com")
    assert err.value.status == 404
    with pytest.raises(WorldError) as err:
        world.remove_member("acme", "alice@example.com")
    assert err.value.status == 409


def test_downgrade_cuts_collaborators_and_upgrade_restores(world: World) -> None:
    bob = principal(world, "bob@example.com")
    alice = principal(world, "alice@example.com")
    assert refs(world.racks_for(bob)) == ["acme/production", "acme/staging"]

    world.set_plan("acme", "developer")
    assert world.racks_for(bob) == []
    with pytest.raises(WorldError) as err:
        world.authorize_proxy(bob, "acme/production", "GET", "/apps")
    assert err.value.status == 403
    assert "developer plan" in err.value.message
    # The owner keeps access and the membership is kept for a later upgrade.
    assert "acme/production" in refs(world.racks_for(alice))
    assert world.organization("acme").members == {"bob@example.com": "developer"}

    world.set_plan("acme", "enterprise")
    assert refs(world.racks_for(bob)) == ["acme/production", "acme/staging"]
    assert world.authorize_proxy(bob, "acme/production", "GET", "/apps").ref == "acme/production"


def test_set_plan_rejects_unknown_plan(world: World) -> None:
    with pytest.raises(WorldError) as err:
        world.set_plan("acme", "free")
    assert err.value.status == 400


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


# ------------------------------------------------------------ authentication


def test_authenticate_users_deploy_keys_and_garbage(world: World) -> None:
    alice = world.authenticate(world.user_key("alice@example.com"))
    assert alice is not None and alice.kind == "user" and alice.email == "alice@example.com"
    assert alice.id == world.user("alice@example.com").id
    deploy = world.authenticate(world.deploy_keys()[0].key)
    assert deploy is not None and deploy.kind == "deploy" and deploy.organization == "acme"
    assert world.authenticate("") is None
    assert world.authenticate(None) is None
    assert world.authenticate("nonsense") is None
    # A rack key is not a Console credential.
    assert world.authenticate(world.rack_key("acme/production")) is None


def test_regenerate_user_key_stops_old_key_at_once(world: World) -> None:
    old = world.user_key("alice@example.com")
    new = world.regenerate_user_key("alice@example.com")
    assert new != old and world.user_key("alice@example.com") == new
    assert world.authenticate(old) is None
    assert world.authenticate(new) is not None
    assert world.key_identity(old) == "user:alice@example.com#1"
    assert world.key_identity(new) == "user:alice@example.com#2"
    assert world.key_identity(world.regenerate_user_key("alice@example.com")).endswith("#3")


# ------------------------------------------------------------------ roles


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/system"), ("put", "/system?x=1"), ("POST", "/apps/production/parameters")],
)
def test_developer_role_cannot_change_rack_parameters(world: World, method: str, path: str) -> None:
    bob = principal(world, "bob@example.com")
    with pytest.raises(WorldError) as err:
        world.authorize_proxy(bob, "acme/production", method, path)
    assert err.value.status == 403
    assert "developer role" in err.value.message


def test_developer_role_may_read_and_other_roles_may_write(world: World) -> None:
    bob = principal(world, "bob@example.com")
    assert world.authorize_proxy(bob, "acme/production", "GET", "/system")
    assert world.authorize_proxy(bob, "acme/production", "PUT", "/apps/web/parameters")
    world.add_member("acme", "bob@example.com", "operator")
    assert world.authorize_proxy(bob, "acme/production", "PUT", "/system")
    alice = principal(world, "alice@example.com")
    assert world.authorize_proxy(alice, "acme/production", "POST", "/apps/production/parameters")


# ------------------------------------------------------------ deploy keys


def test_deploy_key_identity_and_listing(world: World) -> None:
    key = world.deploy_keys()[0].key
    assert world.deploy_key("acme/ci") == key
    assert world.key_identity(key) == "deploy:acme/ci#1"
    with pytest.raises(WorldError) as err:
        world.deploy_key("acme/nope")
    assert err.value.status == 404
    deploy = world.authenticate(key)
    assert deploy is not None
    assert refs(world.racks_for(deploy)) == ["acme/production", "acme/staging"]


def test_deploy_key_limited_to_build_and_deploy_routes(world: World) -> None:
    deploy = world.authenticate(world.deploy_keys()[0].key)
    assert deploy is not None
    for method, path in [
        ("POST", "/apps/web/builds"),
        ("GET", "/apps/web/builds/B123/logs"),
        ("POST", "/apps/web/releases/R1/promote"),
        ("POST", "/apps/web/objects/tmp/source.tgz"),
        ("GET", "/system?x=1"),
    ]:
        assert world.authorize_proxy(deploy, "acme/production", method, path)
    for method, path in [
        ("PUT", "/system"),
        ("GET", "/apps"),
        ("DELETE", "/apps/web"),
        ("POST", "/apps/production/parameters"),
        ("GET", "/apps/web/environment"),
    ]:
        with pytest.raises(WorldError) as err:
            world.authorize_proxy(deploy, "acme/production", method, path)
        assert err.value.status == 403
        assert "build and deploy" in err.value.message
    with pytest.raises(WorldError) as err:
        world.authorize_proxy(deploy, "acme-eu/staging", "POST", "/apps/web/builds")
    assert err.value.status == 403


def test_deploy_key_routes_are_data() -> None:
    assert all(isinstance(m, str) and re.compile(p) for m, p in DEPLOY_KEY_ROUTES)


def test_deploy_key_conflict_and_removal(world: World) -> None:
    with pytest.raises(WorldError) as err:
        world.add_deploy_key("acme", "ci")
    assert err.value.status == 409
    key = world.add_deploy_key("startup", "ci")
    assert world.key_identity(key) == "deploy:startup/ci#1"
    world.remove_deploy_key("startup", "ci")
    assert world.authenticate(key) is None
    assert world.key_identity(key) == "deploy:startup/ci#1"  # old keys keep their identity
    with pytest.raises(WorldError):
        world.remove_deploy_key("startup", "ci")


# ------------------------------------------------------------------ keyroll


def test_roll_rack_key_window_under_freezegun() -> None:
    with freeze_time("2024-05-01 12:00:00") as frozen:
        world = load_world("standard", hosts=host_for)
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


# --------------------------------------------------------- identities, redaction


def test_key_identities(world: World) -> None:
    assert world.key_identity("") == "empty"
    assert world.key_identity(None) == "empty"
    digest = hashlib.sha256(b"who-knows").hexdigest()[:8]
    assert world.key_identity("who-knows") == f"unknown:{digest}"
    assert world.key_identity(world.user_key("bob@example.com")) == "user:bob@example.com#1"
    assert world.key_identity(world.rack_key("acme-eu/staging")) == "rack:acme-eu/staging#1"


def test_secrets_lists_every_key_ever_issued(world: World) -> None:
    before = world.secrets()
    old_user = world.user_key("alice@example.com")
    new_user = world.regenerate_user_key("alice@example.com")
    world.roll_rack_key("acme/production")
    rolled = world.vault.get("acme/production")
    after = world.secrets()
    assert after[: len(before)] == before
    assert {old_user, new_user, rolled} <= set(after)
    assert len(set(after)) == len(after)
    # 5 users + 6 racks + 1 deploy key in the standard world.
    assert len(before) == 12


def test_redact_replaces_every_known_key(world: World) -> None:
    old = world.user_key("alice@example.com")
    new = world.regenerate_user_key("alice@example.com")
    rack = world.rack_key("acme/production")
    text = f"auth {old} then {new}; rack={rack}; other=not-a-key"
    redacted = world.redact(text)
    assert redacted == (
        "auth <user:alice@example.com#1> then <user:alice@example.com#2>; "
        "rack=<rack:acme/production#1>; other=not-a-key"
    )
    for key in world.secrets():
        assert key not in redacted


def test_redact_catches_basic_auth_form(world: World) -> None:
    import base64

    key = world.user_key("bob@example.com")
    header = "Authorization: Basic " + base64.b64encode(f"convox:{key}".encode()).decode()
    assert world.redact(header) == "Authorization: Basic <basic:user:bob@example.com#1>"


def test_redact_on_empty_world() -> None:
    assert World().redact("nothing to hide") == "nothing to hide"


def test_world_reprs_do_not_leak_keys(world: World) -> None:
    text = repr(world.users()) + repr(world.racks()) + repr(world.deploy_keys())
    for key in world.secrets():
        assert key not in text
