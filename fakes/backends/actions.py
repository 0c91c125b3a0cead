"""The one table of world actions: everything a check may do to its world or ask of it.

Each world action (regenerate a user's key, roll a rack key, name a key, ...)
is one entry here: its parameters, whether it changes the world (so a replay
must record it), which argument is a key the check made up, and its routes on
serve's admin API. From this table:

* serve's admin API routes and dispatches its requests
  (:mod:`fakes.backends.admin_api`) and the remote backend's forwarding
  methods are made (:mod:`fakes.backends.remote_world`), so an ordinary new
  action needs no edit in either;
* a replay records exactly the actions that change the world, and draws a
  fresh key for each argument a check made up (:mod:`conformance.replay`);
* the ``WorldHandle`` Protocol, ``LocalWorld`` and ``World`` stay written by
  hand, for their docstrings and types, and tests/fakes/test_actions.py holds
  their names, parameters and types to this table.

Pure data: nothing here imports the rest of the fakes, so every layer may read it.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

#: How a key argument came to be: ``always`` made up by the check (a new rack
#: password), or made up ``unless known`` to the world (a key typed into Console).
MadeUp = Literal["always", "unless known"]

#: The placeholder that spans two path segments, ``org/name``.
REF_PLACEHOLDER = "ref"


@dataclass(frozen=True)
class Param:
    """One parameter of a world action.

    ``type`` is its annotation as the Protocol writes it. ``wire`` is its field
    in an admin API request body when the route's path does not carry it (the
    parameter's own name unless told). ``made_up`` marks a key the check chose.
    """

    name: str
    type: str = "str"
    wire: str = ""
    made_up: MadeUp | None = None
    optional: bool = False

    @property
    def field(self) -> str:
        return self.wire or self.name


@dataclass(frozen=True)
class Route:
    """An admin API route of one world, e.g. ``POST racks/{ref}/roll``.

    ``{name}`` is a parameter carried in the path: one segment, except
    ``{ref}``, which is the rack or deploy key ``org/name`` and spans two.
    """

    method: str
    path: str

    def segments(self) -> tuple[str, ...]:
        """The path as the admin API matches it: ``*`` for each placeholder segment."""
        out: list[str] = []
        for part in self.path.split("/"):
            if part == "{" + REF_PLACEHOLDER + "}":
                out += ["*", "*"]
            else:
                out.append("*" if part.startswith("{") else part)
        return tuple(out)

    def placeholders(self) -> tuple[str, ...]:
        """The parameters this route's path carries, in order."""
        return tuple(part[1:-1] for part in self.path.split("/") if part.startswith("{"))

    def path_values(self, parts: list[str]) -> dict[str, str]:
        """The placeholders' values from the ``*`` segments of a matched path."""
        values: dict[str, str] = {}
        rest = list(parts)
        for name in self.placeholders():
            count = 2 if name == REF_PLACEHOLDER else 1
            values[name] = "/".join(rest[:count])
            del rest[:count]
        return values

    def fill(self, values: Mapping[str, str]) -> str:
        """The path with each placeholder's value quoted in (``@`` left readable)."""
        parts = []
        for part in self.path.split("/"):
            if part.startswith("{"):
                value = values[part[1:-1]]
                pieces = value.partition("/")[::2] if part[1:-1] == REF_PLACEHOLDER else (value,)
                part = "/".join(urllib.parse.quote(piece, safe="@") for piece in pieces)
            parts.append(part)
        return "/".join(parts)


@dataclass(frozen=True)
class WorldAction:
    """One thing a check may do to or ask of its world (a ``WorldHandle`` member).

    ``routes``: the admin API routes that serve it, the remote backend using
    the first. ``answer``: the fields of the admin API's JSON answer, in order,
    each ``name`` (a parameter of that name) or ``name=source``, the source being
    a parameter, ``result`` (what the action returned) or a fact the admin API
    reads after the call (``rack_status``, ``rack_update_seconds``,
    ``clock_offset``). ``admin_generated``/``remote_generated`` are False where
    that side is written by hand (the reason is in ``by_hand``); ``on_model``
    is False for what ``World`` itself does not have (addresses, the clock,
    faults, a handle's lifetime).
    """

    name: str
    params: tuple[Param, ...] = ()
    returns: str = "None"
    changes_world: bool = False
    routes: tuple[Route, ...] = ()
    answer: tuple[str, ...] = ()
    admin_generated: bool = True
    remote_generated: bool = True
    on_model: bool = True
    by_hand: str = ""

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)

    def body(self, route: Route, values: Mapping[str, Any]) -> dict[str, Any] | None:
        """The JSON request body for ``values`` on ``route``: the parameters its path
        does not carry, under their wire names; None when there are none."""
        in_path = set(route.placeholders())
        fields = {p.field: values[p.name] for p in self.params if p.name not in in_path}
        return fields or None

    def result_field(self) -> str | None:
        """The answer field that holds what the action returned, if any."""
        for field in self.answer:
            name, _, source = field.partition("=")
            if source == "result":
                return name
        return None


_EMAIL = Param("email")
_REF = Param("ref")
_ORG = Param("org")
_LOCAL = "answered by the handle itself, from the addresses its world was made with"
_LIFETIME = "the handle's own lifetime: serve deletes a world on DELETE /worlds/<id>"

