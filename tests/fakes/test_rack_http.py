"""The fake Rack over real HTTPS: every route, auth, and the Password parameter."""

from __future__ import annotations

import urllib.parse

import pytest
from freezegun import freeze_time

from fakes.backends.in_process import InProcessBackend, LocalWorld
from tests.fakes.http_support import Reply, basic, request

REF = "acme/production"




def rack(world: LocalWorld, backend: InProcessBackend, method: str, path: str, **kw) -> Reply:
    ref = kw.pop("ref", REF)
    return request(backend.client_context(), world.host(ref), method, path, **kw)


def test_auth_with_the_rack_key_answers_plain_ok(world, backend) -> None:
    # Today's rack API (stdapi RenderOK): a text body and never an id; CLIs must
    # take any 200 from /auth as "key accepted".
    reply = rack(world, backend, "GET", "/auth", key=world.rack_key(REF))
    assert reply.status == 200 and reply.body == b"ok\n"
    assert reply.headers["content-type"] == "text/plain"


def test_auth_query_string_is_ignored(world, backend) -> None:
    assert rack(world, backend, "GET", "/auth?", key=world.rack_key(REF)).status == 200


@pytest.mark.parametrize("path", ["/auth", "/system", "/apps", "/racks", "/nowhere"])
@pytest.mark.parametrize(
    "credentials",
    ["missing", "wrong", "console-key", "other-rack", "empty", "not-basic"],
)
def test_every_route_needs_the_rack_key(world, backend, path, credentials) -> None:
    headers: dict[str, str] = {}
    if credentials == "wrong":
        headers["Authorization"] = basic("x" * 40)
    elif credentials == "console-key":
        headers["Authorization"] = basic(world.user_key("alice@example.com"))
    elif credentials == "other-rack":
        headers["Authorization"] = basic(world.rack_key("acme/staging"))
    elif credentials == "empty":
        headers["Authorization"] = basic("")
    elif credentials == "not-basic":
        headers["Authorization"] = f"Bearer {world.rack_key(REF)}"
    reply = rack(world, backend, "GET", path, headers=headers)
    # Today's rack API (pkg/api/api.go through stdapi): text, and no WWW-Authenticate.
    assert reply.status == 401
    assert reply.body == b"invalid authentication\n"
    assert reply.headers["content-type"] == "text/plain; charset=utf-8"
    assert "www-authenticate" not in reply.headers


def test_any_user_name_with_the_right_password_is_accepted(world, backend) -> None:
    # The real rack compares only the password; the journal tells checks what was sent.
    reply = rack(
        world, backend, "GET", "/auth", headers={"Authorization": basic(world.rack_key(REF), "x")}
    )
    assert reply.status == 200


def test_system(world, backend) -> None:
    reply = rack(world, backend, "GET", "/system", key=world.rack_key(REF))
    data = reply.json()
    assert reply.status == 200
    assert {"name", "status", "version", "region", "count", "type", "parameters", "domain",
            "provider", "rack-domain", "outputs"} <= set(data)
    assert data["name"] == "production" and data["status"] == "running"
    # A NoEcho CloudFormation parameter: shown, masked, never the key.
    assert data["parameters"]["Password"] == "****"
    assert world.rack_key(REF) not in reply.body.decode()


def test_apps(world, backend) -> None:
    reply = rack(world, backend, "GET", "/apps", key=world.rack_key(REF))
    assert reply.status == 200
    assert [app["name"] for app in reply.json()] == ["web", "worker"]
    assert {"name", "status", "release", "generation", "locked", "router", "parameters"} <= set(
        reply.json()[0])


def test_racks_is_not_a_rack_route(world, backend) -> None:
    reply = rack(world, backend, "GET", "/racks", key=world.rack_key(REF))
    assert reply.status == 404 and reply.error


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/nope"), ("DELETE", "/system"), ("POST", "/auth")]
)
def test_unknown_routes_are_json_404(world, backend, method, path) -> None:
    reply = rack(world, backend, method, path, key=world.rack_key(REF))
    assert reply.status == 404 and reply.error


