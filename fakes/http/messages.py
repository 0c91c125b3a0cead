"""HTTP/1.1 messages for the fakes: headers, requests, responses, and the request parser.

The listener in :mod:`fakes.http.listener` owns sockets, TLS and threads; what goes
over a connection is here: a deliberately small parser (HTTP/1.1 with
Content-Length or chunked request bodies, keep-alive) that answers anything
malformed with a 4xx and a JSON error, so a fuzzer never sees an HTML error
page; never a 5xx (not even 505 or 501): a 5xx from the fakes must always
mean an injected fault or a bug. The Console and Rack layers build their
answers with the helpers here.

Why not h11 (python-hyper's sans-IO HTTP/1.1, which httpx and uvicorn build
on): checked against h11 0.16 with the malformed requests of
tests/fakes/test_https.py, it would change the fakes' answers:

* it answers ``Transfer-Encoding: gzip`` with 501, and a 5xx from the fakes
  must mean a fault or a bug (here: 400);
* it accepts what is refused here: an ``HTTP/2.0`` request line, a target
  not starting with ``/`` (``GET nopath``), obsolete header folding,
  ``Content-Length: 1, 1``, and Content-Length beside chunked;
* it refuses what is accepted here: an HTTP/1.1 request without ``Host``, and
  empty lines before the request line (RFC 9112 section 2.2 lets a server
  ignore them);
* it never keeps an HTTP/1.0 connection alive, ``Connection: keep-alive`` or not;
* it has one bound for the whole head, so the 414 (request line), 431
  (header block, more than ``MAX_HEADERS`` headers) and 413 (body) answers
  would need the lines read and counted again beside it;
* its errors quote the raw bytes ("illegal request line: bytearray(...)"),
  where the answers here are fixed sentences.

Keeping every answer as it is would mean this parser's checks again, next
to h11, so the fakes keep this one and do not depend on h11.
"""

from __future__ import annotations

import base64
import json
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Literal

from fakes.model.entities import Refusal

MAX_REQUEST_LINE = 8192
MAX_HEADER_BYTES = 65536
MAX_HEADERS = 100
MAX_BODY = 1024 * 1024

Transport = Literal["reset", "empty", "truncated"]


