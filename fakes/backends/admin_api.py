"""`serve`'s JSON admin API for one world: its routes, mostly made from the action table.

A world living in a ``convox-conformance serve`` process is changed from
outside (regenerate a key, roll a rack key, change plans, inject faults)
through the same model the Python API drives, so this module maps JSON
requests onto :class:`fakes.backends.in_process.LocalWorld` calls. The routes
of the world actions, their arguments and their answers come from
:mod:`fakes.backends.actions`; what is written here by hand is what no table
says: the world's description, its journal and faults, and which keys a world
may hand out. Rack keys Console holds are never served for the world serve
prints: only the keys a user would really know (their Console key, the key of a
rack they installed themselves, deploy keys) appear.

A *test world* (``POST /worlds``, see :mod:`fakes.backends.admin_server`) is
served by an ``Admin`` with ``reveal_keys``: it adds what a check needs and a
human never should, the key a rack accepts now and every key the world ever
issued (the suite logs in to racks directly and redacts its reports with
them). No HTTP in here, so the routes are tested without a server.
"""

from __future__ import annotations

import functools
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from fakes.backends.actions import ACTIONS, Param, Route, WorldAction
from fakes.backends.in_process import LocalWorld
from fakes.http.faults import Fault
from fakes.http.journal import FIELDS as JOURNAL_FIELDS
from fakes.model.entities import Refusal
from fakes.model.world import World

#: A route's handler: the path's ``*`` segments, the query string and the JSON body.
Handler = Callable[[list[str], str, Any], Any]

#: What an answer may report besides the call's arguments and result, read after the call.
FACTS: dict[str, Callable[[World, Mapping[str, Any]], Any]] = {
    "rack_status": lambda model, values: model.rack_status(values["ref"]),
    "rack_update_seconds": lambda model, values: model.rack_update_seconds,
    "clock_offset": lambda model, values: model.clock.offset,
}


class AdminError(Refusal):
    """A refused admin request, answered as `{"error": ...}` with `status`."""


