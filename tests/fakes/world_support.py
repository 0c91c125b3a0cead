"""The standard world as the world model's unit tests use it, and two questions they ask of it.

No sockets: the world is the model alone, its racks' hosts named after their
refs (``acme/staging`` is ``acme-staging.convox.test``).
"""

from __future__ import annotations

from fakes.model.world import Principal, World
from fakes.model.worldfile import load_world


def host_for(ref: str) -> str:
    """The host a rack of the standard world answers on in these tests."""
    return ref.replace("/", "-") + ".convox.test"


def standard_world() -> World:
    """A fresh standard world (the named world the checks use), model only."""
    return load_world("standard", hosts=host_for)


def refs(listing: list[dict]) -> list[str]:
    """``org/name`` of each rack in a ``racks_for`` listing, in order."""
    return [f"{r['organization']['name']}/{r['name']}" for r in listing]


def principal(world: World, email: str) -> Principal:
    """Who a user's Console key authenticates as."""
    found = world.authenticate(world.user_key(email))
    assert found is not None
    return found
