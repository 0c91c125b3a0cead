"""The remote backend against serve's admin API, run in a thread of this process.

The point of the remote backend is that a check cannot tell it from the
in-process one, so these tests compare the two wherever they can: the same
journal (entries and near-miss messages), the same keys and identities, the
same fault counts, the same behaviour after a world is closed.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fakes.backends.in_process import (
    Backend,
    BackendError,
    InProcessBackend,
    LocalWorld,
    WorldHandle,
)
from fakes.backends.remote import SERVE_ENV, RemoteBackend, RemoteError, RemoteJournal, RemoteWorld
from fakes.backends.serve import Admin, Router, Worlds, admin_server
from fakes.http.faults import Fault
from fakes.model.world import WorldError
from tests.fakes.http_support import request

ALICE = "alice@example.com"
BOB = "bob@example.com"
PRODUCTION = "acme/production"
LEGACY = "acme/legacy"  # installed by CLI: not in Console


@dataclass
class Serve:
    """One serve process's admin API, in a thread: what RemoteBackend talks to."""

    backend: InProcessBackend
    worlds: Worlds
    url: str

    def local(self, remote: RemoteWorld) -> LocalWorld:
        """The serve-side world behind a remote handle."""
        return self.worlds.get(remote.id).world


@contextlib.contextmanager
def running_serve() -> Iterator[Serve]:
    with InProcessBackend(proxy_timeout=2.0) as backend:
        ca = str(backend.ca_bundle())
        printed = backend.new_world("standard")
        worlds = Worlds(backend, "127.0.0.1:{port}", ca)
        server = admin_server(Router(Admin(printed, "standard", "127.0.0.1:{port}", ca), worlds,
                                     backend.ca_bundle().read_bytes()))
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                  daemon=True)
        thread.start()
        try:
            yield Serve(backend, worlds, f"http://127.0.0.1:{server.server_address[1]}")
        finally:
            server.shutdown()
            server.server_close()
            worlds.close_all()
            printed.close()


@pytest.fixture(scope="module")
def serve() -> Iterator[Serve]:
    with running_serve() as running:
        yield running


@pytest.fixture
def remote(serve: Serve) -> Iterator[RemoteBackend]:
    with RemoteBackend([serve.url]) as backend:
        yield backend


@pytest.fixture
def world(remote: RemoteBackend) -> Iterator[RemoteWorld]:
    with remote.new_world("standard") as handle:
        yield handle


def cli_request(serve: Serve, world: RemoteWorld, server: str, path: str = "/auth", *,
                key: str, rack: str | None = None) -> int:
    """A request as a CLI would make it, to the address the remote handle names."""
    context = ssl.create_default_context(cafile=str(serve.backend.ca_bundle()))
    return request(context, world.host(server), "GET", path, key=key, rack=rack).status


def test_remote_backend_is_registered_and_satisfies_the_protocols(remote, world) -> None:
    from fakes.backends.in_process import available_backends

    assert available_backends()["remote"] == "fakes.backends.remote:RemoteBackend"
    assert isinstance(remote, Backend)
    assert isinstance(world, WorldHandle)


def test_urls_come_from_the_environment_and_are_required(monkeypatch) -> None:
    monkeypatch.setenv(SERVE_ENV, "http://127.0.0.1:1, http://127.0.0.1:2")
    assert [c.url for c in RemoteBackend().clients] == ["http://127.0.0.1:1",
                                                       "http://127.0.0.1:2"]
    monkeypatch.delenv(SERVE_ENV)
    with pytest.raises(BackendError) as caught:
        RemoteBackend()
    assert SERVE_ENV in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(BackendError):
        RemoteBackend(["https://127.0.0.1:1"])


def test_an_unreachable_serve_is_one_line() -> None:
    with pytest.raises(RemoteError) as caught:
        RemoteBackend(["http://127.0.0.1:9"], timeout=2).start()
    assert "127.0.0.1:9" in str(caught.value) and "\n" not in str(caught.value)


def test_world_addresses_and_ca_match_the_serve_side(serve, remote, world) -> None:
    local = serve.local(world)
    assert world.servers() == local.servers()
    for server in local.servers():
        assert world.host(server) == local.host(server)
        assert world.host(server, "localhost:{port}") == local.host(server, "localhost:{port}")
    assert world.resolve_map() == local.resolve_map()
    assert remote.ca_bundle().read_bytes().strip() == serve.backend.ca_bundle().read_bytes().strip()
    with pytest.raises(KeyError, match="no server 'nowhere'"):
        world.host("nowhere")