def test_put_system_password_rolls_the_key(world, backend) -> None:
    old = world.rack_key(REF)
    new = "N3wRackPassw0rdN3wRackPassw0rdN3wRackPass"
    body = "parameters=" + urllib.parse.quote("Password=" + new, safe="")
    reply = rack(world, backend, "PUT", "/system", key=old, body=body)
    assert reply.status == 200 and reply.body == b"ok\n"  # stdapi RenderOK, as the real rack
    assert rack(world, backend, "GET", "/auth", key=old).status == 401
    assert rack(world, backend, "GET", "/auth", key=new).status == 200
    assert world.rack_key(REF) == new
    entry = world.journal.expect_one(server=REF, method="PUT", path="/system")
    assert new not in entry.body and old not in entry.body
    assert entry.key_identity == "rack:acme/production#1"


def test_put_system_without_password_changes_nothing(world, backend) -> None:
    key = world.rack_key(REF)
    reply = rack(world, backend, "PUT", "/system", key=key, body="parameters=Autoscale%3DNo")
    assert reply.status == 200
    assert world.rack_key(REF) == key


def test_put_system_empty_password_is_refused(world, backend) -> None:
    key = world.rack_key(REF)
    reply = rack(world, backend, "PUT", "/system", key=key, body="parameters=Password%3D")
    assert reply.status == 400 and "Password" in reply.error
    assert world.rack_key(REF) == key


def test_classic_app_parameters_form_rolls_the_key(world, backend) -> None:
    old = world.rack_key(REF)
    new = "Cl4ssicN3wKeyCl4ssicN3wKeyCl4ssicN3wKey1"
    reply = rack(
        world, backend, "POST", "/apps/production/parameters", key=old, body=f"Password={new}"
    )
    assert reply.status == 200 and reply.json() == {}
    assert rack(world, backend, "GET", "/auth", key=new).status == 200
    assert rack(world, backend, "GET", "/auth", key=old).status == 401


def test_app_parameters_of_an_ordinary_app_leave_the_key(world, backend) -> None:
    key = world.rack_key(REF)
    reply = rack(world, backend, "POST", "/apps/web/parameters", key=key, body="Password=whatever1")
    assert reply.status == 200
    assert world.rack_key(REF) == key
    missing = rack(world, backend, "POST", "/apps/ghost/parameters", key=key, body="X=1")
    assert missing.status == 404 and "ghost" in missing.error


def test_classic_app_parameters_are_listed_with_get(world, backend) -> None:
    # The classic CLI reads GET /system for the rack's name, lists with GET and sets with POST.
    reply = rack(world, backend, "GET", "/apps/production/parameters", key=world.rack_key(REF))
    assert reply.status == 200
    assert reply.json() and reply.json()["Password"] == "****"
    put = rack(world, backend, "PUT", "/apps/production/parameters", key=world.rack_key(REF),
               body="Password=whatever1")
    assert put.status == 404


def test_a_rack_not_in_console_is_served_too(world, backend) -> None:
    reply = rack(
        world, backend, "GET", "/apps", ref="acme/legacy", key=world.rack_key("acme/legacy")
    )
    assert reply.status == 200 and reply.json()[0]["name"] == "billing"


def test_journal_records_a_direct_request(world, backend) -> None:
    mark = world.journal.mark()
    rack(world, backend, "GET", "/apps?x=1", key=world.rack_key(REF), headers={"Rack": REF})
    entry = world.journal.expect_one(since=mark)
    assert entry.server == REF
    assert entry.hop == "cli"
    assert entry.address == world.host(REF)
    assert entry.host_header == world.host(REF)
    assert (entry.method, entry.path, entry.query) == ("GET", "/apps", "x=1")
    assert entry.key_identity == "rack:acme/production#1"
    assert entry.rack_header == REF
    assert entry.status == 200
    assert entry.request_id


