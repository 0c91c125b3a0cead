"""A small threaded HTTPS listener with transport-level faults.

Why not werkzeug or http.server's handler: the fakes must be able to break a
connection in ways a real network breaks it (a TCP reset, a connection
closed before any byte, a body cut short, a TLS handshake refused), and that
needs the raw socket under the HTTP layer. What goes over a connection (the
messages, the parser, the JSON error answers) is :mod:`fakes.http.messages`;
this module owns the sockets, TLS and threads, and writes the answers.

Each accepted connection is handed to its own daemon thread *before* the TLS
handshake, so a slow or stalled client never blocks the others, and a fault
can abort the handshake itself. The application behind a listener is a
plain attribute that can be swapped at any time: listeners are pooled for a
whole test session and re-pointed at each test's world.
"""

from __future__ import annotations

import contextlib
import http
import ipaddress
import socket
import socketserver
import ssl
import struct
import threading
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from fakes.http.messages import (
    MAX_BODY,
    MAX_HEADER_BYTES,
    MAX_HEADERS,
    MAX_REQUEST_LINE,
    BadRequest,
    ClientGone,
    Connection,
    Headers,
    HttpRequest,
    HttpResponse,
    Transport,
    basic_auth_password,
    error_response,
    json_response,
    read_request,
    text_response,
)

__all__ = [
    "MAX_BODY",
    "MAX_HEADERS",
    "MAX_HEADER_BYTES",
    "MAX_REQUEST_LINE",
    "App",
    "Connection",
    "Headers",
    "HttpRequest",
    "HttpResponse",
    "Listener",
    "Transport",
    "Unattached",
    "basic_auth_password",
    "error_response",
    "json_response",
    "text_response",
]

MAX_ERRORS_KEPT = 50


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


def stop_in_parallel(stops: Iterable[Callable[[], None]]) -> None:
    """Run each server's ``stop`` at once and wait for all: each waits up to its accept
    loop's poll interval, and a session ends with a dozen or more servers."""
    stoppers = [threading.Thread(target=stop, name="server-stop") for stop in stops]
    for thread in stoppers:
        thread.start()
    for thread in stoppers:
        thread.join()


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
                    request, keep_alive = read_request(rfile, tls, conn)
                except ClientGone:
                    return
                except BadRequest as bad:
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
