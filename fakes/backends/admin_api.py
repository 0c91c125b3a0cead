"""`serve`'s JSON admin API: one world's routes, the test worlds, and its HTTP server.

A world living in a ``convox-conformance serve`` process is changed from
outside (regenerate a key, roll a rack key, change plans, inject faults)
through the same model the Python API drives, so this module maps JSON
requests onto :class:`fakes.backends.in_process.LocalWorld` calls. Rack keys Console
holds are never served for the world serve prints: only the keys a user would
really know (their Console key, the key of a rack they installed themselves,
deploy keys) appear.

The same API also hands out fresh *test worlds* (``POST /worlds``), one per
conformance check, so the suite can run with ``--backend remote`` against
serve processes instead of in-process fakes (see fakes/backends/remote.py). A test
world's routes live under ``/worlds/<id>/`` and add what a check needs and a
human never should: the key a rack accepts now and every key the world ever
issued (the suite logs in to racks directly and redacts its reports with
them). ``GET /ca`` serves the CA certificate so a client on another machine
can trust the fakes. Kept apart from the ``serve`` command so the routes can
be tested (and served in a thread) without starting a process.
"""

from __future__ import annotations

import itertools
import json
import tempfile
import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from fakes.backends.in_process import InProcessBackend, LocalWorld
from fakes.http.faults import Fault
from fakes.http.journal import FIELDS as JOURNAL_FIELDS
from fakes.model.world import CURRENT_API, RACK_APIS, WorldError
from fakes.model.worldfile import WorldFileError

#: The world serve prints, and the one ``POST /worlds`` makes when given no name.
DEFAULT_WORLD = "standard"



