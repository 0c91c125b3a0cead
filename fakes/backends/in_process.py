"""The Backend interface the checks use, and the in-process backend.

Checks never touch servers or the model directly: they ask a `Backend` for a
fresh `WorldHandle` per test and drive it (hosts, keys, key rolls, faults,
journal). That one seam lets another backend (a container, a remote fake)
stand in, and keeps tests independent: every world has its own model,
journal and fault plan, while the expensive parts (the CA, bound ports,
threads) are made once per backend and pooled. There is no module-level
state, so each pytest-xdist worker simply makes its own backend.
"""

from __future__ import annotations

import shutil
import ssl
import tempfile
import threading
from collections.abc import Callable, Collection, Iterable
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from fakes.backends import DEFAULT_BACKEND, ENTRY_POINT_GROUP
from fakes.http.faults import Fault, FaultHandle, FaultPlan
from fakes.http.journal import Journal
from fakes.http.listener import App, Listener, Unattached, stop_in_parallel
from fakes.model.clock import Clock
from fakes.model.world import CURRENT_API, World
from fakes.model.worldfile import load_world
from fakes.servers.console import ConsoleApp
from fakes.servers.guard import SERVER as GUARD
from fakes.servers.guard import GuardApp
from fakes.servers.rack import RackApp

if TYPE_CHECKING:
    import trustme

CERT_NAMES = ("127.0.0.1", "::1", "localhost", "console.convox.com", "*.convox.test")
CONSOLE_NAME = "console.convox.com"
DEFAULT_FORM = "127.0.0.1:{port}"


@runtime_checkable
class WorldHandle(Protocol):
    """One test's world as the checks see it (see docs/architecture.md).

    Its methods are the world actions of :mod:`fakes.backends.actions`, written
    out for their types; tests/fakes/test_actions.py holds the two equal.
    """

    journal: Journal

    def host(self, server: str, form: str = DEFAULT_FORM) -> str: ...
    def resolve_map(self) -> str: ...
    def user_key(self, email: str) -> str: ...
    def rack_key(self, ref: str) -> str: ...
    def deploy_key(self, ref: str) -> str: ...
    def key_identity(self, key: str | None) -> str: ...
    def regenerate_user_key(self, email: str) -> str: ...
    def roll_rack_key(self, ref: str) -> None: ...
    def set_rack_password(self, ref: str, new: str) -> None: ...
    def add_rack_to_console(self, ref: str, key: str) -> None: ...
    def remove_rack_from_console(self, ref: str) -> None: ...
    def add_member(self, org: str, email: str, role: str) -> None: ...
    def remove_member(self, org: str, email: str) -> None: ...
    def set_plan(self, org: str, plan: str) -> None: ...
    def secrets(self) -> list[str]: ...
    def finish_rack_updates(self) -> None: ...
    def advance(self, seconds: float) -> None: ...
    def inject(self, fault: Fault) -> FaultHandle: ...
    def clear_faults(self) -> None: ...
    def close(self) -> None: ...


@runtime_checkable
class Backend(Protocol):
    """Where worlds come from; started once per session."""

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def ca_bundle(self) -> Path: ...
    def new_world(self, name_or_path: str | Path, rack_api: str = CURRENT_API) -> WorldHandle: ...


class BackendError(ValueError):
    """A backend that cannot be found or loaded; the message is one line."""


def no_such_server(server: str, servers: Iterable[str]) -> KeyError:
    """What every world handle raises for a server it does not have."""
    return KeyError(f"no server {server!r} in this world (known: {', '.join(servers)})")


def check_fault_server(fault: Fault, servers: Collection[str]) -> None:
    """A fault must name one of the world's servers, whichever backend serves it."""
    if fault.server not in servers:
        raise ValueError(f"fault names server {fault.server!r}, not in this world "
                         f"(known: {', '.join(servers)})")