def test_keys_identities_and_controls_drive_the_serve_side_world(serve, world) -> None:
    local = serve.local(world)
    assert world.user_key(ALICE) == local.user_key(ALICE)
    # Console holds this rack's key: only test worlds serve it.
    assert world.rack_key(PRODUCTION) == local.rack_key(PRODUCTION)
    assert world.key_identity(world.user_key(ALICE)) == f"user:{ALICE}#1"
    assert world.deploy_key("acme/ci") == local.deploy_key("acme/ci")
    assert world.key_identity(world.deploy_key("acme/ci")) == "deploy:acme/ci#1"
    assert world.key_identity(None) == "empty"
    assert world.key_identity("not-a-key-at-all") == local.key_identity("not-a-key-at-all")

    old = world.user_key(ALICE)
    new = world.regenerate_user_key(ALICE)
    assert new != old and local.user_key(ALICE) == new

    before = world.rack_key(PRODUCTION)
    world.roll_rack_key(PRODUCTION)
    assert world.rack_key(PRODUCTION) == before  # the rack has not updated yet
    world.finish_rack_updates()
    assert world.rack_key(PRODUCTION) != before

    world.set_rack_password(PRODUCTION, "TypedByHandTypedByHandTypedByHand123")
    assert local.rack_key(PRODUCTION) == "TypedByHandTypedByHandTypedByHand123"
    world.remove_rack_from_console(PRODUCTION)
    world.add_rack_to_console(PRODUCTION, "TypedByHandTypedByHandTypedByHand123")

    world.set_plan("acme", "developer")
    assert local.world.organization("acme").plan == "developer"
    world.set_plan("acme", "pro")
    world.remove_member("acme", BOB)
    assert BOB not in local.world.organization("acme").members
    world.add_member("acme", BOB, "operator")
    assert local.world.organization("acme").members[BOB] == "operator"

    offset = local.world.clock.offset
    world.advance(42)
    assert local.world.clock.offset == offset + 42
    assert world.secrets() == local.secrets()


def test_refusals_are_world_errors_as_in_process(world) -> None:
    with pytest.raises(WorldError) as caught:
        world.user_key("nobody@example.com")
    assert caught.value.status == 404
    with pytest.raises(WorldError) as caught:
        world.add_member("carol", BOB, "developer")  # a personal organization
    assert caught.value.status == 409
    with pytest.raises(ValueError, match="not in this world"):
        world.inject(Fault(server="elsewhere", kind="reset"))


def test_the_journal_is_the_same_journal(serve, world) -> None:
    local = serve.local(world)
    mark = world.journal.mark()
    assert mark == local.journal.mark()
    assert cli_request(serve, world, "console", key=world.user_key(ALICE)) == 200
    assert cli_request(serve, world, "console", "/apps", key=world.user_key(ALICE),
                       rack=PRODUCTION) == 200
    assert world.journal.since(mark) == local.journal.since(mark)
    assert len(world.journal) == len(local.journal) == mark + 3  # /auth, rack hop, Console
    assert world.journal.expect_one(since=mark, server=PRODUCTION, hop="proxy").path == "/apps"
    assert isinstance(world.journal, RemoteJournal)

    # The near-miss explanation is the very same code, so the very same text.
    for ask in (
        lambda journal: journal.expect_one(since=mark, server="console", path="/racks"),
        lambda journal: journal.expect_none(since=mark, key=f"user:{ALICE}#1"),
        lambda journal: journal.expect_some(since=mark, method="DELETE"),
    ):
        with pytest.raises(AssertionError) as here:
            ask(local.journal)
        with pytest.raises(AssertionError) as there:
            ask(world.journal)
        assert str(there.value) == str(here.value)
    with pytest.raises(TypeError, match="read-only"):
        world.journal.record(server="console")


def test_fault_counts_survive_removal_and_clearing(serve, world) -> None:
    key = world.user_key(ALICE)
    handle = world.inject(Fault(server="console", kind="status", status=503, path="/auth"))
    assert handle.active and handle.fired == 0
    assert cli_request(serve, world, "console", key=key) == 503
    assert handle.fired == 1
    handle.remove()
    assert cli_request(serve, world, "console", key=key) == 200
    assert handle.fired == 1 and not handle.active
    handle.remove()  # twice is harmless, as in process

    lasting = world.inject(Fault(server="console", kind="status", status=500, path="/auth"))
    cli_request(serve, world, "console", key=key)
    cli_request(serve, world, "console", key=key)
    world.clear_faults()
    assert cli_request(serve, world, "console", key=key) == 200
    assert lasting.fired == 2 and not lasting.active
    assert lasting.fault.status == 500

    open_at_close = world.inject(Fault(server="console", kind="status", status=502, path="/auth"))
    cli_request(serve, world, "console", key=key)
    world.close()
    assert open_at_close.fired == 1 and not open_at_close.active


