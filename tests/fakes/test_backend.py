"""The Backend seam: discovery, the certificate, the listener pool, world handles, the guard."""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.backends.in_process import (
    Backend,
    BackendError,
    InProcessBackend,
    LocalWorld,
    WorldHandle,
    available_backends,
    get_backend,
)
from fakes.model.worldfile import WorldFileError
from tests.fakes.http_support import request, send

ALICE = "alice@example.com"


@pytest.fixture(scope="module")
def backend() -> Iterator[InProcessBackend]:
    with InProcessBackend() as running:
        yield running


@pytest.fixture
def world(backend: InProcessBackend) -> Iterator[LocalWorld]:
    handle = backend.new_world("standard")
    yield handle
    handle.close()


def test_get_backend_finds_the_in_process_backend() -> None:
    assert isinstance(get_backend("inprocess"), InProcessBackend)
    assert "inprocess" in available_backends()


def test_unknown_backend_is_one_line() -> None:
    with pytest.raises(BackendError) as caught:
        get_backend("kubernetes")
    message = str(caught.value)
    assert "kubernetes" in message and "inprocess" in message and "\n" not in message


def test_protocols_are_satisfied(backend, world) -> None:
    assert isinstance(backend, Backend)
    assert isinstance(world, WorldHandle)


def test_ca_bundle_is_a_pem_file(backend) -> None:
    path = backend.ca_bundle()
    assert isinstance(path, Path) and path.read_text().startswith("-----BEGIN CERTIFICATE-----")


