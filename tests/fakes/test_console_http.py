"""The fake Console over real HTTPS: its own routes and real proxying to racks."""

from __future__ import annotations

import socket
import ssl
import urllib.parse

import pytest
from freezegun import freeze_time

from fakes.backends.in_process import InProcessBackend, LocalWorld
from fakes.http.faults import FaultPlan
from fakes.http.journal import Journal
from fakes.http.listener import Listener
from fakes.model.world import World
from fakes.servers.console import ConsoleApp
from tests.fakes.http_support import Reply, basic, request

REF = "acme/production"
ALICE = "alice@example.com"




def console(world: LocalWorld, backend: InProcessBackend, method: str, path: str, **kw) -> Reply:
    return request(backend.client_context(), world.host("console"), method, path, **kw)


def as_user(world, backend, email, method, path, rack=REF, **kw) -> Reply:
    return console(world, backend, method, path, key=world.user_key(email), rack=rack, **kw)


# -- Console's own routes ---------------------------------------------------


def test_auth_answers_the_user_id(world, backend) -> None:
    reply = console(world, backend, "GET", "/auth?", key=world.user_key(ALICE))
    assert reply.status == 200
    assert reply.json() == {"id": world.world.user(ALICE).id}


@pytest.mark.parametrize("credentials", ["missing", "wrong", "rack-key", "empty", "not-basic"])
def test_auth_refuses_anything_but_a_console_key(world, backend, credentials) -> None:
    headers = {
        "missing": {},
        "wrong": {"Authorization": basic("y" * 40)},
        "rack-key": {"Authorization": basic(world.rack_key(REF))},
        "empty": {"Authorization": basic("")},
        "not-basic": {"Authorization": "Token " + world.user_key(ALICE)},
    }[credentials]
    reply = console(world, backend, "GET", "/auth", headers=headers)
    assert reply.status == 401 and reply.error == "invalid authentication"
    assert "www-authenticate" not in reply.headers  # no session demand: plain 401


def test_deploy_key_authenticates(world, backend) -> None:
    deploy = next(d for d in world.world.deploy_keys() if d.ref == "acme/ci")
    reply = console(world, backend, "GET", "/auth", key=deploy.key)
    assert reply.status == 200 and reply.json() == {"id": deploy.id}


def refs(reply: Reply) -> list[str]:
    return sorted(f"{r['organization']['name']}/{r['name']}" for r in reply.json())


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        (ALICE, ["acme-eu/staging", "acme/production", "acme/staging"]),
        ("bob@example.com", ["acme/production", "acme/staging"]),
        ("carol@example.com", ["carol/sandbox"]),
        ("dave@example.com", ["startup/api"]),
        ("erin@example.com", []),
    ],
)
def test_racks_lists_exactly_the_reachable_racks(world, backend, email, expected) -> None:
    reply = console(world, backend, "GET", "/racks", key=world.user_key(email))
    assert reply.status == 200 and refs(reply) == expected
    assert all(set(r) == {"name", "organization", "status"} for r in reply.json())


def test_racks_ignores_a_rack_header(world, backend) -> None:
    # The classic CLI sends its current Rack header even while listing racks.
    reply = as_user(world, backend, ALICE, "GET", "/racks", rack="acme/staging")
    assert reply.status == 200 and "acme/production" in refs(reply)
    world.journal.expect_none(server="acme/staging")


def test_a_rack_record_is_console_s_view_of_a_rack_the_user_may_use(world, backend) -> None:
    # v3 reads it before it changes a rack's parameters: with no state it goes through
    # the proxy instead of asking Console to update the rack (pkg/rack/console.go).
    reply = console(world, backend, "GET", "/racks/acme/production", key=world.user_key(ALICE))
    assert reply.status == 200
    record = reply.json()
    assert (record["name"], record["organization"], record["state"]) == (
        "production", {"name": "acme"}, None)
    assert record["version"]
    erin = console(world, backend, "GET", "/racks/acme/production",
                   key=world.user_key("erin@example.com"))
    assert erin.status == 403 and erin.error
    legacy = console(world, backend, "GET", "/racks/acme/legacy", key=world.user_key(ALICE))
    assert legacy.status == 404 and legacy.error
    deeper = console(world, backend, "GET", "/racks/acme/production/sync",
                     key=world.user_key(ALICE))
    assert deeper.status == 404


def test_console_routes_only_answer_get(world, backend) -> None:
    reply = console(world, backend, "POST", "/racks", key=world.user_key(ALICE))
    assert reply.status == 405 and reply.error


def test_regenerated_user_key(world, backend) -> None:
    old = world.user_key(ALICE)
    new = world.regenerate_user_key(ALICE)
    assert console(world, backend, "GET", "/auth", key=old).status == 401
    assert console(world, backend, "GET", "/auth", key=new).status == 200


