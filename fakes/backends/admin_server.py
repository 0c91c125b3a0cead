"""`serve`'s admin API over HTTP: the test worlds, the router in front of them, the server.

The same API that drives the world serve prints also hands out fresh *test
worlds* (``POST /worlds``), one per conformance check, so the suite can run
with ``--backend remote`` against serve processes instead of in-process fakes
(see :mod:`fakes.backends.remote`). A test world's routes live under
``/worlds/<id>/``; ``GET /ca`` serves the CA certificate so a client on another
machine can trust the fakes. Kept apart from the ``serve`` command so the API
can be tested (and served in a thread) without starting a process.
"""

from __future__ import annotations

import itertools
import json
import tempfile
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from fakes.backends.admin_api import Admin, AdminError, request_object
from fakes.backends.in_process import InProcessBackend
from fakes.model.entities import Refusal
from fakes.model.world import CURRENT_API, RACK_APIS
from fakes.model.worldfile import DEFAULT_WORLD, WorldFileError

#: The world serve prints, and the one ``POST /worlds`` makes when given no name.


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
        spec = request_object(body)
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
        except Refusal as exc:
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