@pytest.mark.parametrize("name", ["console.convox.com", "localhost", "rack1.convox.test"])
def test_certificate_names(backend, world, name) -> None:
    context = ssl.create_default_context(cafile=str(backend.ca_bundle()))
    with (
        socket.create_connection(("127.0.0.1", world.port("console"))) as sock,
        context.wrap_socket(sock, server_hostname=name) as tls,
    ):
        assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_certificate_does_not_cover_other_names(backend, world) -> None:
    context = ssl.create_default_context(cafile=str(backend.ca_bundle()))
    with (
        socket.create_connection(("127.0.0.1", world.port("console"))) as sock,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        context.wrap_socket(sock, server_hostname="api.segment.io")


def test_host_forms(backend, world) -> None:
    port = world.port("console")
    assert world.host("console") == f"127.0.0.1:{port}"
    assert world.host("console", "localhost:{port}") == f"localhost:{port}"
    for form in ("127.0.0.1:{port}", "localhost:{port}"):
        reply = request(
            backend.client_context(), world.host("console", form), key=world.user_key(ALICE)
        )
        assert reply.status == 200
    with pytest.raises(KeyError, match="acme/ghost"):
        world.host("acme/ghost")


def test_every_server_has_its_own_port(world) -> None:
    servers = world.servers()
    assert {"console", "guard", "acme/production", "acme/legacy"} <= set(servers)
    assert len({world.port(s) for s in servers}) == len(servers)


def test_resolve_map(world) -> None:
    assert world.resolve_map() == (
        f"console.convox.com:443=127.0.0.1:{world.port('console')};"
        f"*=127.0.0.1:{world.port('guard')}"
    )


def test_control_methods_reach_the_model(backend, world) -> None:
    old = world.user_key(ALICE)
    new = world.regenerate_user_key(ALICE)
    assert world.key_identity(new) == "user:alice@example.com#2"
    assert world.key_identity(old) == "user:alice@example.com#1"
    assert old in world.secrets() and new in world.secrets()
    before = world.world.clock.now()
    world.advance(60)
    assert world.world.clock.now() - before >= 60


def test_listeners_are_pooled_and_reused(backend) -> None:
    first = backend.new_world("standard")
    ports = {first.port(s) for s in first.servers()}
    idle_before, _ = backend.listener_count
    first.close()
    idle_after, _ = backend.listener_count
    assert idle_after == idle_before + len(ports)
    second = backend.new_world("standard")
    try:
        assert {second.port(s) for s in second.servers()} == ports
    finally:
        second.close()


def test_a_released_listener_is_detached_from_the_old_world(backend) -> None:
    handle = backend.new_world("minimal")
    address, key = handle.host("console"), handle.user_key(ALICE)
    conn = http.client.HTTPSConnection(*address.split(":"), context=backend.client_context())
    assert send(conn, "GET", "/auth", key=key).status == 200
    handle.close()
    with pytest.raises((ConnectionError, OSError)):
        send(conn, "GET", "/auth", key=key)  # the kept-alive connection was cut
    conn.close()
    reply = request(backend.client_context(), address, key=key)
    assert reply.status == 503 and "not attached" in reply.error


def test_two_worlds_at_once_are_independent(backend) -> None:
    one, two = backend.new_world("minimal"), backend.new_world("minimal")
    try:
        assert one.port("console") != two.port("console")
        assert one.user_key(ALICE) != two.user_key(ALICE)
        assert (
            request(backend.client_context(), one.host("console"), key=two.user_key(ALICE)).status
            == 401
        )
        assert len(one.journal.entries()) == 1 and len(two.journal.entries()) == 0
    finally:
        one.close()
        two.close()


def test_a_bad_world_returns_its_listeners(backend, tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[racks]]\norganization = "nobody"\nname = "x"\n')
    before = backend.listener_count
    with pytest.raises(WorldFileError, match="racks"):
        backend.new_world(bad)
    idle, busy = backend.listener_count
    assert busy == before[1] and idle >= before[0]


def test_separate_backends_have_separate_cas() -> None:
    with InProcessBackend() as first, InProcessBackend() as second:
        handle = first.new_world("minimal")
        with pytest.raises(ssl.SSLCertVerificationError):
            request(second.client_context(), handle.host("console"), key="x")
        assert request(first.client_context(), handle.host("console"), key="x").status == 401
        handle.close()


def test_stop_leaves_no_port_or_thread() -> None:
    before = set(threading.enumerate())
    backend = InProcessBackend()
    backend.start()
    handle = backend.new_world("standard")
    ports = [handle.port(s) for s in handle.servers()]
    request(backend.client_context(), handle.host("console"), key="x")
    ca = backend.ca_bundle()
    backend.stop()
    for port in ports:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    left = set(threading.enumerate()) - before
    assert not left, left
    assert not ca.exists()


# -- the egress guard -----------------------------------------------------------


def test_guard_journals_a_connection_the_client_gave_up_on(backend, world) -> None:
    context = ssl.create_default_context(cafile=str(backend.ca_bundle()))
    with (
        socket.create_connection(("127.0.0.1", world.port("guard"))) as sock,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        context.wrap_socket(sock, server_hostname="telemetry.example.com")
    entry = world.journal.expect_one(server="guard")
    assert entry.host_header == "telemetry.example.com" and entry.method == "TLS"


def test_guard_journals_and_refuses_requests(backend, world) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # a CLI that does not verify (as real ones do not)
    reply = request(
        context,
        world.host("guard"),
        "POST",
        "/v1/track",
        body="{}",
        headers={"Host": "api.segment.io"},
        key="k",
    )
    assert reply.status == 403 and "api.segment.io" in reply.error
    entry = world.journal.expect_one(server="guard", method="POST")
    assert (entry.host_header, entry.path) == ("api.segment.io", "/v1/track")
    assert world.journal.entries(server="guard", method="TLS")


def test_guard_catches_plain_http(world) -> None:
    with socket.create_connection(("127.0.0.1", world.port("guard")), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: stats.example.com\r\n\r\n")
        with contextlib.suppress(OSError):
            sock.recv(100)
    deadline = time.monotonic() + 5
    while not world.journal.entries(server="guard") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert world.journal.expect_one(server="guard").method == "RAW"


def test_a_well_behaved_client_leaves_the_guard_empty(backend, world) -> None:
    request(backend.client_context(), world.host("console"), key=world.user_key(ALICE))
    world.journal.expect_none(server="guard")


def test_a_worlds_journal_keeps_the_worlds_time(world: LocalWorld) -> None:
    world.advance(1000)
    entry = world.journal.record(server="console", method="GET", path="/auth")
    assert abs(entry.time - world.world.clock.now()) < 5
