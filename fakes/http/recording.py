"""Turning one HTTP exchange into a journal entry, without leaking a key.

Console and every rack record requests the same way; doing it in one place
means the redaction (keys become identities, in headers and bodies alike)
cannot be forgotten by one server.
"""

from __future__ import annotations

import secrets

from fakes.http.journal import Journal, JournalEntry
from fakes.http.listener import HttpRequest, basic_auth_password
from fakes.model.world import World

# Console sends it on the proxy hop; the rack journals it so both hops share one id.
REQUEST_ID_HEADER = "X-Conformance-Request-Id"
MAX_JOURNALED_BODY = 64 * 1024


def new_request_id() -> str:
    """A fresh id for one CLI request (and the proxy hop it causes)."""
    return secrets.token_hex(8)


def incoming_request_id(request: HttpRequest) -> str | None:
    """The id Console gave a proxied request, if this request carries one."""
    value = request.headers.get(REQUEST_ID_HEADER)
    if not value:
        return None
    value = value.strip()[:64]
    return value if value.isascii() and value.isprintable() and value else None


def record(
    journal: Journal,
    world: World,
    request: HttpRequest,
    *,
    server: str,
    hop: str,
    request_id: str,
    status: int,
) -> JournalEntry:
    """Journal `request` as `server` saw it; every key in it becomes its identity."""
    key = basic_auth_password(request.headers)
    rack = request.headers.get("Rack")
    body = request.body[:MAX_JOURNALED_BODY].decode("utf-8", errors="replace")
    return journal.record(
        request_id=request_id,
        server=server,
        address=request.local,
        host_header=world.redact(request.headers.get("Host", "")),
        hop=hop,
        method=request.method,
        path=world.redact(request.path),
        query=world.redact(request.query),
        key_identity=world.key_identity(key),
        rack_header=None if rack is None else world.redact(rack),
        session_identity=world.key_identity(request.headers.get("Session")),
        body=world.redact(body),
        status=status,
    )
