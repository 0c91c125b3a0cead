"""A real TLS client for the HTTP tests of the fakes.

The tests talk to the fakes exactly as a CLI would: http.client over TLS,
verifying the backend's CA, basic auth `convox:<key>`, a `Rack` header. One
place for it keeps every test's requests identical in shape.
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
from dataclasses import dataclass, field
from typing import Any


def basic(key: str, user: str = "convox") -> str:
    """The Authorization header value a Convox CLI sends."""
    return "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode("ascii")


@dataclass
class Reply:
    """One answer: status, headers (lower-case names) and raw bytes."""

    status: int
    headers: dict[str, str]
    body: bytes
    raw_headers: list[tuple[str, str]] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error(self) -> str:
        data = self.json()
        assert isinstance(data, dict) and isinstance(data.get("error"), str), data
        return str(data["error"])

    def wire(self) -> bytes:
        """Everything the server sent that a leak could hide in."""
        head = "".join(f"{k}: {v}\n" for k, v in self.raw_headers)
        return f"{self.status}\n{head}\n".encode() + self.body


def split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def request(
    context: ssl.SSLContext,
    address: str,
    method: str = "GET",
    path: str = "/auth",
    *,
    key: str | None = None,
    rack: str | None = None,
    body: bytes | str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> Reply:
    """One request on a fresh connection, as a CLI makes it."""
    host, port = split(address)
    conn = http.client.HTTPSConnection(host, port, context=context, timeout=timeout)
    try:
        return send(conn, method, path, key=key, rack=rack, body=body, headers=headers)
    finally:
        conn.close()


def send(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    *,
    key: str | None = None,
    rack: str | None = None,
    body: bytes | str | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """One request on an existing (possibly kept-alive) connection."""
    sent = dict(headers or {})
    if key is not None:
        sent["Authorization"] = basic(key)
    if rack is not None:
        sent["Rack"] = rack
    if isinstance(body, str):
        body = body.encode()
    if body is not None and not any(k.lower() == "content-type" for k in sent):
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=sent)
    answer = conn.getresponse()
    data = answer.read()
    raw = [(k, v) for k, v in answer.getheaders()]
    return Reply(answer.status, {k.lower(): v for k, v in raw}, data, raw)
