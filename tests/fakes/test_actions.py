"""The one table of world actions holds every place that writes a world action by hand.

`WorldHandle`, `LocalWorld` and `World` are written by hand (for their
docstrings and types); the admin API's routes and the remote backend's
forwarding methods are made from the table. These tests hold each to the
table: the same names, parameters and types, so a new action cannot be
half-added.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from fakes.backends.actions import ACTIONS, BY_NAME, Route, changing_actions, made_up_key_arguments
from fakes.backends.admin_api import FACTS, Admin
from fakes.backends.in_process import LocalWorld, WorldHandle
from fakes.backends.remote_world import RemoteWorld
from fakes.model.world import World

NAMES = [action.name for action in ACTIONS]


def shape(function: Callable[..., Any]) -> list[tuple[str, str, bool]]:
    """(name, annotation, has a default) of each parameter but ``self``."""
    return [(p.name, str(p.annotation), p.default is not inspect.Parameter.empty)
            for p in inspect.signature(function).parameters.values() if p.name != "self"]


def table_shape(name: str) -> list[tuple[str, str, bool]]:
    return [(p.name, p.type, p.optional) for p in BY_NAME[name].params]


def protocol_members() -> set[str]:
    return {name for name, value in vars(WorldHandle).items()
            if callable(value) and not name.startswith("_")}


def test_the_protocol_has_exactly_the_tables_actions() -> None:
    assert protocol_members() == set(NAMES)
    assert len(NAMES) == len(set(NAMES))


@pytest.mark.parametrize("name", NAMES)
def test_protocol_and_local_world_match_the_table(name: str) -> None:
    action = BY_NAME[name]
    for side in (WorldHandle, LocalWorld):
        method = getattr(side, name)
        assert shape(method) == table_shape(name), f"{side.__name__}.{name}"
        assert inspect.signature(method).return_annotation == action.returns, side.__name__


@pytest.mark.parametrize("name", [a.name for a in ACTIONS if a.on_model])
def test_the_model_has_the_actions_it_owns(name: str) -> None:
    assert shape(getattr(World, name)) == table_shape(name)
    assert inspect.signature(getattr(World, name)).return_annotation == BY_NAME[name].returns


def test_the_model_lacks_exactly_what_the_table_says() -> None:
    assert {a.name for a in ACTIONS if not hasattr(World, a.name)} == {
        a.name for a in ACTIONS if not a.on_model
    }


@pytest.mark.parametrize("name", NAMES)
def test_the_remote_world_has_every_action(name: str) -> None:
    method = getattr(RemoteWorld, name)
    assert [p[0] for p in shape(method)] == [p[0] for p in table_shape(name)]
    generated = getattr(method, "world_action", None) is BY_NAME[name]
    assert generated == BY_NAME[name].remote_generated


def test_every_hand_written_side_says_why_and_answers_name_known_sources() -> None:
    for action in ACTIONS:
        assert action.by_hand or (action.admin_generated and action.remote_generated), action
        if action.remote_generated or action.admin_generated:
            assert action.routes, action.name
        for field in action.answer:
            source = field.partition("=")[2] or field
            assert source in {p.name for p in action.params} | {"result", *FACTS}, field


def test_the_admin_api_serves_every_route_of_the_table(world: LocalWorld) -> None:
    admin = Admin(world, "standard", "127.0.0.1:{port}", "ca.pem", reveal_keys=True)
    sample = {"email": "alice@example.com", "ref": "acme/production", "org": "acme"}
    for action in ACTIONS:
        for route in action.routes:
            path = "/" + route.fill({name: sample[name] for name in route.placeholders()})
            status, answer = admin.handle(route.method, path, "", None)
            assert status not in (404, 405) or "admin route" not in str(answer), (route, answer)
            assert not (status == 405 and "not allowed" in str(answer)), (route, answer)


def test_routes_fill_and_read_back_their_placeholders() -> None:
    route = Route("DELETE", "orgs/{org}/members/{email}")
    assert route.segments() == ("orgs", "*", "members", "*")
    assert route.fill({"org": "a b", "email": "x/y@z"}) == "orgs/a%20b/members/x%2Fy@z"
    rack = Route("POST", "racks/{ref}/roll")
    assert rack.segments() == ("racks", "*", "*", "roll")
    assert rack.fill({"ref": "acme/pro duction"}) == "racks/acme/pro%20duction/roll"
    assert rack.path_values(["acme", "production"]) == {"ref": "acme/production"}


def test_a_replay_records_the_same_actions_as_before_the_table() -> None:
    assert changing_actions() == {
        "regenerate_user_key", "roll_rack_key", "set_rack_password", "add_rack_to_console",
        "remove_rack_from_console", "add_member", "remove_member", "set_plan",
        "finish_rack_updates", "advance", "inject", "clear_faults",
    }
    assert made_up_key_arguments() == {
        "set_rack_password": (1, "always"), "add_rack_to_console": (1, "unless known"),
    }
