"""A small threaded HTTPS listener with transport-level faults.

Why not werkzeug or http.server's handler: the fakes must be able to break a
connection in ways a real network breaks it (a TCP reset, a connection
closed before any byte, a body cut short, a TLS handshake refused), and that
needs the raw socket under the HTTP layer. The parser here is deliberately
small: HTTP/1.1 with Content-Length or chunked request bodies, keep-alive,
and JSON error answers for anything malformed, so a fuzzer never sees an
HTML error page. Malformed requests get a 4xx, never a 5xx (not even 505 or
501): a 5xx from the fakes must always mean an injected fault or a bug.

Each accepted connection is handed to its own daemon thread *before* the TLS
handshake, so a slow or stalled client never blocks the others, and a fault
can abort the handshake itself. The application behind a listener is a
plain attribute that can be swapped at any time: listeners are pooled for a
whole test session and re-pointed at each test's world.
"""

from __future__ import annotations

import base64
import contextlib
import http
import ipaddress
import json
import socket
import socketserver
import ssl
import struct
import threading
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Literal

MAX_REQUEST_LINE = 8192
MAX_HEADER_BYTES = 65536
MAX_HEADERS = 100
MAX_BODY = 1024 * 1024
MAX_ERRORS_KEPT = 50

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


class App:
    """Base for what a listener serves. Subclasses override `__call__`.

    The TLS hooks let an app refuse a handshake (a `tls_failure` fault) or
    record connections that never became a request (the egress guard).
    """

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return error_response(404, f"no route for {request.method} {request.path}")

    def accept_tls(self, conn: Connection) -> bool:
        """Called during the handshake once the client hello (and SNI) is known."""
        return True

    def tls_failed(self, conn: Connection, error: str) -> None:
        """Called when a handshake did not complete, for whatever reason."""

    def tls_context(self, conn: Connection) -> ssl.SSLContext | None:
        """Another server context (another certificate) for this handshake, or None."""
        return None


class Unattached(App):
    """What a pooled listener serves between worlds."""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return error_response(503, "this listener is not attached to any world")


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _ClientGone(Exception):
    """The client closed the connection between requests: nothing to answer."""


def _sni_callback(sock: Any, server_name: str | None, _ctx: ssl.SSLContext) -> int | None:
    """Shared by every listener: per-connection state rides on the socket."""
    state = getattr(sock, "_conformance_state", None)
    if state is None:
        return None
    conn, app = state
    conn.sni = server_name
    conn.hello_seen = True
    try:
        accepted = app.accept_tls(conn)
        if accepted:
            other = app.tls_context(conn)
            if other is not None:
                sock.context = other  # the certificate this handshake presents
    except Exception:  # an app bug must not print from inside OpenSSL
        accepted = True
    return None if accepted else ssl.ALERT_DESCRIPTION_HANDSHAKE_FAILURE


