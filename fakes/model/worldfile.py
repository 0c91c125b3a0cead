"""World files: TOML descriptions of a world, turned into a ``World``.

Checks and ``convox-conformance serve --world`` describe situations as data.
A mistake in such a file must stop everything with one line naming the file
and the field, so the schema is checked by hand rather than by a library
whose messages would need decoding.

Format::

    [settings]                       # optional
    rack_update_seconds = 300
    console_requires_session = false # Console challenges users for a second-factor session

    [[users]]
    email = "alice@example.com"      # also creates the personal organization "alice"

    [[organizations]]
    name = "acme"
    plan = "pro"                     # developer | pro | enterprise
    owner = "alice@example.com"
    members = [{ email = "bob@example.com", role = "developer" }]

    [[racks]]
    organization = "acme"
    name = "production"
    console = "installed_via_console"  # or added_by_hand, none (default installed_via_console)
    apps = ["web"]

    [[deploy_keys]]
    organization = "acme"
    name = "ci"
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from fakes.model.clock import Clock
from fakes.model.world import CONSOLE_MODES, CURRENT_API, PLANS, ROLES, World, WorldError

TOP_LEVEL = ("settings", "users", "organizations", "racks", "deploy_keys")
SETTINGS_FIELDS = ("rack_update_seconds", "console_requires_session")
USER_FIELDS = ("email",)
ORG_FIELDS = ("name", "plan", "owner", "members")
MEMBER_FIELDS = ("email", "role")
RACK_FIELDS = ("organization", "name", "console", "apps")
DEPLOY_KEY_FIELDS = ("organization", "name")


class WorldFileError(ValueError):
    """A bad world file; the message is one line: ``<file>: <field>: <problem>``."""


#: The world a check gets unless it asks for another, and the one serve prints.
DEFAULT_WORLD = "standard"


def world_names() -> list[str]:
    """Names of the worlds shipped in ``fakes/model/worlds``."""
    folder = resources.files("fakes.model").joinpath("worlds")
    return sorted(
        entry.name.removesuffix(".toml")
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    )


def _read(path_or_name: str | Path) -> tuple[str, str]:
    """(source label, text) for a path, or for a named world shipped with the package."""
    path = Path(path_or_name)
    looks_like_path = (
        isinstance(path_or_name, Path) or path.suffix == ".toml" or "/" in str(path_or_name)
    )
    if looks_like_path:
        try:
            return str(path), path.read_text(encoding="utf-8")
        except OSError as exc:
            raise WorldFileError(f"{path}: cannot read world file: {exc.strerror}") from None
    name = str(path_or_name)
    resource = resources.files("fakes.model").joinpath("worlds").joinpath(f"{name}.toml")
    if not resource.is_file():
        known = ", ".join(world_names())
        raise WorldFileError(f"{name}: no world of that name (known: {known})")
    return f"{name}.toml", resource.read_text(encoding="utf-8")


class _Checker:
    """Hand-rolled schema checks that name the file and field on failure."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> WorldFileError:
        return WorldFileError(f"{self.source}: {where}: {problem}")

    def table(self, value: Any, where: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"must be a table, not {type(value).__name__}")
        for name in value:
            if name not in allowed:
                raise self.fail(
                    f"{where}.{name}" if where else name,
                    f"unknown field (expected one of {', '.join(allowed)})",
                )
        return value

    def array(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(where, f"must be an array, not {type(value).__name__}")
        return value

    def string(
        self,
        table: dict[str, Any],
        name: str,
        where: str,
        choices: tuple[str, ...] | None = None,
        default: str | None = None,
    ) -> str:
        field_where = f"{where}.{name}"
        if name not in table:
            if default is not None:
                return default
            raise self.fail(where, f"missing field {name!r}")
        value = table[name]
        if not isinstance(value, str):
            raise self.fail(field_where, f"must be a string, not {type(value).__name__}")
        if not value:
            raise self.fail(field_where, "must not be empty")
        if choices is not None and value not in choices:
            raise self.fail(field_where, f"{value!r} is not one of {', '.join(choices)}")
        return value


def load_world(
    path_or_name: str | Path,
    hosts: Callable[[str], str],
    clock: Clock | None = None,
    rack_api: str = CURRENT_API,
) -> World:
    """Build a World from a file path or a shipped world name; ``hosts(ref)`` names rack hosts.

    ``rack_api`` is the generation its racks speak: the CLI's, not the world file's.
    """
    source, text = _read(path_or_name)
    check = _Checker(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WorldFileError(f"{source}: invalid TOML: {exc}") from None
    check.table(data, "", TOP_LEVEL)

    settings = check.table(data.get("settings", {}), "settings", SETTINGS_FIELDS)
    seconds: float = 300.0
    if "rack_update_seconds" in settings:
        value = settings["rack_update_seconds"]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise check.fail(
                "settings.rack_update_seconds", f"must be a number >= 0, not {value!r}"
            )
        seconds = float(value)
    sessions = settings.get("console_requires_session", False)
    if not isinstance(sessions, bool):
        raise check.fail("settings.console_requires_session",
                         f"must be true or false, not {sessions!r}")
    world = World(clock=clock, rack_update_seconds=seconds, console_requires_session=sessions,
                  rack_api=rack_api)

    def apply(where: str, action: Callable[..., object], *args: Any) -> None:
        try:
            action(*args)
        except WorldError as exc:
            raise check.fail(where, exc.message) from None

    users: set[str] = set()
    for i, raw in enumerate(check.array(data.get("users", []), "users")):
        where = f"users[{i}]"
        entry = check.table(raw, where, USER_FIELDS)
        email = check.string(entry, "email", where)
        apply(f"{where}.email", world.add_user, email)
        users.add(email)

    orgs = {org.name for org in world.organizations()}

    def known_organization(entry: dict[str, Any], where: str) -> str:
        org = check.string(entry, "organization", where)
        if org not in orgs:
            raise check.fail(f"{where}.organization", f"no organization {org!r}")
        return org

    for i, raw in enumerate(check.array(data.get("organizations", []), "organizations")):
        where = f"organizations[{i}]"
        entry = check.table(raw, where, ORG_FIELDS)
        name = check.string(entry, "name", where)
        plan = check.string(entry, "plan", where, choices=PLANS)
        owner = check.string(entry, "owner", where)
        if owner not in users:
            raise check.fail(f"{where}.owner", f"no user {owner!r} in [[users]]")
        apply(f"{where}.name", world.add_organization, name, plan, owner)
        orgs.add(name)
        for j, raw_member in enumerate(check.array(entry.get("members", []), f"{where}.members")):
            mwhere = f"{where}.members[{j}]"
            member = check.table(raw_member, mwhere, MEMBER_FIELDS)
            email = check.string(member, "email", mwhere)
            role = check.string(member, "role", mwhere, choices=ROLES)
            if email not in users:
                raise check.fail(f"{mwhere}.email", f"no user {email!r} in [[users]]")
            apply(mwhere, world.add_member, name, email, role)

    for i, raw in enumerate(check.array(data.get("racks", []), "racks")):
        where = f"racks[{i}]"
        entry = check.table(raw, where, RACK_FIELDS)
        org = known_organization(entry, where)
        name = check.string(entry, "name", where)
        console = check.string(
            entry, "console", where, choices=CONSOLE_MODES, default="installed_via_console"
        )
        apps = check.array(entry.get("apps", []), f"{where}.apps")
        for j, app in enumerate(apps):
            if not isinstance(app, str) or not app:
                raise check.fail(f"{where}.apps[{j}]", "must be a non-empty string")
        ref = f"{org}/{name}"
        host = hosts(ref)
        if not isinstance(host, str) or not host:
            raise check.fail(where, f"no host for rack {ref}")
        apply(f"{where}.name", world.add_rack, org, name, host, console, tuple(apps))

    for i, raw in enumerate(check.array(data.get("deploy_keys", []), "deploy_keys")):
        where = f"deploy_keys[{i}]"
        entry = check.table(raw, where, DEPLOY_KEY_FIELDS)
        org = known_organization(entry, where)
        name = check.string(entry, "name", where)
        apply(f"{where}.name", world.add_deploy_key, org, name)

    return world
