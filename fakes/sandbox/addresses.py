"""World servers at real host names, for runs inside the network sandbox.

In the sandbox (see ``conformance/network/sandbox.py``) a CLI is not told where
``console.convox.com`` is: it resolves the name as it would for a user, and
every other name too. Several worlds exist at once (one per xdist worker), so
one ``127.0.0.1:443`` cannot serve them all. Each world therefore gets a
*slot*, a pair of loopback addresses of its own, ``127.a.b.1`` and
``127.a.b.2`` (all of 127/8 answers on ``lo``):

* ``127.a.b.1:443`` serves the world's Console, as console.convox.com, with
  the run's certificate;
* ``127.a.b.2`` is the world's egress guard, on 443 (TLS: the server name
  and every request are journalled) and 80 (plain: the Host and the first
  bytes are journalled), and the world's DNS server on 53, which answers
  console.convox.com with the Console address and every other name with the
  guard's, journalling each question.

Each CLI invocation runs in a mount namespace of its own whose
``/etc/resolv.conf`` names its world's DNS address (:meth:`SandboxedWorld.launcher`,
``fakes/sandbox/resolv_mounts.py``),
so what a CLI looks up and where it connects is always its own world's
evidence, whichever worker runs it. Slots are pooled like the listeners: a
slot is bound once and re-pointed at each new world.

The addresses are picked at random in 127/8 and claimed by binding the DNS
port first: a bind is atomic, so two workers never share a slot.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import socket
import socketserver
import ssl
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakes.backends.in_process import InProcessBackend, LocalWorld
from fakes.http.journal import Journal
from fakes.http.listener import (
    App,
    Connection,
    HttpRequest,
    HttpResponse,
    Listener,
    Unattached,
    stop_in_parallel,
)
from fakes.http.recording import new_request_id
from fakes.model.world import CURRENT_API, World
from fakes.sandbox.dns import DnsServer, Query, Zone
from fakes.sandbox.resolv_mounts import KeptNamespace, ResolvMounts
from fakes.servers.guard import SERVER as GUARD
from fakes.servers.guard import GuardApp

CONSOLE_NAME = "console.convox.com"
#: The journal's name for lookups of console.convox.com (every other lookup is the guard's).
DNS_SERVER = "dns"
FIRST_BYTES = 512
PLAIN_READ_TIMEOUT = 2.0
MAX_ADDRESS_TRIES = 64


class ForwardingApp(App):
    """Serves what another listener's app serves (the world's Console, on port 443)."""

    def __init__(self, target: App) -> None:
        self.target = target

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.target(request)

    def accept_tls(self, conn: Connection) -> bool:
        return self.target.accept_tls(conn)

    def tls_failed(self, conn: Connection, error: str) -> None:
        self.target.tls_failed(conn, error)

    def tls_context(self, conn: Connection) -> ssl.SSLContext | None:
        return self.target.tls_context(conn)


class PlainGuard:
    """The guard's plain-TCP side (port 80): journals the Host and the first bytes."""

    def __init__(self, host: str, port: int) -> None:
        self.target: tuple[World, Journal] | None = None
        guard = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                guard._connection(self.request, f"{host}:{port}")

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self._server = Server((host, port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="plain-guard", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def _connection(self, sock: socket.socket, address: str) -> None:
        sock.settimeout(PLAIN_READ_TIMEOUT)
        data = b""
        with contextlib.suppress(OSError):
            while len(data) < 4096 and b"\r\n\r\n" not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        target = self.target
        if target is None:
            return
        world, journal = target
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        lines = head.split("\r\n")
        parts = lines[0].split(" ")
        is_http = len(parts) == 3 and parts[2].startswith("HTTP/")
        host = next((line.split(":", 1)[1].strip() for line in lines[1:]
                     if line.lower().startswith("host:")), "")
        journal.record(
            request_id=new_request_id(),
            server=GUARD,
            address=address,
            host_header=world.redact(host),
            hop="cli",
            method=parts[0] if is_http else "RAW",
            path=world.redact(parts[1].split("?", 1)[0]) if is_http else "",
            body=world.redact(data[:FIRST_BYTES].decode("latin-1")),
            status=403 if is_http else 0,
        )
        if is_http:
            body = b'{"error": "egress guard: this host is not part of the conformance world"}\n'
            with contextlib.suppress(OSError):
                sock.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
                             % (len(body), body))


@dataclass
class Slot:
    """The addresses and servers one world uses inside the sandbox."""

    console_ip: str
    guard_ip: str
    console: Listener
    guard: Listener
    plain: PlainGuard
    resolv_conf: Path
    #: The slot's kept mount namespace (``ResolvMounts.keep``), or None: one per invocation.
    mount_ns: KeptNamespace | None = None

    @property
    def dns_address(self) -> str:
        return f"{self.guard_ip}:53"


class SandboxNetwork:
    """A pool of slots, each claimed on a random 127.a.b.0/30 of its own."""

    def __init__(self, server_context: Callable[[], ssl.SSLContext],
                 handshake_timeout: float = 10.0, keep_namespaces: bool = True) -> None:
        self._mounts = ResolvMounts(keep=keep_namespaces)
        self._server_context = server_context
        self._handshake_timeout = handshake_timeout
        self._dns = DnsServer().start()
        self._dir = Path(tempfile.mkdtemp(prefix="convox-conformance-net-"))
        self._idle: list[Slot] = []
        self._all: list[Slot] = []
        self._lock = threading.Lock()
        self._random = random.SystemRandom()

    def take(self) -> Slot:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        slot = self._new_slot()
        with self._lock:
            self._all.append(slot)
        return slot

    def give_back(self, slot: Slot) -> None:
        slot.console.app = Unattached()
        slot.guard.app = Unattached()
        slot.plain.target = None
        self._dns.set_zone(slot.dns_address, None)
        slot.console.drop_connections()
        slot.guard.drop_connections()
        with self._lock:
            self._idle.append(slot)

    def attach(self, slot: Slot, world: LocalWorld) -> None:
        """Point `slot` at `world`: its Console, its guard, its DNS answers."""
        slot.console.app = ForwardingApp(world.app("console"))
        slot.guard.app = GuardApp(world.world, world.journal)
        slot.plain.target = (world.world, world.journal)
        self._dns.set_zone(slot.dns_address, Zone(
            names={CONSOLE_NAME: slot.console_ip},
            default=slot.guard_ip,
            on_query=lambda query: _journal_query(world.world, world.journal, query),
        ))

    def launcher(self, slot: Slot, cwd: Path) -> list[str]:
        """The argv prefix that runs a CLI in `cwd` with `slot`'s name resolution."""
        return self._mounts.prefix(slot.resolv_conf, slot.mount_ns, cwd)

    def stop(self) -> None:
        with self._lock:
            slots, self._all, self._idle = self._all, [], []
        stops: list[Callable[[], None]] = [self._dns.stop]
        for slot in slots:
            stops += [slot.console.stop, slot.guard.stop, slot.plain.stop]
            if slot.mount_ns is not None:
                stops.append(slot.mount_ns.release)
        stop_in_parallel(stops)
        shutil.rmtree(self._dir, ignore_errors=True)

    def _new_slot(self) -> Slot:
        for _ in range(MAX_ADDRESS_TRIES):
            prefix = f"127.{self._random.randint(1, 254)}.{self._random.randint(0, 255)}"
            guard_ip = f"{prefix}.2"
            try:
                self._dns.bind(guard_ip)
            except OSError:
                continue  # another worker's slot: try another address
            break
        else:
            raise RuntimeError("no free loopback address for a sandbox slot")
        console_ip = f"{prefix}.1"
        console = Listener(self._server_context(), name="console-443", host=console_ip,
                           port=443, handshake_timeout=self._handshake_timeout).start()
        guard = Listener(self._server_context(), name="guard-443", host=guard_ip, port=443,
                         handshake_timeout=self._handshake_timeout).start()
        plain = PlainGuard(guard_ip, 80)
        resolv = self._dir / f"resolv-{prefix}.conf"
        # One try, one second: a CLI whose lookup is not answered must fail fast, not hang.
        resolv.write_text(f"nameserver {guard_ip}\noptions timeout:1 attempts:1\n",
                          encoding="utf-8")
        return Slot(console_ip, guard_ip, console, guard, plain, resolv, self._mounts.keep(resolv))


def _journal_query(world: World, journal: Journal, query: Query) -> None:
    journal.record(
        request_id=new_request_id(),
        server=DNS_SERVER if query.name == CONSOLE_NAME else GUARD,
        address=query.address,
        host_header=world.redact(query.name),
        hop="cli",
        method="DNS",
        path=query.qtype,
        query=f"answer={query.answer}" if query.answer else "answer=none",
        status=0,
    )


class SandboxedWorld:
    """A LocalWorld plus its slot; everything else is the LocalWorld's."""

    def __init__(self, inner: LocalWorld, slot: Slot, network: SandboxNetwork) -> None:
        self._inner = inner
        self._slot = slot
        self._network = network
        self.journal: Journal = inner.journal
        network.attach(slot, inner)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def launcher(self, cwd: Path) -> list[str]:
        """Prefix for the argv of a CLI started in `cwd`: this world's name resolution,
        in a mount namespace of its own."""
        return self._network.launcher(self._slot, cwd)

    @property
    def console_address(self) -> str:
        """Where console.convox.com leads in this world (``ip:443``)."""
        return self._slot.console.address

    @property
    def guard_address(self) -> str:
        """Where every other name leads (``ip``; the guard listens on 443 and 80)."""
        return self._slot.guard_ip

    def close(self) -> None:
        if not self._inner.closed:
            self._inner.close()
            self._network.give_back(self._slot)

    def __enter__(self) -> SandboxedWorld:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SandboxedBackend:
    """The in-process backend, each world also reachable by real host names."""

    name = "inprocess"

    def __init__(self, inner: InProcessBackend | None = None,
                 keep_namespaces: bool = True) -> None:
        self.inner = inner or InProcessBackend()
        #: False: a mount namespace made per CLI invocation, as without nsenter --wdns.
        self.keep_namespaces = keep_namespaces
        self._network: SandboxNetwork | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        self.inner.start()
        with self._lock:
            if self._network is None:
                self._network = SandboxNetwork(self.inner.server_context,
                                               self.inner.handshake_timeout,
                                               self.keep_namespaces)

    def stop(self) -> None:
        with self._lock:
            network, self._network = self._network, None
        if network is not None:
            network.stop()
        self.inner.stop()

    def ca_bundle(self) -> Path:
        return self.inner.ca_bundle()

    def new_world(self, name_or_path: str | Path, rack_api: str = CURRENT_API) -> SandboxedWorld:
        self.start()
        assert self._network is not None
        inner = self.inner.new_world(name_or_path, rack_api)
        try:
            slot = self._network.take()
        except BaseException:
            inner.close()
            raise
        return SandboxedWorld(inner, slot, self._network)

    def __enter__(self) -> SandboxedBackend:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