class _Server(socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        super().__init__((listener.host, listener.bind_port), socketserver.BaseRequestHandler,
                         bind_and_activate=True)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.listener._spawn(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:  # pragma: no cover
        self.listener._record_error(traceback.format_exc())


class Listener:
    """One HTTPS port on loopback serving whatever `app` currently is.

    `host` is 127.0.0.1 unless the network sandbox gives a world its own
    loopback address (and a fixed `port` such as 443); it must be loopback.
    """

    def __init__(
        self,
        ssl_context: ssl.SSLContext,
        app: App | None = None,
        *,
        name: str = "listener",
        handshake_timeout: float = 10.0,
        idle_timeout: float = 30.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"listeners bind loopback only, not {host}")
        self.host = host
        self.bind_port = port
        ssl_context.sni_callback = _sni_callback
        self._ctx = ssl_context
        self.app: App = app or Unattached()
        self.name = name
        self.handshake_timeout = handshake_timeout
        self.idle_timeout = idle_timeout
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: set[threading.Thread] = set()
        self._sockets: set[socket.socket] = set()
        self._server: _Server | None = None
        self._loop: threading.Thread | None = None
        self.port = 0

    @property
    def address(self) -> str:
        """`127.0.0.1:<port>`, the form the journal records."""
        return f"{self.host}:{self.port}"

    def start(self) -> Listener:
        """Bind a free loopback port and start accepting."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server(self)
        self.port = self._server.server_address[1]
        self._loop = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{self.name}-accept",
            daemon=True,
        )
        self._loop.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Close the port, cut every open connection and join every thread."""
        server = self._server
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if self._loop is not None:
            self._loop.join(timeout)
        self.drop_connections()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)
        self._server = None
        self._loop = None

    def drop_connections(self) -> None:
        """Cut every open connection (keep-alive ones included) but keep listening.

        Used when a pooled listener moves to another world, so no client of
        the previous test talks to the next test's world on an old connection.
        """
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def __enter__(self) -> Listener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def live_threads(self) -> int:
        """Connection threads still running (0 after a clean stop)."""
        with self._lock:
            return sum(1 for t in self._threads if t.is_alive())

    # -- internals -------------------------------------------------------

    def _record_error(self, text: str) -> None:
        with self._lock:
            if len(self.errors) < MAX_ERRORS_KEPT:
                self.errors.append(text)

    def _spawn(self, sock: socket.socket, client_address: Any) -> None:
        if self._stopping.is_set():
            sock.close()
            return
        thread = threading.Thread(
            target=self._connection,
            args=(sock, client_address),
            name=f"{self.name}-conn",
            daemon=True,
        )
        with self._lock:
            self._threads.add(thread)
            self._sockets.add(sock)
        thread.start()

    def _connection(self, raw: socket.socket, client_address: Any) -> None:
        conn = Connection(local=self.address, peer=f"{client_address[0]}:{client_address[1]}")
        tls: ssl.SSLSocket | None = None
        try:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            raw.settimeout(self.handshake_timeout)
            app = self.app
            tls = self._ctx.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
            with self._lock:
                self._sockets.discard(raw)
                self._sockets.add(tls)
            tls._conformance_state = (conn, app)  # type: ignore[attr-defined]
            try:
                tls.do_handshake()
            except (OSError, ValueError) as exc:
                try:
                    app.tls_failed(conn, f"{type(exc).__name__}: {exc}")
                except Exception:
                    self._record_error(traceback.format_exc())
                return
            tls.settimeout(self.idle_timeout)
            self._requests(tls, conn)
        except (OSError, ValueError):
            pass  # the client went away; nothing to report
        except Exception:
            self._record_error(traceback.format_exc())
        finally:
            sock = tls if tls is not None else raw
            with contextlib.suppress(OSError):
                sock.close()
            with self._lock:
                self._sockets.discard(sock)
                self._sockets.discard(raw)
                self._threads.discard(threading.current_thread())

    def _requests(self, tls: ssl.SSLSocket, conn: Connection) -> None:
        rfile = tls.makefile("rb")
        try:
            while not self._stopping.is_set():
                try:
                    request, keep_alive = _read_request(rfile, tls, conn)
                except _ClientGone:
                    return
                except _BadRequest as bad:
                    self._write(
                        tls, error_response(bad.status, bad.message), head=False, keep_alive=False
                    )
                    return
                response = self._answer(request)
                if response.delay > 0 and self._stopping.wait(response.delay):
                    return
                if response.transport == "reset":
                    tls.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                if response.transport == "empty":
                    return
                truncated = response.transport == "truncated"
                self._write(
                    tls,
                    response,
                    head=request.method == "HEAD",
                    keep_alive=keep_alive and not truncated,
                    truncated=truncated,
                )
                if truncated or not keep_alive:
                    return
        finally:
            rfile.close()

    def _answer(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.app(request)
            valid = isinstance(response, HttpResponse) and (
                response.transport in ("reset", "empty") or 100 <= int(response.status) <= 999
            )
            if not valid:
                raise TypeError(f"app returned {response!r}")
            return response
        except Exception as exc:
            self._record_error(traceback.format_exc())
            return error_response(500, f"internal error in the fake server: {type(exc).__name__}")

    def _write(
        self,
        tls: ssl.SSLSocket,
        response: HttpResponse,
        *,
        head: bool,
        keep_alive: bool,
        truncated: bool = False,
    ) -> None:
        status = int(response.status)
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        no_body = head or status in (204, 304) or 100 <= status < 200
        lines = [f"HTTP/1.1 {status} {reason}"]
        for name, value in response.headers.items():
            if name.lower() in ("content-length", "connection", "transfer-encoding"):
                continue
            lines.append(f"{name}: {value}")
        if status not in (204, 304) and not 100 <= status < 200:
            lines.append(f"Content-Length: {len(response.body)}")
        lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        if not no_body:
            data += response.body[: len(response.body) // 2] if truncated else response.body
        tls.sendall(data)


def _readline(rfile: BinaryIO, limit: int, what: str, status: int) -> bytes:
    line = rfile.readline(limit + 1)
    if len(line) > limit:
        raise _BadRequest(status, f"{what} too long")
    return line


_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


def _read_request(
    rfile: BinaryIO, tls: ssl.SSLSocket, conn: Connection
) -> tuple[HttpRequest, bool]:
    """Read one request; raise _ClientGone at a clean end, _BadRequest if malformed."""
    line = b""
    for _ in range(3):  # RFC 9112: ignore a few empty lines before a request
        try:
            line = _readline(rfile, MAX_REQUEST_LINE, "request line", 414)
        except (TimeoutError, OSError) as exc:
            raise _ClientGone from exc
        if not line:
            raise _ClientGone
        if line.strip():
            break
    text = line.decode("latin-1").rstrip("\r\n")
    parts = text.split(" ")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise _BadRequest(400, "malformed request line")
    method, target, version = parts
    if not set(method) <= _TOKEN_CHARS:
        raise _BadRequest(400, "malformed method")
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise _BadRequest(400, "only HTTP/1.0 and HTTP/1.1 are spoken here")
    if target.startswith(("https://", "http://")):
        rest = target.split("://", 1)[1]
        slash = rest.find("/")
        target = rest[slash:] if slash >= 0 else "/"
    if not (target.startswith("/") or target == "*"):
        raise _BadRequest(400, "malformed request target")
    if not target.isascii() or any(ch <= " " or ch == "\x7f" for ch in target):
        raise _BadRequest(400, "the request target must be printable ASCII")
    path, _, query = target.partition("?")

    pairs: list[tuple[str, str]] = []
    total = 0
    while True:
        raw = _readline(rfile, MAX_HEADER_BYTES, "header line", 431)
        total += len(raw)
        if total > MAX_HEADER_BYTES or len(pairs) > MAX_HEADERS:
            raise _BadRequest(431, "request headers too large")
        if not raw:
            raise _ClientGone
        if raw in (b"\r\n", b"\n"):
            break
        if raw[:1] in (b" ", b"\t"):
            raise _BadRequest(400, "obsolete header line folding is not accepted")
        name, sep, value = raw.decode("latin-1").rstrip("\r\n").partition(":")
        if not sep or not name or not set(name) <= _TOKEN_CHARS:
            raise _BadRequest(400, "malformed header line")
        value = value.strip(" \t")
        if "\r" in value or "\x00" in value:
            raise _BadRequest(400, "header values must not contain CR or NUL")
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
            raise _BadRequest(400, "both Transfer-Encoding and Content-Length given")
        if encodings != ["chunked"]:
            raise _BadRequest(400, "only chunked transfer encoding is supported")
        return _read_chunked(rfile)
    if not lengths:
        return b""
    if len(set(lengths)) != 1 or not lengths[0].isdigit() or not lengths[0].isascii():
        raise _BadRequest(400, "malformed Content-Length")
    length = int(lengths[0])
    if length > MAX_BODY:
        raise _BadRequest(413, "request body too large")
    body = rfile.read(length)
    if len(body) != length:
        raise _ClientGone
    return body


def _read_chunked(rfile: BinaryIO) -> bytes:
    chunks: list[bytes] = []
    size_total = 0
    while True:
        line = _readline(rfile, 1024, "chunk size line", 400)
        if not line:
            raise _ClientGone
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError as exc:
            raise _BadRequest(400, "malformed chunk size") from exc
        if size < 0:
            raise _BadRequest(400, "malformed chunk size")
        if size == 0:
            while True:  # trailers
                trailer = _readline(rfile, MAX_REQUEST_LINE, "trailer line", 431)
                if trailer in (b"\r\n", b"\n", b""):
                    return b"".join(chunks)
        size_total += size
        if size_total > MAX_BODY:
            raise _BadRequest(413, "request body too large")
        data = rfile.read(size)
        if len(data) != size:
            raise _ClientGone
        if rfile.read(2) not in (b"\r\n",):
            raise _BadRequest(400, "malformed chunk")
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
