"""Fault plans: what to break, where and when.

A check that wants to see how a CLI copes with a broken network or a broken
server says so declaratively (`Fault(server="console", kind="reset")`) and
the HTTP layers consult the world's `FaultPlan` on every request. Keeping
the plan as data (instead of monkeypatching the servers) lets the same fault
travel through the Backend interface, the standalone admin API and a
report.

Hops: "cli" is a request a CLI made (CLI->Console or CLI->Rack), "proxy" is
Console's own request to a rack. A TLS handshake is matched before any HTTP
is spoken, so for `tls_failure` the hop is told by the server name Console
sends when it proxies (`PROXY_SNI`).
"""

from __future__ import annotations

import fnmatch
import json
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from fakes.http.listener import HttpResponse, json_response

FaultKind = Literal[
    "status", "delay", "reset", "empty", "malformed_json", "truncated", "tls_failure",
    "untrusted_certificate",
]
KINDS: tuple[str, ...] = (
    "status",
    "delay",
    "reset",
    "empty",
    "malformed_json",
    "truncated",
    "tls_failure",
    "untrusted_certificate",
)
#: Faults that act on the TLS handshake, before any HTTP: `tls_failure` refuses it,
#: `untrusted_certificate` completes it with a certificate from a CA nobody was given.
HANDSHAKE_KINDS: tuple[str, ...] = ("tls_failure", "untrusted_certificate")
HOPS: tuple[str, ...] = ("cli", "proxy")
MAX_DELAY = 30.0

# The server name Console puts in its TLS hello when it proxies to a rack.
# Covered by the certificate's *.convox.test name, and lets a rack listener
# tell a proxy hop from a CLI hop before any HTTP is read.
PROXY_SNI = "console-proxy.convox.test"

MALFORMED_JSON = b'{"error": "this answer is not valid JSON", "id": '


def hop_for_sni(sni: str | None) -> str:
    """Which hop a TLS connection belongs to, judged from its server name."""
    return "proxy" if sni == PROXY_SNI else "cli"