ACTIONS: tuple[WorldAction, ...] = (
    WorldAction(
        "host", (Param("server"), Param("form", optional=True)), returns="str",
        admin_generated=False, remote_generated=False, on_model=False, by_hand=_LOCAL,
    ),
    WorldAction(
        "resolve_map", returns="str",
        admin_generated=False, remote_generated=False, on_model=False, by_hand=_LOCAL,
    ),
    WorldAction(
        "user_key", (_EMAIL,), returns="str",
        routes=(Route("GET", "users/{email}/key"),), answer=("email", "key=result"),
    ),
    WorldAction(
        "rack_key", (_REF,), returns="str",
        routes=(Route("GET", "racks/{ref}/key"),), answer=("ref", "key=result"),
    ),
    WorldAction(
        "deploy_key", (_REF,), returns="str",
        routes=(Route("GET", "deploy-keys/{ref}/key"),), answer=("ref", "key=result"),
    ),
    WorldAction(
        "key_identity", (Param("key", "str | None"),), returns="str",
        routes=(Route("POST", "identity"),), answer=("identity=result",),
        remote_generated=False,
        by_hand="the remote handle remembers identities, and answers from the final "
                "secrets once its world is closed",
    ),
    WorldAction(
        "regenerate_user_key", (_EMAIL,), returns="str", changes_world=True,
        routes=(Route("POST", "users/{email}/regenerate-key"),), answer=("email", "key=result"),
    ),
    WorldAction(
        "roll_rack_key", (_REF,), changes_world=True,
        routes=(Route("POST", "racks/{ref}/roll"),),
        answer=("ref", "status=rack_status", "update_seconds=rack_update_seconds"),
    ),
    WorldAction(
        "set_rack_password", (_REF, Param("new", wire="password", made_up="always")),
        changes_world=True, routes=(Route("POST", "racks/{ref}/password"),), answer=("ref",),
    ),
    WorldAction(
        "add_rack_to_console", (_REF, Param("key", made_up="unless known")),
        changes_world=True, routes=(Route("POST", "racks/{ref}/console"),), answer=("ref",),
    ),
    WorldAction(
        "remove_rack_from_console", (_REF,), changes_world=True,
        routes=(Route("DELETE", "racks/{ref}/console"),), answer=("ref",),
    ),
    WorldAction(
        "add_member", (_ORG, _EMAIL, Param("role")), changes_world=True,
        routes=(Route("POST", "orgs/{org}/members"),),
        answer=("organization=org", "email", "role"),
    ),
    WorldAction(
        "remove_member", (_ORG, _EMAIL), changes_world=True,
        routes=(Route("DELETE", "orgs/{org}/members/{email}"),
                Route("DELETE", "orgs/{org}/members")),
        answer=("organization=org", "email"),
    ),
    WorldAction(
        "set_plan", (_ORG, Param("plan")), changes_world=True,
        routes=(Route("POST", "orgs/{org}/plan"),), answer=("organization=org", "plan"),
    ),
    WorldAction(
        "secrets", returns="list[str]", routes=(Route("GET", "secrets"),),
        admin_generated=False, remote_generated=False,
        by_hand="only test worlds serve it, as key -> identity; the remote handle keeps "
                "the last answer once its world is closed",
    ),
    WorldAction(
        "finish_rack_updates", changes_world=True,
        routes=(Route("POST", "finish-rack-updates"),), answer=("clock_offset",),
    ),
    WorldAction(
        "advance", (Param("seconds", "float"),), changes_world=True, on_model=False,
        routes=(Route("POST", "advance"),), answer=("clock_offset",),
    ),
    WorldAction(
        "inject", (Param("fault", "Fault"),), returns="FaultHandle", changes_world=True,
        routes=(Route("POST", "faults"),), admin_generated=False, remote_generated=False,
        on_model=False,
        by_hand="a fault travels as its dict, and its handle's counts outlive the world",
    ),
    WorldAction(
        "clear_faults", changes_world=True, routes=(Route("DELETE", "faults"),),
        admin_generated=False, remote_generated=False, on_model=False,
        by_hand="the answer keeps the cleared faults' final counts for their handles",
    ),
    WorldAction(
        "close", admin_generated=False, remote_generated=False, on_model=False,
        by_hand=_LIFETIME,
    ),
)

BY_NAME: dict[str, WorldAction] = {action.name: action for action in ACTIONS}


def changing_actions() -> frozenset[str]:
    """The actions that change the world: a replay records these, and only these."""
    return frozenset(action.name for action in ACTIONS if action.changes_world)


def made_up_key_arguments() -> dict[str, tuple[int, MadeUp]]:
    """Action -> (position of the argument that is a key the check chose, how it came to be)."""
    found: dict[str, tuple[int, MadeUp]] = {}
    for action in ACTIONS:
        for index, param in enumerate(action.params):
            if param.made_up is not None:
                found[action.name] = (index, param.made_up)
    return found


__all__ = ["ACTIONS", "BY_NAME", "MadeUp", "Param", "Route", "WorldAction",
           "changing_actions", "made_up_key_arguments"]