class Admin:
    """The admin API's routes over one world (no HTTP in here, so it is easy to test)."""

    def __init__(
        self, world: LocalWorld, name: str, form: str, ca: str, *, reveal_keys: bool = False
    ) -> None:
        self.world = world
        self.name = name
        self.form = form
        self.ca = ca
        #: Test worlds (POST /worlds) also serve rack keys and every secret; see the docstring.
        self.reveal_keys = reveal_keys
        #: Which keys this world may hand out, checked before the action runs.
        self._guards: dict[str, Callable[[str], None]] = {
            "rack_key": self._rack_key_guard, "deploy_key": self._deploy_key_guard,
        }
        self._routes = self._route_table()

    def _route_table(self) -> list[tuple[str, tuple[str, ...], Handler]]:
        routes: list[tuple[str, tuple[str, ...], Handler]] = [
            ("GET", ("world",), lambda args, query, body: self.snapshot()),
            ("GET", ("hosts",), lambda args, query, body: self.hosts()),
            ("GET", ("journal",), lambda args, query, body: self.journal(query)),
            ("GET", ("faults",), lambda args, query, body: self.faults()),
            ("GET", ("faults", "*"), lambda args, query, body: self.fault(*args)),
            ("DELETE", ("faults", "*"), lambda args, query, body: self.remove_fault(*args)),
        ]
        # The actions the table leaves to this module (actions.WorldAction.by_hand says why).
        by_hand: dict[str, Handler] = {
            "secrets": lambda args, query, body: self.secrets(),
            "inject": lambda args, query, body: self.add_fault(body),
            "clear_faults": lambda args, query, body: self.clear_faults(),
        }
        for action in ACTIONS:
            for route in action.routes:
                handler = (functools.partial(self._act, action, route)
                           if action.admin_generated else by_hand[action.name])
                routes.append((route.method, route.segments(), handler))
        return routes

    def handle(self, method: str, path: str, query: str, body: Any) -> tuple[int, Any]:
        """Route one request; returns (status, JSON-ready answer)."""
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/") if p]
        path_matched = False
        for route_method, pattern, handler in self._routes:
            if len(pattern) != len(parts):
                continue
            if any(p != "*" and p != part for p, part in zip(pattern, parts, strict=True)):
                continue
            path_matched = True
            if route_method != method:
                continue
            args = [part for p, part in zip(pattern, parts, strict=True) if p == "*"]
            try:
                return 200, handler(args, query, body)
            except Refusal as exc:  # the world's, or this API's own
                return exc.status, {"error": exc.message}
            except (ValueError, TypeError, KeyError) as exc:
                return 400, {"error": str(exc).strip("'\"")}
        if path_matched:
            return 405, {"error": f"{method} is not allowed on {path}"}
        return 404, {"error": f"no admin route {method} {path}"}

    # -- the world actions -----------------------------------------------

    def _act(self, action: WorldAction, route: Route, args: list[str], query: str,
             body: Any) -> dict[str, Any]:
        """One world action: its arguments from the path and the body, then its answer."""
        values: dict[str, Any] = route.path_values(args)
        for param in action.params:
            if param.name not in values:
                values[param.name] = _body_value(param, route, body)
        if action.name in self._guards:
            self._guards[action.name](values["ref"])
        result = getattr(self.world, action.name)(*(values[p.name] for p in action.params))
        answer: dict[str, Any] = {}
        for field in action.answer:
            name, _, source = field.partition("=")
            source = source or name
            if source == "result":
                answer[name] = result
            elif source in values:
                answer[name] = values[source]
            else:
                answer[name] = FACTS[source](self.world.world, values)
        return answer

    def _rack_key_guard(self, ref: str) -> None:
        if not self.reveal_keys and self.world.world.rack(ref).console != "none":
            raise AdminError(403, f"{ref}'s key stays with Console; test worlds "
                                  "(POST /worlds) serve rack keys")

    def _deploy_key_guard(self, ref: str) -> None:
        if not self.reveal_keys:
            raise AdminError(403, f"deploy key {ref} is a secret; test worlds "
                                  "(POST /worlds) serve deploy keys")

    # -- reading ---------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The world as an operator may see it: never a key Console holds for a rack."""
        model = self.world.world
        racks = []
        for rack in model.racks():
            entry: dict[str, Any] = {
                "ref": rack.ref,
                "host": self.world.host(rack.ref, self.form),
                "console": rack.console,
                "status": model.rack_status(rack.ref),
                "apps": list(rack.apps),
            }
            if rack.console == "none":
                entry["key"] = model.rack_key(rack.ref)  # installed by CLI: the user has it
            else:
                entry["console_key"] = model.console_key_masked(rack.ref)
            racks.append(entry)
        return {
            "world": self.name,
            "console": self.world.host("console", self.form),
            "guard": self.world.host("guard", self.form),
            "resolve_map": self.world.resolve_map(),
            "ca": self.ca,
            "clock_offset": model.clock.offset,
            "rack_update_seconds": model.rack_update_seconds,
            "users": [
                {"email": u.email, "id": u.id, "key": u.key, "personal_org": u.personal_org}
                for u in model.users()
            ],
            "organizations": [
                {
                    "name": o.name,
                    "plan": o.plan,
                    "owner": o.owner,
                    "personal": o.personal,
                    "members": dict(o.members),
                }
                for o in model.organizations()
            ],
            "racks": racks,
            "deploy_keys": [{"ref": d.ref, "key": d.key} for d in model.deploy_keys()],
        }

    def hosts(self) -> dict[str, Any]:
        """Where each server of the world listens: what a remote WorldHandle needs."""
        servers = self.world.servers()
        return {
            "ports": {server: self.world.port(server) for server in servers},
            "hosts": {server: self.world.host(server, self.form) for server in servers},
            "resolve_map": self.world.resolve_map(),
        }

    def journal(self, query: str) -> list[dict[str, Any]]:
        since = urllib.parse.parse_qs(query).get("since", ["0"])[0]
        if not since.isdigit():
            raise AdminError(400, "since must be a journal position (a number)")
        return [_entry_json(e) for e in self.world.journal.entries(since=int(since))]

    def faults(self) -> list[dict[str, Any]]:
        return [_handle_json(h) for h in self.world.faults.handles()]

    def fault(self, ident: str) -> dict[str, Any]:
        handle = self.world.faults.handle(int(ident)) if ident.isdigit() else None
        if handle is None:
            raise AdminError(404, f"no fault {ident}")
        return _handle_json(handle)

    def secrets(self) -> dict[str, str]:
        """Every key the world ever issued (oldest first) with its identity, for redaction."""
        if not self.reveal_keys:
            raise AdminError(403, "only test worlds (POST /worlds) serve their secrets")
        return {key: self.world.key_identity(key) for key in self.world.secrets()}

    # -- faults ----------------------------------------------------------

    def add_fault(self, body: Any) -> dict[str, Any]:
        handle = self.world.inject(Fault.from_dict(request_object(body)))
        return {"id": handle.id, **_fault_json(handle.fault)}

    def clear_faults(self) -> dict[str, Any]:
        """Lift every fault; the answer keeps their final counts (a check asks `fired` later)."""
        cleared = [_handle_json(h) for h in self.world.faults.handles()]
        self.world.clear_faults()
        return {"cleared": cleared}

    def remove_fault(self, ident: str) -> dict[str, Any]:
        handle = self.world.faults.handle(int(ident)) if ident.isdigit() else None
        if handle is None:
            raise AdminError(404, f"no fault {ident}")
        handle.remove()
        return _handle_json(handle)


def request_object(body: Any) -> dict[str, Any]:
    """A request's JSON body as an object (no body: an empty one); else a 400."""
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise AdminError(400, "the request body must be a JSON object")
    return body


def _body_value(param: Param, route: Route, body: Any) -> Any:
    """One argument from the request body, checked against its type; a refusal names the
    route (``advance needs {"seconds": <number>}``)."""
    value = request_object(body).get(param.field)
    if param.type == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise AdminError(400, f'{route.path} needs {{"{param.field}": <number>}}')
        return float(value)
    if param.type == "str | None":
        if value is not None and not isinstance(value, str):
            raise AdminError(400, f'{route.path} needs {{"{param.field}": <string or null>}}')
        return value
    if not isinstance(value, str) or not value:
        raise AdminError(400, f"missing string field {param.field!r}")
    return value


def _fault_json(fault: Fault) -> dict[str, Any]:
    data = fault.to_dict()
    if isinstance(data.get("body"), bytes):
        data["body"] = data["body"].decode("utf-8", errors="replace")
    return data


def _handle_json(handle: Any) -> dict[str, Any]:
    return {"id": handle.id, "fired": handle.fired, "active": handle.active,
            **_fault_json(handle.fault)}


def _entry_json(entry: Any) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in JOURNAL_FIELDS}
