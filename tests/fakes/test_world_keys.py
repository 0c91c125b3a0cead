"""Unit tests of the world model's keys: the vault, authentication, identities, redaction.

No sockets: keys are held encrypted, named by identity (``user:alice@example.com#2``)
and replaced by that name wherever a report or journal would show them.
"""

from __future__ import annotations

import hashlib

import pytest

from fakes.model.vault import Vault
from fakes.model.world import World
from tests.fakes.world_support import standard_world


# Overrides the conftest's ``world`` (a served LocalWorld): these tests need the model alone.
@pytest.fixture
def world() -> World:
    return standard_world()


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