def test_a_closed_world_stays_readable_and_is_gone_from_serve(serve, remote) -> None:
    world = remote.new_world("standard")
    key = world.user_key(ALICE)
    cli_request(serve, world, "console", key=key)
    secrets = world.secrets()
    entries = world.journal.entries()
    world.close()
    assert world.id not in serve.worlds.ids()
    assert world.secrets() == secrets
    assert world.journal.entries() == entries and entries
    assert world.key_identity(key) == f"user:{ALICE}#1"
    assert world.key_identity("never-issued-key").startswith("unknown:")
    world.close()  # idempotent


def test_stop_deletes_worlds_left_open(serve) -> None:
    backend = RemoteBackend([serve.url])
    backend.start()
    left = backend.new_world("standard")
    assert left.id in serve.worlds.ids()
    backend.stop()
    assert left.id not in serve.worlds.ids()


def test_a_local_world_file_travels_as_text(serve, remote, tmp_path: Path) -> None:
    file = tmp_path / "tiny.toml"
    file.write_text(
        '[[users]]\nemail = "zed@example.com"\n'
        '[[racks]]\norganization = "zed"\nname = "box"\nconsole = "none"\n'
    )
    with remote.new_world(file) as world:
        assert world.name == "tiny"
        assert world.key_identity(world.rack_key("zed/box")) == "rack:zed/box#1"
    with pytest.raises(ValueError, match="cannot read world file"):
        remote.new_world(tmp_path / "missing.toml")
    with pytest.raises(ValueError, match="atlantis"):
        remote.new_world("atlantis")
    file.write_text('[[users]]\nemail = "zed@example.com"\nplan = "gold"\n')
    with pytest.raises(ValueError, match=r"^tiny\.toml: users\[0\]\.plan"):
        remote.new_world(file)


def test_worlds_spread_over_several_serves(serve) -> None:
    with running_serve() as other, RemoteBackend([serve.url, other.url]) as backend:
        first, second = backend.new_world("standard"), backend.new_world("standard")
        try:
            by_url = {serve.url: serve, other.url: other}
            homes = [by_url[w._client.url] for w in (first, second)]
            assert homes[0] is not homes[1]
            assert all(w.id in home.worlds.ids() for w, home in zip((first, second), homes,
                                                                    strict=True))
            # The CLI may meet either serve's servers, so it trusts both CAs.
            assert backend.ca_bundle().read_text().count("BEGIN CERTIFICATE") == 2
        finally:
            first.close()
            second.close()


def test_the_printed_world_never_serves_a_console_held_rack_key(serve) -> None:
    from fakes.backends.remote import AdminClient

    client = AdminClient(serve.url)
    with pytest.raises(WorldError) as caught:
        client.call("GET", "/racks/acme/production/key")
    assert caught.value.status == 403
    with pytest.raises(WorldError) as caught:
        client.call("GET", "/secrets")
    assert caught.value.status == 403
    assert client.call("GET", "/racks/acme/legacy/key")["key"]  # installed by CLI: the user's
    assert client.raw("GET", "/ca")[1].startswith(b"-----BEGIN CERTIFICATE-----")
    assert client.raw("POST", "/ca")[0] == 405
    assert client.raw("GET", "/worlds/w999/hosts")[0] == 404
    client.close()


def test_a_world_of_the_2017_rack_api_is_made_serve_side(serve, remote) -> None:
    """The generation travels with POST /worlds: the serve-side racks answer as in 2017."""
    world = remote.new_world("standard", "2017")
    try:
        assert serve.local(world).world.rack_api == "2017"
        reply = request(serve.backend.client_context(), world.host(PRODUCTION), "GET", "/auth",
                        key=world.rack_key(PRODUCTION))
        assert (reply.status, reply.json()) == (200, {"success": True})
    finally:
        world.close()
    with pytest.raises(ValueError, match="rack_api must be one of 2017, current"):
        remote.new_world("standard", "1999")