@dataclass(frozen=True)
class Fault:
    """One thing to break.

    `path` is an exact path or an fnmatch pattern (`/apps/*`); None matches
    every path, as do `method` and `hop` when None. `times=None` fires on
    every match, `times=N` on the first N. With `probability`, each match
    fires with that chance, drawn from a generator seeded with `seed` so a
    run can be repeated.
    """

    server: str
    kind: FaultKind
    path: str | None = None
    method: str | None = None
    hop: str | None = None
    status: int = 500
    body: Any = None
    delay: float = 0.0
    times: int | None = None
    probability: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(KINDS)}")
        if self.hop is not None and self.hop not in HOPS:
            raise ValueError(f"unknown hop {self.hop!r}; one of cli, proxy")
        if not 100 <= int(self.status) <= 599:
            raise ValueError(f"fault status must be 100..599, not {self.status}")
        if self.kind == "delay" and not 0 < float(self.delay) <= MAX_DELAY:
            raise ValueError(f"a delay fault needs 0 < delay <= {MAX_DELAY} seconds")
        if self.times is not None and int(self.times) < 1:
            raise ValueError("times must be a positive number, or None for always")
        if self.probability is not None and not 0.0 <= float(self.probability) <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if self.kind in HANDSHAKE_KINDS and (self.path is not None or self.method is not None):
            raise ValueError(
                f"a {self.kind} fault happens before any request: "
                "it cannot match a path or method"
            )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        """Build from JSON (the admin API); unknown fields are an error."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(unknown)}")
        if "server" not in data or "kind" not in data:
            raise ValueError("a fault needs at least 'server' and 'kind'")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (for the admin API and reports)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    def matches(self, server: str, method: str | None, path: str | None, hop: str) -> bool:
        """Whether this fault applies to a request (or a handshake when path is None)."""
        if self.server != server:
            return False
        if self.hop is not None and self.hop != hop:
            return False
        if self.kind in HANDSHAKE_KINDS:
            return path is None
        if path is None:
            return False
        if self.method is not None and self.method.upper() != (method or "").upper():
            return False
        return self.path is None or self.path == path or fnmatch.fnmatchcase(path, self.path)

    def respond(self, answer: Callable[[], HttpResponse]) -> HttpResponse:
        """The faulty answer; `answer` computes the real one when the fault needs it."""
        if self.kind == "status":
            return self._status_response()
        if self.kind == "delay":
            response = answer()
            response.delay = float(self.delay)
            return response
        if self.kind == "reset":
            return HttpResponse(0, transport="reset")
        if self.kind == "empty":
            return HttpResponse(0, transport="empty")
        if self.kind == "malformed_json":
            body = (
                self.body.encode() if isinstance(self.body, str) else (self.body or MALFORMED_JSON)
            )
            status = self.status if self.status != 500 else 200
            return HttpResponse(status, {"Content-Type": "application/json"}, bytes(body))
        if self.kind == "truncated":
            response = answer()
            if len(response.body) < 2:
                response.body = json.dumps({"padding": "x" * 64}).encode()
            response.transport = "truncated"
            return response
        raise ValueError(f"{self.kind} is not a request-level fault")  # a handshake kind

    def _status_response(self) -> HttpResponse:
        if self.body is None:
            return json_response(self.status, {"error": f"injected fault: status {self.status}"})
        if isinstance(self.body, bytes):
            return HttpResponse(self.status, {"Content-Type": "text/plain"}, self.body)
        if isinstance(self.body, str):
            return HttpResponse(self.status, {"Content-Type": "text/plain"}, self.body.encode())
        return json_response(self.status, self.body)


@dataclass(eq=False)
class _Entry:
    fault: Fault
    rng: random.Random
    fired: int = 0
    removed: bool = False


class FaultHandle:
    """What `inject` gives back: how often the fault fired, and a way to lift it."""

    def __init__(self, plan: FaultPlan, entry: _Entry, ident: int) -> None:
        self._plan = plan
        self._entry = entry
        self.id = ident

    @property
    def fault(self) -> Fault:
        return self._entry.fault

    @property
    def fired(self) -> int:
        """How many requests (or handshakes) this fault has broken so far."""
        with self._plan._lock:
            return self._entry.fired

    @property
    def active(self) -> bool:
        """False once removed, cleared, or used up (`times` reached)."""
        with self._plan._lock:
            entry = self._entry
            exhausted = entry.fault.times is not None and entry.fired >= entry.fault.times
            return not entry.removed and not exhausted

    def remove(self) -> None:
        """Lift the fault; later requests are served normally."""
        self._plan._remove(self._entry)

    def __repr__(self) -> str:
        return f"FaultHandle(id={self.id}, fault={self.fault!r}, fired={self.fired})"


class FaultPlan:
    """The faults of one world. Thread-safe: every connection thread consults it."""

    def __init__(self) -> None:
        self._entries: list[_Entry] = []
        self._handles: dict[int, FaultHandle] = {}
        self._lock = threading.Lock()
        self._next_id = 1

    def add(self, fault: Fault) -> FaultHandle:
        """Start breaking what `fault` describes."""
        entry = _Entry(fault, random.Random(fault.seed))
        with self._lock:
            self._entries.append(entry)
            handle = FaultHandle(self, entry, self._next_id)
            self._handles[self._next_id] = handle
            self._next_id += 1
        return handle

    def clear(self) -> None:
        """Lift every fault."""
        with self._lock:
            for entry in self._entries:
                entry.removed = True
            self._entries.clear()
            self._handles.clear()

    def handle(self, ident: int) -> FaultHandle | None:
        """A handle by its id (the admin API refers to faults by id)."""
        with self._lock:
            return self._handles.get(ident)

    def handles(self) -> list[FaultHandle]:
        """Every fault not yet removed."""
        with self._lock:
            return list(self._handles.values())

    def match(self, server: str, method: str, path: str, hop: str) -> Fault | None:
        """The first fault that fires for this request, counting the firing."""
        return self._fire(server, method, path, hop)

    def match_tls(self, server: str, hop: str, kind: str = "tls_failure") -> Fault | None:
        """The first handshake fault of `kind` that fires for this handshake."""
        return self._fire(server, None, None, hop, kind)

    def _fire(
        self, server: str, method: str | None, path: str | None, hop: str, kind: str | None = None
    ) -> Fault | None:
        with self._lock:
            for entry in self._entries:
                fault = entry.fault
                if kind is not None and fault.kind != kind:
                    continue
                if fault.times is not None and entry.fired >= fault.times:
                    continue
                if not fault.matches(server, method, path, hop):
                    continue
                if fault.probability is not None and entry.rng.random() >= fault.probability:
                    continue
                entry.fired += 1
                return fault
        return None

    def _remove(self, entry: _Entry) -> None:
        with self._lock:
            entry.removed = True
            if entry in self._entries:
                self._entries.remove(entry)
            for ident, handle in list(self._handles.items()):
                if handle._entry is entry:
                    del self._handles[ident]


def apply_faults(
    plan: FaultPlan,
    server: str,
    method: str,
    path: str,
    hop: str,
    answer: Callable[[], HttpResponse],
) -> tuple[HttpResponse, Fault | None]:
    """Answer a request through the plan: the real answer, or the faulty one.

    Shared by every HTTP layer so a fault behaves the same on every server.
    """
    fault = plan.match(server, method, path, hop)
    if fault is None:
        return answer(), None
    return fault.respond(answer), fault