# -- proxying -----------------------------------------------------------------


def test_proxy_end_to_end_shares_one_request_id(world, backend) -> None:
    mark = world.journal.mark()
    reply = as_user(world, backend, ALICE, "GET", "/apps?all=1")
    assert reply.status == 200 and [a["name"] for a in reply.json()] == ["web", "worker"]
    assert reply.headers["content-type"] == "application/json"

    hop_console = world.journal.expect_one(since=mark, server="console")
    hop_rack = world.journal.expect_one(since=mark, server=REF)
    assert hop_console.request_id == hop_rack.request_id != ""
    assert (hop_console.hop, hop_rack.hop) == ("cli", "proxy")
    assert hop_console.key_identity == "user:alice@example.com#1"
    assert hop_rack.key_identity == "rack:acme/production#1"
    assert hop_console.rack_header == REF
    assert (hop_rack.method, hop_rack.path, hop_rack.query) == ("GET", "/apps", "all=1")
    assert hop_rack.address == world.host(REF)
    assert (hop_console.status, hop_rack.status) == (200, 200)


def test_the_rack_sees_only_the_rack_key_and_console_only_the_user_key(world, backend) -> None:
    for path in ("/auth", "/system", "/apps", "/nowhere"):
        as_user(world, backend, ALICE, "GET", path)
    console_ids = {e.key_identity for e in world.journal.entries(server="console")}
    rack_ids = {e.key_identity for e in world.journal.entries(server=REF)}
    assert console_ids == {"user:alice@example.com#1"}
    assert rack_ids == {"rack:acme/production#1"}


def test_rack_answers_are_relayed_unchanged(world, backend) -> None:
    direct = request(
        backend.client_context(), world.host(REF), "GET", "/nowhere", key=world.rack_key(REF)
    )
    proxied = as_user(world, backend, ALICE, "GET", "/nowhere")
    assert (proxied.status, proxied.body) == (direct.status, direct.body) == (404, direct.body)
    assert proxied.headers["content-type"] == direct.headers["content-type"]


def test_proxied_auth_is_answered_by_console(world, backend) -> None:
    # /auth is Console's own route even with a Rack header (login while a rack is selected).
    reply = as_user(world, backend, ALICE, "GET", "/auth")
    assert reply.json() == {"id": world.world.user(ALICE).id}
    world.journal.expect_none(server=REF)


def test_no_rack_header_on_a_rack_route_is_a_clear_400(world, backend) -> None:
    reply = console(world, backend, "GET", "/apps", key=world.user_key(ALICE))
    assert reply.status == 400 and "Rack" in reply.error
    world.journal.expect_none(server=REF)


def test_bad_key_on_a_rack_route_is_401_not_400(world, backend) -> None:
    assert console(world, backend, "GET", "/apps", key="nope").status == 401


@pytest.mark.parametrize(
    ("email", "rack", "method", "path", "status", "words"),
    [
        (ALICE, "acme/ghost", "GET", "/apps", 404, "acme/ghost"),
        (ALICE, "acme/legacy", "GET", "/apps", 404, "acme/legacy"),  # not in Console
        ("erin@example.com", REF, "GET", "/apps", 403, "acme"),
        ("carol@example.com", REF, "GET", "/system", 403, "carol"),
        ("bob@example.com", REF, "PUT", "/system", 403, "developer"),
        ("bob@example.com", REF, "POST", "/apps/production/parameters", 403, "developer"),
    ],
)
def test_refusals_name_the_reason(world, backend, email, rack, method, path, status, words) -> None:
    reply = as_user(world, backend, email, method, path, rack=rack, body="parameters=X%3D1")
    assert reply.status == status and words in reply.error
    world.journal.expect_none(hop="proxy")


def test_collaborator_reaches_the_rack_with_their_own_key(world, backend) -> None:
    reply = as_user(world, backend, "bob@example.com", "GET", "/apps")
    assert reply.status == 200
    world.journal.expect_one(server="console", key="user:bob@example.com#1")
    world.journal.expect_one(server=REF, key="rack:acme/production#1")


def test_plan_downgrade_and_upgrade(world, backend) -> None:
    bob = "bob@example.com"
    world.set_plan("acme", "developer")
    assert as_user(world, backend, bob, "GET", "/apps").status == 403
    assert refs(console(world, backend, "GET", "/racks", key=world.user_key(bob))) == []
    world.set_plan("acme", "pro")
    assert as_user(world, backend, bob, "GET", "/apps").status == 200


def test_removed_collaborator_loses_access(world, backend) -> None:
    world.remove_member("acme", "bob@example.com")
    assert as_user(world, backend, "bob@example.com", "GET", "/apps").status == 403
    world.add_member("acme", "bob@example.com", "operator")
    assert as_user(world, backend, "bob@example.com", "GET", "/apps").status == 200


