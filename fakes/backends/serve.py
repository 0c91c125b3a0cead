"""`convox-conformance serve`: the fakes standalone, for humans and other tools.

Someone writing a CLI wants to point it at a Console and a few racks without
writing a test first. `serve` builds a world (a shipped name or a TOML
file), prints login commands that work as pasted, and runs the JSON admin API
(:mod:`fakes.backends.admin_server`) on its own loopback port, until Ctrl-C. Everything
binds loopback; for true multi-host use serve would have to bind a routable
address (and its certificate name it), which is deliberately not offered.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from fakes.backends.admin_api import Admin, AdminError
from fakes.backends.admin_server import DEFAULT_WORLD, Router, Worlds, admin_server
from fakes.backends.in_process import DEFAULT_FORM, InProcessBackend, LocalWorld
from fakes.model.world import CURRENT_API, RACK_APIS, WorldError

__all__ = ["DEFAULT_WORLD", "Admin", "AdminError", "Router", "Worlds", "admin_server", "main"]

PROG = "convox-conformance serve"
DESCRIPTION = "Run the fake Console and racks on loopback, with a JSON admin API."


def _login_lines(world: LocalWorld, form: str) -> list[str]:
    model = world.world
    console = world.host("console", form)
    lines = ["", "# Console users (then `convox switch <org>/<rack>`):"]
    for user in model.users():
        lines.append(f"convox login {console} --password {user.key}   # {user.email}")
    direct = [r for r in model.racks() if r.console == "none"]
    if direct:
        lines += ["", "# Racks not in Console (installed by CLI; log in to the rack itself):"]
        for rack in direct:
            host = world.host(rack.ref, form)
            key = model.rack_key(rack.ref)
            lines.append(f"convox login {host} --password {key}   # {rack.ref}")
    held = [r for r in model.racks() if r.console != "none"]
    if held:
        lines += ["", "# Racks in Console (their keys stay with Console):"]
        for rack in held:
            lines.append(f"#   {rack.ref} at {world.host(rack.ref, form)} ({rack.console})")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Run until SIGINT/SIGTERM; 0 on a clean stop, 2 on a bad world or usage."""
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION)
    parser.add_argument(
        "--world", default=DEFAULT_WORLD, help="a shipped world name or a TOML file"
    )
    parser.add_argument("--form", default=DEFAULT_FORM, help="host form, e.g. localhost:{port}")
    parser.add_argument("--rack-api", choices=RACK_APIS, default=CURRENT_API,
                        help="the rack API generation the racks speak (2017 for the classic "
                             f"CLI; default {CURRENT_API})")
    parser.add_argument("--admin-port", type=int, default=0, help="admin API port (0: any free)")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if "{port}" not in args.form:
        print(f"{PROG}: --form must contain {{port}}, e.g. 127.0.0.1:{{port}}", file=sys.stderr)
        return 2

    # Handlers first, so a Ctrl-C during start-up still ends in a clean stop.
    stop = threading.Event()
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():  # signals only reach main
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    try:
        return _serve(args, stop)
    finally:
        for number, handler in previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(number, handler)


def _serve(args: argparse.Namespace, stop: threading.Event) -> int:
    backend = InProcessBackend()
    try:
        backend.start()
        world = backend.new_world(args.world, args.rack_api)
    except (ValueError, OSError) as exc:  # WorldFileError and WorldError are ValueErrors
        backend.stop()
        message = exc.message if isinstance(exc, WorldError) else str(exc)
        print(f"{PROG}: {message}", file=sys.stderr)
        return 2

    ca = str(backend.ca_bundle())
    admin = Admin(world, str(args.world), args.form, ca)
    worlds = Worlds(backend, args.form, ca)
    router = Router(admin, worlds, backend.ca_bundle().read_bytes())
    try:
        server = admin_server(router, args.admin_port)
    except OSError as exc:
        world.close()
        backend.stop()
        print(f"{PROG}: cannot open the admin port: {exc.strerror}", file=sys.stderr)
        return 2
    admin_thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="admin", daemon=True
    )
    admin_thread.start()
    try:
        lines = [
            f"{PROG}: world {args.world!r} is up; Ctrl-C stops it.",
            f"Console:     https://{world.host('console', args.form)}",
            f"CA file:     {ca}   (e.g. SSL_CERT_FILE={ca})",
            f"Resolve map: {world.resolve_map()}",
            f"Admin API:   http://127.0.0.1:{server.server_address[1]}   (GET /world;"
            " test worlds: POST /worlds)",
            *_login_lines(world, args.form),
            "",
            "Ready.",
        ]
        print("\n".join(lines), flush=True)
        while not stop.wait(0.2):
            pass
    finally:
        server.shutdown()
        server.server_close()
        admin_thread.join(5)
        worlds.close_all()
        world.close()
        backend.stop()
    print(f"{PROG}: stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
