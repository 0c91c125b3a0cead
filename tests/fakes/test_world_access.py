"""Unit tests of the world model's access rules: users, organizations, plans, roles, deploy keys.

No sockets, no sleeping: who may join which organization, who reaches which
rack through Console, and what a role or a deploy key may send there.
"""

from __future__ import annotations

import re

import pytest

from fakes.model.world import DEPLOY_KEY_ROUTES, KEY_LENGTH, World, WorldError
from tests.fakes.world_support import principal, refs, standard_world


# Overrides the conftest's ``world`` (a served LocalWorld): these tests need the model alone.
@pytest.fixture
def world() -> World:
    return standard_world()


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