def test_deploy_key_is_limited_to_build_commands(world, backend) -> None:
    deploy = next(d for d in world.world.deploy_keys() if d.ref == "acme/ci")
    system = console(world, backend, "GET", "/system", key=deploy.key, rack=REF)
    apps = console(world, backend, "GET", "/apps", key=deploy.key, rack=REF)
    assert system.status == 200
    assert apps.status == 403 and "deploy" in apps.error


def test_keyroll_window_breaks_proxying_then_heals(backend) -> None:
    with freeze_time("2024-05-01 12:00:00") as frozen:
        world = backend.new_world("standard")
        try:
            assert as_user(world, backend, ALICE, "GET", "/system").status == 200
            world.roll_rack_key(REF)
            during = as_user(world, backend, ALICE, "GET", "/system")
            assert during.status == 502
            assert REF in during.error and "refused" in during.error
            rack_hop = world.journal.entries(server=REF)[-1]
            assert (rack_hop.status, rack_hop.key_identity) == (401, "rack:acme/production#2")
            frozen.tick(299)
            assert as_user(world, backend, ALICE, "GET", "/system").status == 502
            frozen.tick(2)
            after = as_user(world, backend, ALICE, "GET", "/system")
            assert after.status == 200 and after.json()["status"] == "running"
        finally:
            world.close()


def test_finish_rack_updates_ends_the_window(world, backend) -> None:
    world.roll_rack_key(REF)
    assert as_user(world, backend, ALICE, "GET", "/apps").status == 502
    world.finish_rack_updates()
    assert as_user(world, backend, ALICE, "GET", "/apps").status == 200


def test_manual_password_change_breaks_console_until_readded(world, backend) -> None:
    new = "M4nualPassw0rdM4nualPassw0rdM4nualPassw0"
    body = "parameters=" + urllib.parse.quote(f"Password={new}", safe="")
    # Changed through Console itself: the rack switches, Console's stored key does not.
    assert as_user(world, backend, ALICE, "PUT", "/system", body=body).status == 200
    broken = as_user(world, backend, ALICE, "GET", "/apps")
    assert broken.status == 502 and REF in broken.error and "add it again" in broken.error
    direct = request(backend.client_context(), world.host(REF), "GET", "/apps", key=new)
    assert direct.status == 200
    world.finish_rack_updates()
    assert as_user(world, backend, ALICE, "GET", "/apps").status == 502  # no window to wait out
    world.remove_rack_from_console(REF)
    assert as_user(world, backend, ALICE, "GET", "/apps").status == 404
    world.add_rack_to_console(REF, new)
    assert as_user(world, backend, ALICE, "GET", "/apps").status == 200


def test_password_set_behind_consoles_back(world, backend) -> None:
    world.set_rack_password(REF, "B3hindTheBackB3hindTheBackB3hindTheBack1")
    assert as_user(world, backend, ALICE, "GET", "/apps").status == 502


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_rack_is_a_502_naming_the_rack(backend) -> None:
    model = World()
    model.add_user(ALICE)
    model.add_organization("acme", "pro", ALICE)
    model.add_rack("acme", "gone", f"127.0.0.1:{free_port()}")
    context = ssl.create_default_context(cafile=str(backend.ca_bundle()))
    app = ConsoleApp(model, Journal(model.clock), FaultPlan(), context, proxy_timeout=2)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    assert backend._cert is not None
    backend._cert.configure_cert(server_context)
    with Listener(server_context, app) as listener:
        reply = request(
            backend.client_context(),
            listener.address,
            "GET",
            "/apps",
            key=model.user_key(ALICE),
            rack="acme/gone",
        )
    assert reply.status == 502
    assert "acme/gone" in reply.error and "refused" in reply.error
    assert model.rack_key("acme/gone") not in reply.body.decode()


# -- second-factor sessions -------------------------------------------------------


def test_a_second_factor_console_challenges_commands_but_never_a_login(backend) -> None:
    """The current official CLIs check a key at login without their session authenticator
    (pkg/cli/login.go in convox/rack and convox/convox); only commands meet the challenge."""
    world = backend.new_world("second-factor")
    try:
        key = world.user_key(ALICE)
        login = console(world, backend, "GET", "/auth", key=key)
        assert (login.status, login.json()) == (200, {"id": world.world.user(ALICE).id})
        refused = console(world, backend, "GET", "/racks", key=key)
        assert refused.status == 401
        assert refused.headers["www-authenticate"] == 'Session path="/session" token="false"'
        opened = console(world, backend, "POST", "/session", key=key)
        assert opened.status == 200
        served = console(world, backend, "GET", "/racks", key=key,
                         headers={"Session": opened.json()["id"]})
        assert served.status == 200
    finally:
        world.close()