def test_keyroll_window_is_honoured_by_the_rack(backend) -> None:
    with freeze_time("2024-05-01 12:00:00") as frozen:
        world = backend.new_world("standard")
        try:
            old = world.rack_key(REF)
            world.roll_rack_key(REF)
            assert rack(world, backend, "GET", "/auth", key=old).status == 200
            frozen.tick(299)
            assert rack(world, backend, "GET", "/auth", key=old).status == 200
            frozen.tick(2)
            assert rack(world, backend, "GET", "/auth", key=old).status == 401
            new = world.rack_key(REF)
            assert new != old
            assert rack(world, backend, "GET", "/auth", key=new).status == 200
        finally:
            world.close()


# -- the 2017 rack API (the classic CLI's era) ----------------------------------------------


@pytest.fixture
def world_2017(backend: InProcessBackend):
    handle = backend.new_world("standard", "2017")
    yield handle
    handle.close()


def test_a_2017_rack_answers_auth_with_json(world_2017, backend) -> None:
    """convox/rack 20171228145523 api/controllers/auth.go: {"success":true}, which the
    classic CLI parses (its client reads every answer as JSON)."""
    reply = rack(world_2017, backend, "GET", "/auth", key=world_2017.rack_key(REF))
    assert (reply.status, reply.json()) == (200, {"success": True})
    assert reply.headers["content-type"] == "application/json"


def test_a_2017_rack_refuses_a_key_with_its_text_page(world_2017, backend) -> None:
    """api/api.go: a text page and a Basic challenge, not today's JSON error."""
    reply = rack(world_2017, backend, "GET", "/apps", key="x" * 40)
    assert reply.status == 401
    assert reply.body.decode().startswith("Unable to authenticate.\nPlease confirm your Rack "
                                          "API Key is correct.")
    assert reply.headers["www-authenticate"] == 'Basic realm="Convox System"'


@pytest.mark.parametrize(("method", "path"), [("GET", "/racks"), ("POST", "/switch")])
def test_a_2017_rack_sends_console_commands_back_to_console(world_2017, backend, method,
                                                            path) -> None:
    reply = rack(world_2017, backend, method, path, key=world_2017.rack_key(REF))
    assert reply.status == 403
    assert reply.error.startswith("Your CLI is pointing directly at a Rack.")


def test_a_2017_rack_confirms_a_parameter_change_with_success(world_2017, backend) -> None:
    old = world_2017.rack_key(REF)
    reply = rack(world_2017, backend, "POST", "/apps/production/parameters", key=old,
                 body=b"Password=new-secret-2017",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (reply.status, reply.json()) == (200, {"success": True})


def test_the_generations_apps_and_system_are_each_eras(world, world_2017, backend) -> None:
    """Apps and system hold the same facts; today's carry the fields added since 2017
    (structs/app.go and structs/system.go of each tag), and a 2017 rack is no newer."""
    today, then = ([rack(w, backend, "GET", "/apps", key=w.rack_key(REF)).json()
                    for w in (world, world_2017)])
    assert [{k: a[k] for k in then[0]} for a in today] == then
    assert {"locked", "router", "parameters"} & set(then[0]) == set()
    today, then = ([rack(w, backend, "GET", "/system", key=w.rack_key(REF)).json()
                    for w in (world, world_2017)])
    assert {"provider", "rack-domain", "outputs"} & set(then) == set()
    assert then["version"] <= "20171228145523" and then["parameters"] == today["parameters"]


def test_a_2017_system_update_changes_no_key(world_2017, backend) -> None:
    """The 2017 SystemUpdate read count, type and version only, and answered the system."""
    key = world_2017.rack_key(REF)
    reply = rack(world_2017, backend, "PUT", "/system", key=key,
                 body="parameters=Password%3Dnewkey123")
    assert reply.status == 200 and reply.json()["name"] == "production"
    assert world_2017.rack_key(REF) == key


def test_a_world_knows_only_the_generations_there_are(backend) -> None:
    with pytest.raises(ValueError, match="rack_api must be one of 2017, current"):
        backend.new_world("standard", "2016")