class AdminError(Exception):
    """A refused admin request, answered as `{"error": ...}` with `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


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

    def handle(self, method: str, path: str, query: str, body: Any) -> tuple[int, Any]:
        """Route one request; returns (status, JSON-ready answer)."""
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/") if p]
        routes: list[tuple[str, list[str], Callable[..., Any]]] = [
            ("GET", ["world"], self.snapshot),
            ("GET", ["hosts"], self.hosts),
            ("GET", ["journal"], lambda: self.journal(query)),
            ("GET", ["faults"], self.faults),
            ("POST", ["faults"], lambda: self.add_fault(body)),
            ("DELETE", ["faults"], self.clear_faults),
            ("GET", ["faults", "*"], self.fault),
            ("DELETE", ["faults", "*"], self.remove_fault),
            ("GET", ["users", "*", "key"], self.user_key),
            ("POST", ["identity"], lambda: self.identity(body)),
            ("GET", ["racks", "*", "*", "key"], self.rack_key),
            ("GET", ["deploy-keys", "*", "*", "key"], self.deploy_key),
            ("GET", ["secrets"], self.secrets),
            ("POST", ["users", "*", "regenerate-key"], self.regenerate),
            ("POST", ["racks", "*", "*", "roll"], self.roll),
            ("POST", ["racks", "*", "*", "password"], lambda o, n: self.password(o, n, body)),
            ("POST", ["racks", "*", "*", "console"], lambda o, n: self.add_to_console(o, n, body)),
            ("DELETE", ["racks", "*", "*", "console"], self.remove_from_console),
            ("POST", ["advance"], lambda: self.advance(body)),
            ("POST", ["finish-rack-updates"], self.finish),
            ("POST", ["orgs", "*", "plan"], lambda o: self.plan(o, body)),
            ("POST", ["orgs", "*", "members"], lambda o: self.add_member(o, body)),
            ("DELETE", ["orgs", "*", "members"], lambda o: self.remove_member(o, body)),
            ("DELETE", ["orgs", "*", "members", "*"], self.remove_member_by_path),
        ]
        path_matched = False
        for route_method, pattern, action in routes:
            if len(pattern) != len(parts):
                continue
            if any(p != "*" and p != part for p, part in zip(pattern, parts, strict=True)):
                continue
            path_matched = True
            if route_method != method:
                continue
            args = [part for p, part in zip(pattern, parts, strict=True) if p == "*"]
            try:
                return 200, action(*args)
            except WorldError as exc:
                return exc.status, {"error": exc.message}
            except AdminError as exc:
                return exc.status, {"error": exc.message}
            except (ValueError, TypeError, KeyError) as exc:
                return 400, {"error": str(exc).strip("'\"")}
        if path_matched:
            return 405, {"error": f"{method} is not allowed on {path}"}
        return 404, {"error": f"no admin route {method} {path}"}

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

    def user_key(self, email: str) -> dict[str, Any]:
        return {"email": email, "key": self.world.user_key(email)}

    def identity(self, body: Any) -> dict[str, Any]:
        key = _object(body).get("key")
        if key is not None and not isinstance(key, str):
            raise AdminError(400, 'identity needs {"key": <string or null>}')
        return {"identity": self.world.key_identity(key)}

    def rack_key(self, org: str, name: str) -> dict[str, Any]:
        ref = f"{org}/{name}"
        model = self.world.world
        if not self.reveal_keys and model.rack(ref).console != "none":
            raise AdminError(403, f"{ref}'s key stays with Console; test worlds "
                                  "(POST /worlds) serve rack keys")
        return {"ref": ref, "key": self.world.rack_key(ref)}

    def deploy_key(self, org: str, name: str) -> dict[str, Any]:
        ref = f"{org}/{name}"
        if not self.reveal_keys:
            raise AdminError(403, f"deploy key {ref} is a secret; test worlds "
                                  "(POST /worlds) serve deploy keys")
        return {"ref": ref, "key": self.world.deploy_key(ref)}

    def secrets(self) -> dict[str, str]:
        """Every key the world ever issued (oldest first) with its identity, for redaction."""
        if not self.reveal_keys:
            raise AdminError(403, "only test worlds (POST /worlds) serve their secrets")
        return {key: self.world.key_identity(key) for key in self.world.secrets()}

    # -- changing --------------------------------------------------------

    def add_fault(self, body: Any) -> dict[str, Any]:
        handle = self.world.inject(Fault.from_dict(_object(body)))
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

    def regenerate(self, email: str) -> dict[str, Any]:
        return {"email": email, "key": self.world.regenerate_user_key(email)}

    def roll(self, org: str, name: str) -> dict[str, Any]:
        ref = f"{org}/{name}"
        self.world.roll_rack_key(ref)
        model = self.world.world
        return {
            "ref": ref,
            "status": model.rack_status(ref),
            "update_seconds": model.rack_update_seconds,
        }

    def password(self, org: str, name: str, body: Any) -> dict[str, Any]:
        self.world.set_rack_password(f"{org}/{name}", _field(body, "password"))
        return {"ref": f"{org}/{name}"}

    def add_to_console(self, org: str, name: str, body: Any) -> dict[str, Any]:
        self.world.add_rack_to_console(f"{org}/{name}", _field(body, "key"))
        return {"ref": f"{org}/{name}"}

    def remove_from_console(self, org: str, name: str) -> dict[str, Any]:
        self.world.remove_rack_from_console(f"{org}/{name}")
        return {"ref": f"{org}/{name}"}

    def advance(self, body: Any) -> dict[str, Any]:
        seconds = _object(body).get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise AdminError(400, 'advance needs {"seconds": <number>}')
        self.world.advance(float(seconds))
        return {"clock_offset": self.world.world.clock.offset}

    def finish(self) -> dict[str, Any]:
        self.world.finish_rack_updates()
        return {"clock_offset": self.world.world.clock.offset}

    def plan(self, org: str, body: Any) -> dict[str, Any]:
        plan = _field(body, "plan")
        self.world.set_plan(org, plan)
        return {"organization": org, "plan": plan}

    def add_member(self, org: str, body: Any) -> dict[str, Any]:
        email, role = _field(body, "email"), _field(body, "role")
        self.world.add_member(org, email, role)
        return {"organization": org, "email": email, "role": role}

    def remove_member(self, org: str, body: Any) -> dict[str, Any]:
        return self.remove_member_by_path(org, _field(body, "email"))

    def remove_member_by_path(self, org: str, email: str) -> dict[str, Any]:
        self.world.remove_member(org, email)
        return {"organization": org, "email": email}


def _object(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise AdminError(400, "the request body must be a JSON object")
    return body


def _field(body: Any, name: str) -> str:
    value = _object(body).get(name)
    if not isinstance(value, str) or not value:
        raise AdminError(400, f"missing string field {name!r}")
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


class Worlds:
    """The test worlds of one serve process: made by POST /worlds, gone on DELETE.

    Each is a fresh world on the process's pooled listeners, exactly like the
    in-process backend makes one per check, with its own journal and faults.
    """

    def __init__(self, backend: InProcessBackend, form: str, ca: str) -> None:
        self.backend = backend
        self.form = form
        self.ca = ca
        self._lock = threading.Lock()
        self._worlds: dict[str, Admin] = {}
        self._ids = itertools.count(1)

    def create(self, body: Any) -> dict[str, Any]:
        """Build a world from a shipped name, or from TOML text the client sent."""
        spec = _object(body)
        name, toml = spec.get("name", DEFAULT_WORLD), spec.get("toml")
        rack_api = spec.get("rack_api", CURRENT_API)
        if rack_api not in RACK_APIS:
            raise AdminError(400, f"rack_api must be one of {', '.join(RACK_APIS)}")
        if not isinstance(name, str) or not name:
            raise AdminError(400, 'POST /worlds needs {"name": <world name>} or {"toml": ...}')
        if toml is not None and not isinstance(toml, str):
            raise AdminError(400, "toml must be the text of a world file")
        try:
            if toml is None:
                world = self.backend.new_world(name, rack_api)
            else:
                with tempfile.TemporaryDirectory(prefix="convox-serve-world-") as tmp:
                    path = Path(tmp, Path(name).name).with_suffix(".toml")
                    path.write_text(toml, encoding="utf-8")
                    try:
                        world = self.backend.new_world(path, rack_api)
                    except WorldFileError as exc:  # name the client's file, not our copy
                        raise WorldFileError(str(exc).replace(str(path), path.name)) from None
        except WorldFileError as exc:
            raise AdminError(400, str(exc)) from None
        ident = f"w{next(self._ids)}"
        admin = Admin(world, name, self.form, self.ca, reveal_keys=True)
        with self._lock:
            self._worlds[ident] = admin
        return {"id": ident, "world": name, **admin.hosts()}

    def get(self, ident: str) -> Admin:
        with self._lock:
            admin = self._worlds.get(ident)
        if admin is None:
            raise AdminError(404, f"no world {ident}")
        return admin

    def delete(self, ident: str) -> dict[str, Any]:
        with self._lock:
            admin = self._worlds.pop(ident, None)
        if admin is None:
            raise AdminError(404, f"no world {ident}")
        admin.world.close()
        return {"id": ident}

    def ids(self) -> list[str]:
        with self._lock:
            return list(self._worlds)

    def close_all(self) -> None:
        with self._lock:
            admins = list(self._worlds.values())
            self._worlds.clear()
        for admin in admins:
            admin.world.close()


class Router:
    """The whole admin API: the printed world at the top, test worlds under /worlds."""

    def __init__(self, admin: Admin, worlds: Worlds, ca_pem: bytes) -> None:
        self.admin = admin
        self.worlds = worlds
        self.ca_pem = ca_pem

    def handle(self, method: str, path: str, query: str, body: Any) -> tuple[int, Any]:
        """(status, JSON-ready answer), or raw bytes for GET /ca."""
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/") if p]
        if parts == ["ca"]:
            if method != "GET":
                return 405, {"error": f"{method} is not allowed on {path}"}
            return 200, self.ca_pem
        if parts[:1] != ["worlds"]:
            return self.admin.handle(method, path, query, body)
        try:
            if len(parts) == 1:
                if method == "POST":
                    return 200, self.worlds.create(body)
                if method == "GET":
                    return 200, self.worlds.ids()
                return 405, {"error": f"{method} is not allowed on {path}"}
            if len(parts) == 2 and method == "DELETE":
                return 200, self.worlds.delete(parts[1])
            admin = self.worlds.get(parts[1])
        except AdminError as exc:
            return exc.status, {"error": exc.message}
        except WorldError as exc:
            return exc.status, {"error": exc.message}
        except (ValueError, OSError) as exc:
            return 400, {"error": str(exc)}
        rest = "/" + "/".join(urllib.parse.quote(p, safe="@") for p in parts[2:])
        if len(parts) == 2:
            rest = "/hosts"
        return admin.handle(method, rest, query, body)


def _admin_handler(admin: Admin | Router) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        """Plain HTTP on loopback: JSON in, JSON out, nothing logged.

        HTTP/1.1 keep-alive, because the remote backend makes a dozen admin
        calls per check and a new TCP connection for each would dominate.
        """

        server_version = "convox-conformance-admin"
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _serve(self) -> None:
            path, _, query = self.path.partition("?")
            length = self.headers.get("Content-Length", "0")
            raw = self.rfile.read(int(length)) if length.isdigit() else b""
            status: int
            answer: Any
            try:
                body = json.loads(raw) if raw.strip() else None
            except ValueError:
                status, answer = 400, {"error": "the request body is not valid JSON"}
            else:
                status, answer = admin.handle(self.command, path, query, body)
            if isinstance(answer, bytes):
                data, kind = answer, "application/x-pem-file"
            else:
                data, kind = json.dumps(answer, indent=2).encode() + b"\n", "application/json"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = do_PUT = _serve

    return Handler


def admin_server(api: Admin | Router, port: int = 0) -> ThreadingHTTPServer:
    """The admin API's HTTP server on loopback, not yet serving (tests run it in a thread)."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _admin_handler(api))
    server.daemon_threads = True
    return server
