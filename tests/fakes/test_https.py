"""The HTTPS listener: parsing, keep-alive, transport faults and a clean stop.

These run a bare Listener with a tiny echo app, so a failure here points at
the transport, not at Console or Rack logic.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import trustme

from fakes.http.listener import (
    App,
    Connection,
    Headers,
    HttpRequest,
    HttpResponse,
    Listener,
    basic_auth_password,
    json_response,
)
from tests.fakes.http_support import basic, request, send


class Echo(App):
    """Answers with what it parsed; `plan` lets a test ask for a given response."""

    def __init__(self) -> None:
        self.plan: HttpResponse | None = None
        self.refuse_tls = False
        self.hellos: list[str | None] = []
        self.failures: list[str] = []
        self.fail_with: Exception | None = None

    def __call__(self, req: HttpRequest) -> HttpResponse:
        if self.fail_with is not None:
            raise self.fail_with
        if self.plan is not None:
            return self.plan
        return json_response(
            200,
            {
                "method": req.method,
                "path": req.path,
                "query": req.query,
                "headers": dict(req.headers.items()),
                "x_test": req.headers.get("x-TEST"),
                "body": req.body.decode("latin-1"),
                "sni": req.sni,
                "local": req.local,
            },
        )

    def accept_tls(self, conn: Connection) -> bool:
        self.hellos.append(conn.sni)
        return not self.refuse_tls

    def tls_failed(self, conn: Connection, error: str) -> None:
        self.failures.append(error)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost", "*.convox.test").configure_cert(context)
    return context


@pytest.fixture
def echo() -> Echo:
    return Echo()


@pytest.fixture
def listener(ca: trustme.CA, echo: Echo) -> Iterator[Listener]:
    with Listener(server_context(ca), echo, name="test", handshake_timeout=5) as running:
        yield running
    assert running.errors == [] or all("RuntimeError" in e for e in running.errors)


def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Server threads finish their bookkeeping just after the client sees the result."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def raw_tls(listener: Listener, context: ssl.SSLContext, data: bytes) -> bytes:
    """Send raw bytes over TLS and read until the server closes."""
    chunks = []
    with (
        socket.create_connection(("127.0.0.1", listener.port), timeout=5) as sock,
        context.wrap_socket(sock, server_hostname="127.0.0.1") as tls,
    ):
        tls.sendall(data)
        while chunk := tls.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_binds_loopback_only(listener: Listener) -> None:
    assert listener.address == f"127.0.0.1:{listener.port}"
    assert listener._server is not None
    assert listener._server.server_address[0] == "127.0.0.1"


def test_parses_method_path_query_headers_body(listener: Listener, client_context) -> None:
    reply = request(
        client_context,
        listener.address,
        "PUT",
        "/apps/web/parameters?x=1&y=2",
        body="Password=abc",
        headers={"X-Test": "yes"},
    )
    data = reply.json()
    assert reply.status == 200
    assert data["method"] == "PUT"
    assert data["path"] == "/apps/web/parameters"
    assert data["query"] == "x=1&y=2"
    assert data["x_test"] == "yes"  # case-insensitive lookup
    assert data["body"] == "Password=abc"
    assert data["sni"] is None  # clients send no server name for an IP address
    assert data["local"] == listener.address


def test_sni_is_reported(listener: Listener, client_context) -> None:
    reply = request(client_context, f"localhost:{listener.port}", "GET", "/")
    assert reply.json()["sni"] == "localhost"


def test_empty_query_is_not_part_of_the_path(listener: Listener, client_context) -> None:
    data = request(client_context, listener.address, "GET", "/auth?").json()
    assert (data["path"], data["query"]) == ("/auth", "")


def test_chunked_request_body(listener: Listener, client_context) -> None:
    host, port = "127.0.0.1", listener.port
    conn = http.client.HTTPSConnection(host, port, context=client_context, timeout=5)
    try:
        conn.request("POST", "/x", body=iter([b"hello ", b"world"]), encode_chunked=True)
        data = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    assert data["body"] == "hello world"


def test_keep_alive_serves_several_requests_on_one_connection(
    listener: Listener, client_context
) -> None:
    conn = http.client.HTTPSConnection("127.0.0.1", listener.port, context=client_context)
    try:
        first = send(conn, "GET", "/one")
        sock = conn.sock
        second = send(conn, "GET", "/two")
        assert conn.sock is sock  # no reconnect happened
    finally:
        conn.close()
    assert (first.json()["path"], second.json()["path"]) == ("/one", "/two")
    assert first.headers["connection"] == "keep-alive"


def test_connection_close_is_honoured(listener: Listener, client_context) -> None:
    reply = request(client_context, listener.address, "GET", "/", headers={"Connection": "close"})
    assert reply.headers["connection"] == "close"


def test_head_has_no_body(listener: Listener, client_context) -> None:
    reply = request(client_context, listener.address, "HEAD", "/")
    assert reply.status == 200 and reply.body == b""


def test_expect_100_continue(listener: Listener, client_context) -> None:
    data = b'{"a": 1}'
    head = (
        b"POST /x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
        b"Connection: close\r\nContent-Length: 8\r\n\r\n"
    )
    rest = b""
    with (
        socket.create_connection(("127.0.0.1", listener.port), timeout=5) as sock,
        client_context.wrap_socket(sock, server_hostname="127.0.0.1") as tls,
    ):
        tls.sendall(head)
        assert tls.recv(100).startswith(b"HTTP/1.1 100 Continue")
        tls.sendall(data)
        while chunk := tls.recv(65536):
            rest += chunk
    assert b"200 OK" in rest and b'"body": "{\\"a\\": 1}"' in rest


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"NONSENSE\r\n\r\n", 400),
        (b"GET /x HTTP/2.0\r\n\r\n", 400),
        (b"GET nopath HTTP/1.1\r\n\r\n", 400),
        (b"GET /\xff HTTP/1.1\r\n\r\n", 400),
        (b"G(T / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n folded: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", 413),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n", 431),
    ],
)
def test_malformed_requests_get_a_json_4xx(listener, client_context, data, status) -> None:
    answer = raw_tls(listener, client_context, data)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()), head
    assert b"Connection: close" in head
    assert isinstance(json.loads(body)["error"], str)


def test_an_app_crash_is_a_json_500_and_is_recorded(listener, echo, client_context) -> None:
    echo.fail_with = RuntimeError("boom")
    reply = request(client_context, listener.address, "GET", "/")
    assert reply.status == 500 and "RuntimeError" in reply.error
    assert any("boom" in error for error in listener.errors)


def test_the_app_can_be_swapped(listener, client_context) -> None:
    class Other(App):
        def __call__(self, req: HttpRequest) -> HttpResponse:
            return json_response(201, {"other": True})

    listener.app = Other()
    assert request(client_context, listener.address).status == 201


def test_reset_reaches_the_client_as_a_reset(listener, echo, client_context) -> None:
    echo.plan = HttpResponse(0, transport="reset")
    # A hang would end in TimeoutError after 30 s; a reset is a ConnectionResetError.
    with pytest.raises(ConnectionResetError):
        request(client_context, listener.address, timeout=30)


def test_reset_is_a_real_tcp_reset(listener, echo, client_context) -> None:
    # Python's ssl module reports a reset under TLS as an EOF (RemoteDisconnected, itself a
    # ConnectionResetError); read the bytes under TLS to prove a RST, not a FIN, arrived.
    echo.plan = HttpResponse(0, transport="reset")
    with (
        socket.create_connection(("127.0.0.1", listener.port), timeout=5) as sock,
        client_context.wrap_socket(sock, server_hostname="127.0.0.1") as tls,
    ):
        tls.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            while socket.socket.recv(tls, 65536):
                pass  # session tickets may come first


def test_empty_reaches_the_client_as_no_answer(listener, echo, client_context) -> None:
    echo.plan = HttpResponse(0, transport="empty")
    with pytest.raises(http.client.RemoteDisconnected):
        request(client_context, listener.address, timeout=5)
    with (
        socket.create_connection(("127.0.0.1", listener.port), timeout=5) as sock,
        client_context.wrap_socket(sock, server_hostname="127.0.0.1") as tls,
    ):
        tls.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        while socket.socket.recv(tls, 65536):  # ends in a FIN (b""), not a reset
            pass


def test_truncated_reaches_the_client_as_a_short_body(listener, echo, client_context) -> None:
    echo.plan = json_response(200, {"padding": "x" * 100})
    echo.plan.transport = "truncated"
    with pytest.raises(http.client.IncompleteRead):
        request(client_context, listener.address, timeout=5)


def test_delay_holds_the_answer_back(listener, echo, client_context) -> None:
    echo.plan = json_response(200, {})
    echo.plan.delay = 0.3
    started = time.monotonic()
    assert request(client_context, listener.address).status == 200
    assert time.monotonic() - started >= 0.3


def test_refused_handshake_is_an_ssl_error(listener, echo, client_context) -> None:
    echo.refuse_tls = True
    with pytest.raises(ssl.SSLError, match="HANDSHAKE_FAILURE"):
        request(client_context, listener.address, timeout=5)
    assert eventually(lambda: bool(echo.failures)), "tls_failed should be told"


def test_plain_http_fails_the_handshake_and_is_reported(listener, echo) -> None:
    with socket.create_connection(("127.0.0.1", listener.port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        with contextlib.suppress(OSError):
            sock.recv(100)
    assert eventually(lambda: bool(echo.failures)) and echo.hellos == []


def test_a_stalled_client_does_not_block_others(listener, client_context) -> None:
    stalled = socket.create_connection(("127.0.0.1", listener.port))  # never says hello
    try:
        # Blocked behind the stalled client, the request would time out instead.
        assert request(client_context, listener.address, timeout=30).status == 200
    finally:
        stalled.close()


def test_client_disconnects_print_nothing(listener, client_context, capfd) -> None:
    for _ in range(3):
        sock = socket.create_connection(("127.0.0.1", listener.port))
        sock.close()  # before the handshake
        tls = client_context.wrap_socket(
            socket.create_connection(("127.0.0.1", listener.port)), server_hostname="127.0.0.1"
        )
        tls.sendall(b"GET / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")
        tls.close()  # in the middle of a body
    assert request(client_context, listener.address).status == 200
    out, err = capfd.readouterr()
    assert err == "" and out == ""
    assert listener.errors == []


def test_stop_closes_the_port_and_joins_every_thread(ca, client_context) -> None:
    echo = Echo()
    listener = Listener(server_context(ca), echo, name="stopper").start()
    port = listener.port
    idle = http.client.HTTPSConnection("127.0.0.1", port, context=client_context)
    send(idle, "GET", "/")  # a kept-alive connection left open
    stalled = socket.create_connection(("127.0.0.1", port))  # stuck before its handshake
    echo.plan = json_response(200, {})
    echo.plan.delay = 120  # a request held back by a long delay

    def wait_for_answer() -> None:
        with contextlib.suppress(OSError, http.client.HTTPException):
            request(client_context, listener.address)

    waiting = threading.Thread(target=wait_for_answer, daemon=True)
    waiting.start()
    time.sleep(0.2)
    started = time.monotonic()
    listener.stop()
    # Far below the 120 s the held request would take: stop() does not wait for it,
    # however busy the machine.
    assert time.monotonic() - started < 60
    assert listener.live_threads == 0
    assert not [t for t in threading.enumerate() if t.name.startswith("stopper")]
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    idle.close()
    stalled.close()
    waiting.join(5)


def test_headers_are_case_insensitive_and_keep_duplicates() -> None:
    headers = Headers([("Rack", "a/b"), ("X-One", "1"), ("x-one", "2")])
    assert headers["rack"] == "a/b" and headers.get("RACK") == "a/b"
    assert headers.get_all("X-ONE") == ["1", "2"]
    assert "x-one" in headers and "missing" not in headers
    assert len(headers) == 2 and list(headers) == ["Rack", "X-One"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (basic("secret"), "secret"),
        (basic("with:colon"), "with:colon"),
        (basic(""), ""),
        ("Bearer abc", None),
        ("Basic !!!notbase64", None),
        ("Basic " + base64.b64encode(b"nocolon").decode(), None),
        ("", None),
    ],
)
def test_basic_auth_password(value: str, expected: str | None) -> None:
    headers = Headers([("Authorization", value)] if value else [])
    assert basic_auth_password(headers) == expected
