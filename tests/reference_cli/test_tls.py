"""The reference CLI's TLS (reference_cli/tls.py) does what ``ssl`` and ``socket`` do.

It is built from the C modules under them to spare their import; each test runs
the same connection both ways and wants the same outcome: the same bytes, or
the same exception class with the same message.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme

from reference_cli import tls
from tests.reference_cli.conftest import RawTlsServer

REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
SETTINGS = ("options", "verify_mode", "check_hostname", "minimum_version", "maximum_version",
            "verify_flags", "security_level", "post_handshake_auth", "protocol")


def with_ssl(address: tuple[str, int], cafile: Path, name: str, timeout: float = 5) -> bytes:
    """The connection as ``ssl`` and ``socket`` make it."""
    context = ssl.create_default_context(cafile=str(cafile))
    raw = socket.create_connection(address, timeout)
    try:
        conn = context.wrap_socket(raw, server_hostname=name)
    except BaseException:
        raw.close()
        raise
    with conn:
        conn.sendall(REQUEST)
        return conn.makefile("rb").read()


def with_tls(address: tuple[str, int], cafile: Path, name: str, timeout: float = 5) -> bytes:
    conn = tls.Connection(address, timeout, tls.verifying_context(str(cafile)), name)
    try:
        conn.sendall(REQUEST)
        return conn.reader().read()
    finally:
        conn.close()


def outcome(connect: Callable[[], bytes]) -> tuple[str, str]:
    try:
        return "answer", connect().decode()
    except Exception as exc:  # the class and the words are what is compared
        return type(exc).__name__, str(exc)


def both(address: tuple[str, int], cafile: Path, name: str) -> tuple[tuple[str, str], ...]:
    return (outcome(lambda: with_ssl(address, cafile, name)),
            outcome(lambda: with_tls(address, cafile, name)))


@pytest.fixture
def answering(raw_server: Callable[[bytes | None], RawTlsServer]) -> RawTlsServer:
    # It closes without TLS's close_notify: the end of the body is a ragged EOF.
    return raw_server(ANSWER)


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("other-ca") / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return path


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP server that accepts and never speaks: the handshake cannot finish."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


def test_the_context_is_ssls_default_context(ca_file: Path) -> None:
    ours, theirs = tls.verifying_context(str(ca_file)), ssl.create_default_context(
        cafile=str(ca_file))
    assert {s: getattr(ours, s) for s in SETTINGS} == {s: getattr(theirs, s) for s in SETTINGS}
    assert ours.get_ciphers() == theirs.get_ciphers()
    assert ours.cert_store_stats() == theirs.cert_store_stats()
    assert ours.minimum_version == ssl.TLSVersion.TLSv1_2


def test_without_a_bundle_the_system_cas_are_loaded_as_ssl_loads_them() -> None:
    assert (tls.verifying_context(None).cert_store_stats()
            == ssl.create_default_context().cert_store_stats())


def test_an_unreadable_bundle_fails_as_in_ssl(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    for cafile in (bad, tmp_path / "missing.pem"):
        with pytest.raises(Exception) as ours:
            tls.verifying_context(str(cafile))
        with pytest.raises(Exception) as theirs:
            ssl.create_default_context(cafile=str(cafile))
        assert (type(ours.value), str(ours.value)) == (type(theirs.value), str(theirs.value))


def test_an_answer_is_read_to_its_end(answering: RawTlsServer, ca_file: Path) -> None:
    expected = ("answer", ANSWER.decode())
    assert both(("127.0.0.1", answering.port), ca_file, "127.0.0.1") == (expected, expected)


def test_a_name_is_sent_and_checked(answering: RawTlsServer, ca_file: Path) -> None:
    ssl_way, tls_way = both(("127.0.0.1", answering.port), ca_file, "console.convox.com")
    assert ssl_way == tls_way == ("answer", ANSWER.decode())


def test_a_certificate_for_another_name_fails_alike(answering: RawTlsServer,
                                                    ca_file: Path) -> None:
    ssl_way, tls_way = both(("127.0.0.1", answering.port), ca_file, "evil.example.com")
    assert ssl_way[0] == "SSLCertVerificationError"
    assert tls_way == ssl_way


def test_an_unknown_authority_fails_alike(answering: RawTlsServer, other_ca: Path) -> None:
    ssl_way, tls_way = both(("127.0.0.1", answering.port), other_ca, "127.0.0.1")
    assert ssl_way[0] == "SSLCertVerificationError"
    assert tls_way == ssl_way


def test_a_closed_port_fails_alike(ca_file: Path) -> None:
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    ssl_way, tls_way = both(("127.0.0.1", port), ca_file, "127.0.0.1")
    assert ssl_way[0] == "ConnectionRefusedError"
    assert tls_way == ssl_way


def test_a_name_that_does_not_resolve_fails_alike(ca_file: Path) -> None:
    ssl_way, tls_way = both(("no-such-host.invalid", 443), ca_file, "no-such-host.invalid")
    assert ssl_way[0] == "gaierror"
    assert tls_way == ssl_way


def test_a_stalled_handshake_times_out_alike(silent_port: int, ca_file: Path) -> None:
    address = ("127.0.0.1", silent_port)
    ssl_way = outcome(lambda: with_ssl(address, ca_file, "127.0.0.1", timeout=0.3))
    tls_way = outcome(lambda: with_tls(address, ca_file, "127.0.0.1", timeout=0.3))
    assert ssl_way[0] == "TimeoutError"
    assert tls_way == ssl_way


def test_a_context_from_ssl_is_used_as_it_is(answering: RawTlsServer) -> None:
    # A variant of the CLI may hand in an ssl.SSLContext, here one that verifies nothing.
    context = ssl._create_unverified_context()
    conn = tls.Connection(("127.0.0.1", answering.port), 5, context, "127.0.0.1")
    try:
        conn.sendall(REQUEST)
        assert conn.reader().read() == ANSWER
    finally:
        conn.close()
