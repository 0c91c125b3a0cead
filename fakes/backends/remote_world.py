"""A world living in a serve process, as the checks see it: its handle, journal and faults.

`RemoteWorld` implements the same `WorldHandle` seam as the in-process
`LocalWorld`, driven through serve's JSON admin API; the world actions that
only forward to serve are made from :mod:`fakes.backends.actions`, so a new
action needs no edit here. The journal is the ordinary `Journal` with its
storage swapped for admin API reads, so the query helpers and their near-miss
explanations are the very same code.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from typing import Any

from fakes.backends.actions import ACTIONS, BY_NAME, WorldAction
from fakes.backends.in_process import DEFAULT_FORM, check_fault_server, no_such_server
from fakes.backends.remote_client import AdminClient, RemoteError
from fakes.http.faults import Fault, FaultHandle
from fakes.http.journal import FIELDS, Journal, JournalEntry
from fakes.model.keys import unknown_identity
from fakes.model.world import WorldError


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
    """One check's world in a serve process, behind the `WorldHandle` interface.

    The world actions the table marks ``remote_generated`` (``user_key``,
    ``roll_rack_key``, ``add_member``, ...) are not written here: each is a
    method made from its table entry that sends it to serve and returns what
    the answer holds (:func:`_forwarder`).
    """

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
            raise no_such_server(server, self._ports) from None

    def host(self, server: str, form: str = DEFAULT_FORM) -> str:
        return form.format(port=self.port(server))

    def resolve_map(self) -> str:
        return self._resolve

    # -- the model: the table's actions are forwarded (see _forwarder below) -----

    def _send(self, action: WorldAction, values: dict[str, Any]) -> Any:
        """``action`` on its first admin API route, ``values`` in its path and body."""
        route = action.routes[0]
        return self._call(route.method, route.fill(values), action.body(route, values))

    def key_identity(self, key: str | None) -> str:
        # A known key's identity never changes (only "unknown:" ones get upgraded): cache those.
        if not key:
            return "empty"
        cached = self._identities.get(key)
        if cached is not None:
            return cached
        if self._final_secrets is not None:
            return self._final_secrets.get(key) or unknown_identity(key)
        identity = str(self._send(BY_NAME["key_identity"], {"key": key})["identity"])
        if not identity.startswith("unknown:"):
            self._identities[key] = identity
        return identity

    def secrets(self) -> list[str]:
        if self._final_secrets is not None:
            return list(self._final_secrets)
        return list(self._send(BY_NAME["secrets"], {}))

    # -- faults and lifetime ----------------------------------------------

    def inject(self, fault: Fault) -> FaultHandle:
        check_fault_server(fault, self._ports)
        data = fault.to_dict()
        if isinstance(data.get("body"), bytes):
            data["body"] = data["body"].decode("utf-8")
        route = BY_NAME["inject"].routes[0]  # the fault itself is the body
        answer = self._call(route.method, route.path, data)
        return RemoteFaultHandle(self, fault, int(answer["id"]))

    def clear_faults(self) -> None:
        answer = self._send(BY_NAME["clear_faults"], {})
        for state in answer.get("cleared", []):
            self._fault_final[int(state["id"])] = {**state, "active": False}

    def close(self) -> None:
        """Lift its faults and delete the world in serve; journal and secrets stay readable."""
        if self.closed:
            return
        try:
            self.clear_faults()  # as in process; handles keep their final counts
            self._remote_journal.freeze()
            self._final_secrets = dict(self._send(BY_NAME["secrets"], {}))
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


def _forwarder(action: WorldAction) -> Callable[..., Any]:
    """A `RemoteWorld` method that sends ``action`` to serve and returns the answer's
    result field (as a string), with the action's own signature for callers to see."""
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    signature = inspect.Signature(
        [self_param, *(inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                         annotation=p.type) for p in action.params)],
        return_annotation=action.returns,
    )
    result = action.result_field()

    def forward(self: RemoteWorld, *args: Any, **kwargs: Any) -> Any:
        values = dict(signature.bind(self, *args, **kwargs).arguments)
        del values["self"]
        answer = self._send(action, values)
        return None if result is None else str(answer[result])

    forward.__name__ = action.name
    forward.__qualname__ = f"RemoteWorld.{action.name}"
    route = action.routes[0]
    forward.__doc__ = f"{action.name} in the serve-side world ({route.method} {route.path})."
    forward.__signature__ = signature  # type: ignore[attr-defined]
    forward.world_action = action  # type: ignore[attr-defined]  # what tests tell it by
    return forward


for _action in ACTIONS:
    if _action.remote_generated:
        setattr(RemoteWorld, _action.name, _forwarder(_action))


__all__ = ["RemoteFaultHandle", "RemoteJournal", "RemoteWorld"]
