"""The remote backend: worlds served by `convox-conformance serve` processes.

Why: a large matrix spreads over machines with pytest-xdist (``--tx``), and
the fakes must then be reachable from wherever a worker runs. This backend
implements the same `Backend` / `WorldHandle` seam as the in-process one,
but every world lives in a serve process and is driven through its JSON
admin API (``POST /worlds`` per check, ``DELETE`` when it ends), so the
checks cannot tell the difference. The journal is the ordinary `Journal`
with its storage swapped for admin API reads, so the query helpers and
their near-miss explanations are the very same code.

URLs come from ``--serve URL`` (repeatable) or ``CONVOX_CONFORMANCE_SERVE``
(comma or space separated). With several, worlds are spread round-robin,
starting at a different serve per xdist worker. The CLI under test still
runs next to pytest and must reach the serve machine's listeners; serve
binds loopback only, so in this project "remote" means another process on
the same machine (see README "Running at scale").
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import os
import re
import shutil
import tempfile
import threading
import urllib.parse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fakes.backends.in_process import DEFAULT_FORM, BackendError
from fakes.http.faults import Fault, FaultHandle
from fakes.http.journal import FIELDS, Journal, JournalEntry
from fakes.model.keys import unknown_identity
from fakes.model.world import CURRENT_API, WorldError

SERVE_ENV = "CONVOX_CONFORMANCE_SERVE"
DEFAULT_TIMEOUT = 30.0


class RemoteError(RuntimeError):
    """The serve process could not be reached or answered nonsense; one line."""


class AdminClient:
    """JSON over one kept-alive HTTP connection to a serve admin API; thread-safe.

    Checks call the world from several threads at once (parallel logins), so
    calls are serialised on a lock; each is a few hundred microseconds.
    """

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        parsed = urllib.parse.urlsplit(url if "://" in url else f"http://{url}")
        if parsed.scheme != "http" or not parsed.hostname or not parsed.port:
            raise BackendError(f"serve admin URL must look like http://127.0.0.1:PORT, not {url!r}")
        self.url = f"http://{parsed.hostname}:{parsed.port}"
        self._host = parsed.hostname
        self._port = parsed.port
        self._timeout = timeout
        self._lock = threading.Lock()
        self._conn: http.client.HTTPConnection | None = None
        self._used = False

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """The JSON answer; WorldError for a refusal (as the in-process world raises)."""
        status, data = self.raw(method, path, body)
        try:
            answer = json.loads(data) if data.strip() else None
        except ValueError:
            raise RemoteError(f"{self.url}{path}: not JSON: {data[:80]!r}") from None
        if status >= 400:
            message = answer.get("error", "") if isinstance(answer, dict) else str(answer)
            raise WorldError(status, message)
        return answer

    def raw(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        with self._lock:
            for attempt in (1, 2):
                conn = self._connection()
                reused = self._used
                try:
                    conn.request(method, path, body=payload, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                except (http.client.HTTPException, OSError) as exc:
                    self._drop()
                    # A kept-alive connection the server closed while idle: try a fresh one.
                    if attempt == 1 and reused and not isinstance(exc, TimeoutError):
                        continue
                    raise RemoteError(
                        f"cannot reach convox-conformance serve at {self.url}: {exc}"
                    ) from None
                self._used = True
                if response.will_close:
                    self._drop()
                return response.status, data
        raise AssertionError("unreachable")  # pragma: no cover

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            self._used = False
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        self._used = False

    def close(self) -> None:
        with self._lock:
            self._drop()


class RemoteJournal(Journal):
    """A `Journal` whose entries live in a serve process.

    Only storage differs: entries are fetched incrementally (they are
    append-only and numbered) and cached, and every query, expectation and
    near-miss message is inherited unchanged.
    """

    def __init__(self, fetch: Callable[[int], list[dict[str, Any]]]) -> None:
        super().__init__()
        self._fetch = fetch
        self._frozen = False

    def record(self, entry: JournalEntry | None = None, **fields: Any) -> JournalEntry:
        raise TypeError("a remote journal is read-only: the servers of the serve process record")

    def sync(self) -> None:
        """Fetch what was recorded since the last read (nothing once the world closed)."""
        if self._frozen:
            return
        with self._lock:
            known = len(self._entries)
        fresh = [
            JournalEntry(**{name: item[name] for name in FIELDS if name in item})
            for item in self._fetch(known)
        ]
        with self._lock:
            for entry in fresh:  # another thread may have synced the same entries meanwhile
                if entry.seq == len(self._entries) + 1:
                    self._entries.append(entry)

    def freeze(self) -> None:
        """Read everything one last time; the world is about to go away."""
        self.sync()
        self._frozen = True

    def _snapshot(self, since: int | None, hide: bool = True) -> list[JournalEntry]:
        self.sync()
        return super()._snapshot(since, hide)

    def mark(self) -> int:
        self.sync()
        return super().mark()

    def __len__(self) -> int:
        self.sync()
        return super().__len__()


class RemoteFaultHandle(FaultHandle):
    """A fault running in a serve process; `fired` is asked for, then remembered once lifted."""

    def __init__(self, world: RemoteWorld, fault: Fault, ident: int) -> None:
        # Not FaultHandle.__init__: there is no local plan; every property is overridden.
        self._world = world
        self._fault = fault
        self.id = ident
        self._final: dict[str, Any] | None = None

    @property
    def fault(self) -> Fault:
        return self._fault

    def _state(self) -> dict[str, Any]:
        if self._final is not None:
            return self._final
        final = self._world._fault_final.get(self.id)
        if final is not None:
            self._final = final
            return final
        try:
            state: dict[str, Any] = self._world._call("GET", f"faults/{self.id}")
        except WorldError as exc:
            if exc.status != 404:
                raise
            return {"fired": 0, "active": False}  # lifted by someone else and forgotten
        return state

    @property
    def fired(self) -> int:
        return int(self._state()["fired"])

    @property
    def active(self) -> bool:
        return bool(self._state()["active"])

    def remove(self) -> None:
        if self._final is not None or self.id in self._world._fault_final:
            return
        try:
            state = self._world._call("DELETE", f"faults/{self.id}")
        except WorldError as exc:
            if exc.status != 404:
                raise
            state = {"fired": 0}
        self._final = {**state, "active": False}


class RemoteWorld:
    """One check's world in a serve process, behind the `WorldHandle` interface."""

    def __init__(
        self,
        client: AdminClient,
        description: dict[str, Any],
        on_close: Callable[[RemoteWorld], None] | None = None,
    ) -> None:
        self._client = client
        self._on_close = on_close
        self.id: str = description["id"]
        self.name: str = description.get("world", "")
        self._ports: dict[str, int] = dict(description["ports"])
        self._resolve: str = description["resolve_map"]
        self._identities: dict[str, str] = {}
        self._final_secrets: dict[str, str] | None = None  # every key -> identity, once closed
        self._fault_final: dict[int, dict[str, Any]] = {}
        self._remote_journal = RemoteJournal(self._journal_since)
        self.journal: Journal = self._remote_journal
        self.closed = False

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        if self.closed:
            raise RemoteError(f"world {self.id} is closed")
        return self._client.call(method, f"/worlds/{self.id}/{path}", body)

    def _journal_since(self, since: int) -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = self._call("GET", f"journal?since={since}")
        return answer

    # -- addresses -------------------------------------------------------

    def servers(self) -> list[str]:
        return list(self._ports)

    def port(self, server: str) -> int:
        try:
            return self._ports[server]
        except KeyError:
            known = ", ".join(self._ports)
            raise KeyError(f"no server {server!r} in this world (known: {known})") from None

    def host(self, server: str, form: str = DEFAULT_FORM) -> str:
        return form.format(port=self.port(server))

    def resolve_map(self) -> str:
        return self._resolve

    # -- the model -------------------------------------------------------

    def user_key(self, email: str) -> str:
        return str(self._call("GET", f"users/{_quote(email)}/key")["key"])

    def rack_key(self, ref: str) -> str:
        return str(self._call("GET", f"racks/{_quote_ref(ref)}/key")["key"])

    def deploy_key(self, ref: str) -> str:
        return str(self._call("GET", f"deploy-keys/{_quote_ref(ref)}/key")["key"])

    def key_identity(self, key: str | None) -> str:
        # A known key's identity never changes (only "unknown:" ones get upgraded): cache those.
        if not key:
            return "empty"
        cached = self._identities.get(key)
        if cached is not None:
            return cached
        if self._final_secrets is not None:
            return self._final_secrets.get(key) or unknown_identity(key)
        identity = str(self._call("POST", "identity", {"key": key})["identity"])
        if not identity.startswith("unknown:"):
            self._identities[key] = identity
        return identity

    def regenerate_user_key(self, email: str) -> str:
        return str(self._call("POST", f"users/{_quote(email)}/regenerate-key")["key"])

    def roll_rack_key(self, ref: str) -> None:
        self._call("POST", f"racks/{_quote_ref(ref)}/roll")

    def set_rack_password(self, ref: str, new: str) -> None:
        self._call("POST", f"racks/{_quote_ref(ref)}/password", {"password": new})

    def add_rack_to_console(self, ref: str, key: str) -> None:
        self._call("POST", f"racks/{_quote_ref(ref)}/console", {"key": key})

    def remove_rack_from_console(self, ref: str) -> None:
        self._call("DELETE", f"racks/{_quote_ref(ref)}/console")

    def add_member(self, org: str, email: str, role: str) -> None:
        self._call("POST", f"orgs/{_quote(org)}/members", {"email": email, "role": role})

    def remove_member(self, org: str, email: str) -> None:
        self._call("DELETE", f"orgs/{_quote(org)}/members/{_quote(email)}")

    def set_plan(self, org: str, plan: str) -> None:
        self._call("POST", f"orgs/{_quote(org)}/plan", {"plan": plan})

    def secrets(self) -> list[str]:
        if self._final_secrets is not None:
            return list(self._final_secrets)
        return list(self._call("GET", "secrets"))

    def finish_rack_updates(self) -> None:
        self._call("POST", "finish-rack-updates")

    def advance(self, seconds: float) -> None:
        self._call("POST", "advance", {"seconds": seconds})

    # -- faults and lifetime ----------------------------------------------

    def inject(self, fault: Fault) -> FaultHandle:
        if fault.server not in self._ports:
            known = ", ".join(self._ports)
            raise ValueError(
                f"fault names server {fault.server!r}, not in this world (known: {known})"
            )
        data = fault.to_dict()
        if isinstance(data.get("body"), bytes):
            data["body"] = data["body"].decode("utf-8")
        answer = self._call("POST", "faults", data)
        return RemoteFaultHandle(self, fault, int(answer["id"]))

    def clear_faults(self) -> None:
        answer = self._call("DELETE", "faults")
        for state in answer.get("cleared", []):
            self._fault_final[int(state["id"])] = {**state, "active": False}

    def close(self) -> None:
        """Lift its faults and delete the world in serve; journal and secrets stay readable."""
        if self.closed:
            return
        try:
            self.clear_faults()  # as in process; handles keep their final counts
            self._remote_journal.freeze()
            self._final_secrets = dict(self._call("GET", "secrets"))
        finally:
            self.closed = True
            # If the serve process went away there is nothing left to free.
            with contextlib.suppress(WorldError, RemoteError):
                self._client.call("DELETE", f"/worlds/{self.id}")
            if self._on_close is not None:
                self._on_close(self)

    def __enter__(self) -> RemoteWorld:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RemoteBackend:
    """Worlds from one or more `convox-conformance serve` admin APIs."""

    name = "remote"

    def __init__(
        self, urls: Sequence[str] | str | None = None, *, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        if urls is None:
            urls = os.environ.get(SERVE_ENV, "")
        if isinstance(urls, str):
            urls = [u for u in re.split(r"[\s,]+", urls) if u]
        if not urls:
            raise BackendError(
                f"backend remote needs a serve admin URL: --serve http://127.0.0.1:PORT "
                f"or {SERVE_ENV}=http://127.0.0.1:PORT (from `convox-conformance serve`)"
            )
        self.clients = [AdminClient(url, timeout) for url in urls]
        worker = re.sub(r"\D", "", os.environ.get("PYTEST_XDIST_WORKER", "")) or "0"
        self._next = itertools.count(int(worker))
        self._dir: Path | None = None
        self._open: dict[int, RemoteWorld] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        """Fetch every serve's CA into one bundle: the CLI may meet any of them."""
        if self._dir is not None:
            return
        pems = []
        for client in self.clients:
            status, pem = client.raw("GET", "/ca")
            if status != 200 or b"BEGIN CERTIFICATE" not in pem:
                raise RemoteError(
                    f"{client.url} answered GET /ca with {status}: is it convox-conformance serve?"
                )
            pems.append(pem.strip() + b"\n")
        directory = Path(tempfile.mkdtemp(prefix="convox-conformance-remote-"))
        (directory / "ca.pem").write_bytes(b"".join(pems))
        self._dir = directory

    def stop(self) -> None:
        """Delete the worlds still open, forget the CA bundle, close connections."""
        with self._lock:
            worlds = list(self._open.values())
            self._open.clear()
        for world in worlds:
            with contextlib.suppress(WorldError, RemoteError):
                world.close()
        for client in self.clients:
            client.close()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> RemoteBackend:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def ca_bundle(self) -> Path:
        self.start()
        assert self._dir is not None
        return self._dir / "ca.pem"

    def new_world(self, name_or_path: str | Path, rack_api: str = CURRENT_API) -> RemoteWorld:
        """A fresh world; a local world file is sent as text (serve may be elsewhere)."""
        self.start()
        client = self.clients[next(self._next) % len(self.clients)]
        text = str(name_or_path)
        if isinstance(name_or_path, Path) or text.endswith(".toml") or "/" in text:
            path = Path(name_or_path)
            try:
                body = {"name": path.stem, "toml": path.read_text(encoding="utf-8")}
            except OSError as exc:
                raise ValueError(f"{path}: cannot read world file: {exc.strerror}") from None
        else:
            body = {"name": text}
        body["rack_api"] = rack_api
        try:
            description = client.call("POST", "/worlds", body)
        except WorldError as exc:
            raise ValueError(exc.message) from None
        world = RemoteWorld(client, description, self._forget)
        with self._lock:
            self._open[id(world)] = world
        return world

    def _forget(self, world: RemoteWorld) -> None:
        with self._lock:
            self._open.pop(id(world), None)


def _quote(part: str) -> str:
    return urllib.parse.quote(part, safe="@")


def _quote_ref(ref: str) -> str:
    org, _, name = ref.partition("/")
    return f"{_quote(org)}/{_quote(name)}"


__all__ = ["SERVE_ENV", "AdminClient", "RemoteBackend", "RemoteJournal", "RemoteWorld"]