class LocalWorld:
    """A world served by an InProcessBackend's pooled listeners."""

    def __init__(
        self,
        world: World,
        journal: Journal,
        listeners: dict[str, Listener],
        faults: FaultPlan,
        release: Callable[[LocalWorld], None],
    ) -> None:
        self.world = world
        self.journal = journal
        self.faults = faults
        self._listeners = listeners
        self._release = release
        self.closed = False

    # -- addresses -------------------------------------------------------

    def servers(self) -> list[str]:
        """Every server of this world: "console", each rack ref, "guard"."""
        return list(self._listeners)

    def port(self, server: str) -> int:
        """The loopback port `server` listens on."""
        try:
            return self._listeners[server].port
        except KeyError:
            raise no_such_server(server, self._listeners) from None

    def host(self, server: str, form: str = DEFAULT_FORM) -> str:
        """The host string a CLI is given for `server`, in a profile's `host_form`."""
        return form.format(port=self.port(server))

    def app(self, server: str) -> App:
        """What `server` serves now (the network sandbox serves it on more addresses)."""
        try:
            return self._listeners[server].app
        except KeyError:
            raise no_such_server(server, self._listeners) from None

    def errors(self) -> list[str]:
        """Tracebacks of app crashes on this world's servers (each became a JSON 500)."""
        return [error for listener in self._listeners.values() for error in listener.errors]

    def resolve_map(self) -> str:
        """`console.convox.com:443` to Console, everything else to the egress guard."""
        return f"{CONSOLE_NAME}:443=127.0.0.1:{self.port('console')};*=127.0.0.1:{self.port(GUARD)}"

    # -- the model -------------------------------------------------------

    def user_key(self, email: str) -> str:
        return self.world.user_key(email)

    def rack_key(self, ref: str) -> str:
        return self.world.rack_key(ref)

    def deploy_key(self, ref: str) -> str:
        return self.world.deploy_key(ref)

    def key_identity(self, key: str | None) -> str:
        return self.world.key_identity(key)

    def regenerate_user_key(self, email: str) -> str:
        return self.world.regenerate_user_key(email)

    def roll_rack_key(self, ref: str) -> None:
        self.world.roll_rack_key(ref)

    def set_rack_password(self, ref: str, new: str) -> None:
        self.world.set_rack_password(ref, new)

    def add_rack_to_console(self, ref: str, key: str) -> None:
        self.world.add_rack_to_console(ref, key)

    def remove_rack_from_console(self, ref: str) -> None:
        self.world.remove_rack_from_console(ref)

    def add_member(self, org: str, email: str, role: str) -> None:
        self.world.add_member(org, email, role)

    def remove_member(self, org: str, email: str) -> None:
        self.world.remove_member(org, email)

    def set_plan(self, org: str, plan: str) -> None:
        self.world.set_plan(org, plan)

    def secrets(self) -> list[str]:
        return self.world.secrets()

    def finish_rack_updates(self) -> None:
        self.world.finish_rack_updates()

    def advance(self, seconds: float) -> None:
        self.world.clock.advance(seconds)

    # -- faults and lifetime ----------------------------------------------

    def inject(self, fault: Fault) -> FaultHandle:
        """Start a fault on one of this world's servers."""
        check_fault_server(fault, self._listeners)
        return self.faults.add(fault)

    def clear_faults(self) -> None:
        self.faults.clear()

    def close(self) -> None:
        """Give the listeners back to the pool; the world and its journal stay readable."""
        if not self.closed:
            self.closed = True
            self.faults.clear()
            self._release(self)

    def __enter__(self) -> LocalWorld:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InProcessBackend:
    """Servers in threads of this process; one trustme CA per backend."""

    name = DEFAULT_BACKEND

    def __init__(self, *, proxy_timeout: float = 10.0, handshake_timeout: float = 10.0) -> None:
        self.proxy_timeout = proxy_timeout
        self.handshake_timeout = handshake_timeout
        self._lock = threading.Lock()
        self._ca: trustme.CA | None = None
        self._cert: trustme.LeafCert | None = None
        self._dir: Path | None = None
        self._client_context: ssl.SSLContext | None = None
        self._idle: list[Listener] = []
        self._busy: dict[int, list[Listener]] = {}
        self._started = False

    def start(self) -> None:
        """Make the CA and the server certificate; listeners start on demand."""
        with self._lock:
            if self._started:
                return
            # Imported here: trustme and cryptography are a third of this module's import
            # time, and processes that only check the options (the sandbox's outer one,
            # an xdist controller) make a backend but never start it.
            import trustme

            self._ca = trustme.CA()
            self._cert = self._ca.issue_cert(*CERT_NAMES)
            self._dir = Path(tempfile.mkdtemp(prefix="convox-conformance-ca-"))
            self._ca.cert_pem.write_to_path(str(self._dir / "ca.pem"))
            context = ssl.create_default_context(cafile=str(self._dir / "ca.pem"))
            self._client_context = context
            self._started = True

    def stop(self) -> None:
        """Stop every listener (pooled or in use) and delete the CA file."""
        with self._lock:
            listeners = self._idle + [item for group in self._busy.values() for item in group]
            self._idle = []
            self._busy = {}
            directory = self._dir
            self._dir = None
            self._started = False
        stop_in_parallel(listener.stop for listener in listeners)
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)

    def __enter__(self) -> InProcessBackend:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def ca_bundle(self) -> Path:
        """The CA certificate (PEM) a CLI must trust to talk to the fakes."""
        self.start()
        assert self._dir is not None
        return self._dir / "ca.pem"

    def client_context(self) -> ssl.SSLContext:
        """A client TLS context that trusts the fakes (Console's proxy hop uses it too)."""
        self.start()
        assert self._client_context is not None
        return self._client_context

    @property
    def listener_count(self) -> tuple[int, int]:
        """(idle, in use): the pool at a glance, for tests."""
        with self._lock:
            return len(self._idle), sum(len(group) for group in self._busy.values())

    def new_world(self, name_or_path: str | Path, rack_api: str = CURRENT_API,
                  clock: Clock | None = None) -> LocalWorld:
        """A fresh world (a shipped name or a TOML path) on pooled listeners, its racks
        speaking the ``rack_api`` generation."""
        self.start()
        taken: dict[str, Listener] = {"console": self._take("console")}
        faults = FaultPlan()

        def host_for(ref: str) -> str:
            taken[ref] = self._take(ref)
            return taken[ref].address

        try:
            world = load_world(name_or_path, host_for, clock, rack_api)
            taken[GUARD] = self._take(GUARD)
        except BaseException:
            self._give_back(list(taken.values()))
            raise
        assert self._client_context is not None
        journal = Journal(world.clock)  # one per world, on the world's clock
        taken["console"].app = ConsoleApp(
            world, journal, faults, self._client_context, proxy_timeout=self.proxy_timeout
        )
        for ref, listener in taken.items():
            if ref not in ("console", GUARD):
                listener.app = RackApp(world, ref, journal, faults)
        taken[GUARD].app = GuardApp(world, journal)
        handle = LocalWorld(world, journal, taken, faults, self._release)
        with self._lock:
            self._busy[id(handle)] = list(taken.values())
        return handle

    def server_context(self) -> ssl.SSLContext:
        """A fresh server TLS context with the run's certificate (one per listener)."""
        self.start()
        assert self._cert is not None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.set_alpn_protocols(["http/1.1"])
        self._cert.configure_cert(context)
        return context

    def _take(self, name: str) -> Listener:
        with self._lock:
            listener = self._idle.pop() if self._idle else None
        if listener is None:
            listener = Listener(
                self.server_context(), name=name, handshake_timeout=self.handshake_timeout
            ).start()
        listener.name = name
        return listener

    def _give_back(self, listeners: list[Listener]) -> None:
        for listener in listeners:
            listener.app = Unattached()
            listener.drop_connections()
        with self._lock:
            self._idle.extend(listeners)

    def _release(self, handle: LocalWorld) -> None:
        with self._lock:
            listeners = self._busy.pop(id(handle), [])
        self._give_back(listeners)


def available_backends() -> dict[str, str]:
    """Backend names -> where they come from (entry points, plus the built-in one)."""
    found = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    found.setdefault(DEFAULT_BACKEND, "fakes.backends.in_process:InProcessBackend")
    return found


def get_backend(name: str = DEFAULT_BACKEND, **options: Any) -> Backend:
    """Instantiate the backend registered as `name` (not started)."""
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            try:
                factory = ep.load()
            except Exception as exc:
                raise BackendError(f"backend {name!r} ({ep.value}) failed to load: {exc}") from None
            backend: Backend = factory(**options)
            return backend
    if name == DEFAULT_BACKEND:
        return InProcessBackend(**options)
    known = ", ".join(sorted(available_backends()))
    raise BackendError(f"unknown backend {name!r} (known: {known})")