class Headers(Mapping[str, str]):
    """Case-insensitive, order-preserving HTTP headers.

    Lookups by any capitalisation give the first value; `get_all` gives every
    value, since a client may repeat a header and a conformance check may
    care.
    """

    def __init__(self, items: list[tuple[str, str]] | Mapping[str, str] | None = None) -> None:
        if items is None:
            pairs: list[tuple[str, str]] = []
        elif isinstance(items, Mapping):
            pairs = [(str(k), str(v)) for k, v in items.items()]
        else:
            pairs = [(str(k), str(v)) for k, v in items]
        self._items = pairs

    def __getitem__(self, name: str) -> str:
        wanted = name.lower()
        for key, value in self._items:
            if key.lower() == wanted:
                return value
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for key, _ in self._items:
            if key.lower() not in seen:
                seen.add(key.lower())
                yield key

    def __len__(self) -> int:
        return len({key.lower() for key, _ in self._items})

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(k.lower() == name.lower() for k, _ in self._items)

    def get_all(self, name: str) -> list[str]:
        """Every value of `name`, in the order received."""
        wanted = name.lower()
        return [value for key, value in self._items if key.lower() == wanted]

    def items_list(self) -> list[tuple[str, str]]:
        """The raw (name, value) pairs, duplicates included."""
        return list(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


@dataclass
class Connection:
    """What is known about one client connection, filled in as it proceeds.

    `sni` is set during the handshake (None when the client sent no server
    name, as clients do for IP addresses).
    """

    local: str
    peer: str
    sni: str | None = None
    hello_seen: bool = False


@dataclass(frozen=True)
class HttpRequest:
    """One parsed request. `path` never includes the query string."""

    method: str
    path: str
    query: str
    headers: Headers
    body: bytes
    sni: str | None = None
    local: str = ""
    peer: str = ""
    version: str = "HTTP/1.1"


@dataclass
class HttpResponse:
    """What an app answers.

    `delay` holds the answer back (interruptible by `Listener.stop`);
    `transport` asks the listener to break the connection instead of (or
    while) answering: "reset" (TCP RST), "empty" (close with no bytes) or
    "truncated" (announce the full Content-Length, send half, close).
    """

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0
    transport: Transport | None = None


def json_response(
    status: int, payload: Any, headers: Mapping[str, str] | None = None
) -> HttpResponse:
    """A JSON answer: what Console and a rack give for every route but a rack's ``/auth``."""
    merged = {"Content-Type": "application/json"}
    if headers:
        merged.update(headers)
    return HttpResponse(status, merged, json.dumps(payload).encode() + b"\n")


def text_response(status: int, text: str) -> HttpResponse:
    """A plain-text answer, as today's rack API gives for ``GET /auth`` (``ok``)."""
    return HttpResponse(status, {"Content-Type": "text/plain"}, text.encode())


def error_response(status: int, message: str) -> HttpResponse:
    """The `{"error": ...}` body the Convox CLIs print after `ERROR: `."""
    return json_response(status, {"error": message})


class BadRequest(Refusal):
    """A malformed request, answered with ``status`` and closed."""


class ClientGone(Exception):
    """The client closed the connection between requests: nothing to answer."""


def _readline(rfile: BinaryIO, limit: int, what: str, status: int) -> bytes:
    line = rfile.readline(limit + 1)
    if len(line) > limit:
        raise BadRequest(status, f"{what} too long")
    return line


_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


def read_request(
    rfile: BinaryIO, tls: ssl.SSLSocket, conn: Connection
) -> tuple[HttpRequest, bool]:
    """Read one request; raise ClientGone at a clean end, BadRequest if malformed."""
    line = b""
    for _ in range(3):  # RFC 9112: ignore a few empty lines before a request
        try:
            line = _readline(rfile, MAX_REQUEST_LINE, "request line", 414)
        except (TimeoutError, OSError) as exc:
            raise ClientGone from exc
        if not line:
            raise ClientGone
        if line.strip():
            break
    text = line.decode("latin-1").rstrip("\r\n")
    parts = text.split(" ")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise BadRequest(400, "malformed request line")
    method, target, version = parts
    if not set(method) <= _TOKEN_CHARS:
        raise BadRequest(400, "malformed method")
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise BadRequest(400, "only HTTP/1.0 and HTTP/1.1 are spoken here")
    if target.startswith(("https://", "http://")):
        rest = target.split("://", 1)[1]
        slash = rest.find("/")
        target = rest[slash:] if slash >= 0 else "/"
    if not (target.startswith("/") or target == "*"):
        raise BadRequest(400, "malformed request target")
    if not target.isascii() or any(ch <= " " or ch == "\x7f" for ch in target):
        raise BadRequest(400, "the request target must be printable ASCII")
    path, _, query = target.partition("?")

    pairs: list[tuple[str, str]] = []
    total = 0
    while True:
        raw = _readline(rfile, MAX_HEADER_BYTES, "header line", 431)
        total += len(raw)
        if total > MAX_HEADER_BYTES or len(pairs) > MAX_HEADERS:
            raise BadRequest(431, "request headers too large")
        if not raw:
            raise ClientGone
        if raw in (b"\r\n", b"\n"):
            break
        if raw[:1] in (b" ", b"\t"):
            raise BadRequest(400, "obsolete header line folding is not accepted")
        name, sep, value = raw.decode("latin-1").rstrip("\r\n").partition(":")
        if not sep or not name or not set(name) <= _TOKEN_CHARS:
            raise BadRequest(400, "malformed header line")
        value = value.strip(" \t")
        if "\r" in value or "\x00" in value:
            raise BadRequest(400, "header values must not contain CR or NUL")
        pairs.append((name, value))
    headers = Headers(pairs)

    keep_alive = version == "HTTP/1.1"
    connection_tokens = {
        t.strip().lower() for v in headers.get_all("Connection") for t in v.split(",")
    }
    if "close" in connection_tokens:
        keep_alive = False
    elif "keep-alive" in connection_tokens:
        keep_alive = True

    if headers.get("Expect", "").lower() == "100-continue" and version == "HTTP/1.1":
        tls.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")

    body = _read_body(rfile, headers)
    request = HttpRequest(
        method=method,
        path=path,
        query=query,
        headers=headers,
        body=body,
        sni=conn.sni,
        local=conn.local,
        peer=conn.peer,
        version=version,
    )
    return request, keep_alive


def _read_body(rfile: BinaryIO, headers: Headers) -> bytes:
    encodings = [
        t.strip().lower()
        for v in headers.get_all("Transfer-Encoding")
        for t in v.split(",")
        if t.strip()
    ]
    lengths = headers.get_all("Content-Length")
    if encodings:
        if lengths:
            raise BadRequest(400, "both Transfer-Encoding and Content-Length given")
        if encodings != ["chunked"]:
            raise BadRequest(400, "only chunked transfer encoding is supported")
        return _read_chunked(rfile)
    if not lengths:
        return b""
    if len(set(lengths)) != 1 or not lengths[0].isdigit() or not lengths[0].isascii():
        raise BadRequest(400, "malformed Content-Length")
    length = int(lengths[0])
    if length > MAX_BODY:
        raise BadRequest(413, "request body too large")
    body = rfile.read(length)
    if len(body) != length:
        raise ClientGone
    return body


def _read_chunked(rfile: BinaryIO) -> bytes:
    chunks: list[bytes] = []
    size_total = 0
    while True:
        line = _readline(rfile, 1024, "chunk size line", 400)
        if not line:
            raise ClientGone
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError as exc:
            raise BadRequest(400, "malformed chunk size") from exc
        if size < 0:
            raise BadRequest(400, "malformed chunk size")
        if size == 0:
            while True:  # trailers
                trailer = _readline(rfile, MAX_REQUEST_LINE, "trailer line", 431)
                if trailer in (b"\r\n", b"\n", b""):
                    return b"".join(chunks)
        size_total += size
        if size_total > MAX_BODY:
            raise BadRequest(413, "request body too large")
        data = rfile.read(size)
        if len(data) != size:
            raise ClientGone
        if rfile.read(2) not in (b"\r\n",):
            raise BadRequest(400, "malformed chunk")
        chunks.append(data)


def basic_auth_password(headers: Headers) -> str | None:
    """The password of an `Authorization: Basic` header (the API key), else None.

    The user name is not checked: the real servers look only at the password,
    and which user name a CLI sends is for the journal and the checks to judge.
    """
    value = headers.get("Authorization")
    if not value:
        return None
    scheme, _, encoded = value.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    _user, sep, password = decoded.partition(":")
    return password if sep else None
