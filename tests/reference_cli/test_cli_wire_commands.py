"""Wire tests of the commands after login: the reference CLI as a subprocess against a
loopback TLS server.

No request without a login; ``switch``, ``racks`` and the ``Rack`` header; the
rack a command goes to (variable, project file, selection); the password roll
of ``rack params set``; ``logout``. Fixtures as in conftest.Cli.
"""

from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.reference_cli.conftest import Cli, basic, snapshot
from tests.reference_cli.wire_support import APPS, RACKS, SYSTEM, login, requests

# ----------------------------------------------------------------- not logged in


@pytest.mark.parametrize(
    "argv",
    [
        ["apps"],
        ["racks"],
        ["rack"],
        ["switch", "prod"],
        ["rack", "params", "set", "Password=newpw1"],
    ],
)
@pytest.mark.parametrize("layout", ["nothing", "host-without-key", "key-without-host"])
def test_not_logged_in_sends_no_request(
    cli: Cli, server: HTTPServer, host: str, argv: list[str], layout: str
) -> None:
    if layout == "host-without-key":
        cli.write("host", host, 0o644)
        cli.write("auth", json.dumps({"other.convox.test": "x"}))
    elif layout == "key-without-host":
        cli.write("auth", json.dumps({host: "x"}))
    before = cli.snapshot()
    proc = cli.run(*argv)
    assert proc.returncode == 1
    assert "not logged in, try `convox login`" in proc.stderr
    assert requests(server) == []
    assert cli.snapshot() == before


def test_external_logout_is_honoured(cli: Cli, server: HTTPServer, host: str) -> None:
    login(cli, server, host)
    server.expect_request("/apps").respond_with_json(APPS)
    assert cli.run("apps").returncode == 0
    cli.write("auth", "{}")
    proc = cli.run("apps")
    assert proc.returncode == 1 and "not logged in" in proc.stderr
    assert len(requests(server)) == 1


# ----------------------------------------------------------------- switch and Rack header


def test_switch_then_requests_carry_rack_header(cli: Cli, server: HTTPServer, host: str) -> None:
    login(cli, server, host)
    before_host, before_auth = cli.read("host"), (cli.config / "auth").read_bytes()
    server.expect_request("/racks").respond_with_json(RACKS)
    proc = cli.run("switch", "acme/prod")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Switched to acme/prod\n"
    assert cli.read("rack") == "acme/prod"
    assert cli.read("host") == before_host
    assert (cli.config / "auth").read_bytes() == before_auth
    server.clear()
    server.expect_request("/apps").respond_with_json(APPS)
    server.expect_request("/system").respond_with_json(SYSTEM)
    assert cli.run("apps").stdout.split() == ["APP", "STATUS", "RELEASE", "web", "running", "RABC"]
    proc = cli.run("rack")
    assert "acme/prod" in proc.stdout and "us-east-1" in proc.stdout
    for request in requests(server):
        assert request.headers["Rack"] == "acme/prod"
        assert request.headers["Authorization"] == basic("console-key-1")
    assert cli.run("switch").stdout == "acme/prod\n"


def test_environment_credentials_need_no_files_and_write_none(
    cli: Cli, server: HTTPServer, host: str
) -> None:
    server.expect_request("/apps").respond_with_json(APPS)
    before = snapshot(cli.home)
    env = {"CONVOX_HOST": host, "CONVOX_PASSWORD": "deploy-key-1", "CONVOX_RACK": "acme/prod"}
    proc = cli.run("apps", env=env)
    assert proc.returncode == 0, proc.stderr
    assert snapshot(cli.home) == before
    (request,) = requests(server)
    assert request.headers["Authorization"] == basic("deploy-key-1")
    assert request.headers["Rack"] == "acme/prod"


def test_rack_precedence_variable_project_file_selection(
    cli: Cli, server: HTTPServer, host: str
) -> None:
    login(cli, server, host)
    server.expect_request("/racks").respond_with_json(RACKS)
    assert cli.run("switch", "acme/prod").returncode == 0
    project = cli.home / "work" / "project"
    (project / ".convox").mkdir(parents=True)
    (project / ".convox" / "rack").write_text("acme/staging\n")
    server.clear()
    server.expect_request("/apps").respond_with_json(APPS)
    assert cli.run("apps", cwd=project).returncode == 0
    assert cli.run("apps", cwd=project, env={"CONVOX_RACK": "beta/prod"}).returncode == 0
    assert cli.run("apps").returncode == 0
    assert [r.headers["Rack"] for r in requests(server)] == [
        "acme/staging", "beta/prod", "acme/prod"]
    server.clear()
    server.expect_request("/racks").respond_with_json(RACKS)
    assert cli.run("switch", "beta/prod", cwd=project).returncode == 0
    assert (project / ".convox" / "rack").read_text() == "acme/staging\n"
    assert cli.read("rack") == "beta/prod"


def test_switch_bare_name_must_be_unique(cli: Cli, server: HTTPServer, host: str) -> None:
    login(cli, server, host)
    server.expect_request("/racks").respond_with_json(RACKS)
    assert cli.run("switch", "staging").stdout == "Switched to acme/staging\n"
    proc = cli.run("switch", "prod")
    assert proc.returncode == 1
    assert "ambiguous rack name: prod (matches acme/prod, beta/prod)" in proc.stderr
    proc = cli.run("switch", "acme/nope")
    assert proc.returncode == 1 and "rack not found: acme/nope" in proc.stderr
    assert cli.read("rack") == "acme/staging"


def test_switch_on_a_rack_needs_console(cli: Cli, server: HTTPServer, host: str) -> None:
    login(cli, server, host)
    server.expect_request("/racks").respond_with_data("not found", status=404)
    before = cli.snapshot()
    proc = cli.run("switch", "acme/prod")
    assert proc.returncode == 1
    assert proc.stderr == f"ERROR: switch needs a Console login; {host} is a Rack\n"
    assert cli.snapshot() == before


def test_switch_without_selection_hints(cli: Cli) -> None:
    proc = cli.run("switch")
    assert proc.returncode == 1 and "convox switch" in proc.stderr


def test_racks_lists_console_racks(cli: Cli, server: HTTPServer, host: str) -> None:
    login(cli, server, host)
    server.expect_request("/racks").respond_with_json(RACKS)
    proc = cli.run("racks")
    assert proc.returncode == 0
    assert "acme/prod" in proc.stdout and "beta/prod" in proc.stdout and "updating" in proc.stdout


# ----------------------------------------------------------------- rack params set Password


def test_direct_password_roll_stores_new_key(cli: Cli, server: HTTPServer, host: str) -> None:
    login(cli, server, host, key="old-rack-key")
    cli.write("auth", json.dumps({"other.convox.test": "o1", host: "old-rack-key"}))
    new = "new+key/with spaces&=é"

    def handler(request: Request) -> Response:
        return Response(json.dumps(SYSTEM), status=200, content_type="application/json")

    server.expect_request("/system", method="PUT").respond_with_handler(handler)
    proc = cli.run("rack", "params", "set", f"Password={new}")
    assert proc.returncode == 0, proc.stderr
    assert new not in proc.stdout + proc.stderr
    (request,) = requests(server)
    assert request.headers["Authorization"] == basic("old-rack-key")
    assert "Rack" not in request.headers
    from urllib.parse import parse_qs, parse_qsl

    form = parse_qs(request.get_data(as_text=True))
    assert dict(parse_qsl(form["parameters"][0])) == {"Password": new}
    assert cli.auth() == {"other.convox.test": "o1", host: new}


def test_simple_password_body_matches_wire_doc(cli: Cli, server: HTTPServer, host: str) -> None:
    login(cli, server, host, key="old-rack-key")
    server.expect_request("/system", method="PUT").respond_with_json(SYSTEM)
    assert cli.run("rack", "params", "set", "Password=abcDEF123").returncode == 0
    (request,) = requests(server)
    assert request.get_data() == b"parameters=Password%3DabcDEF123"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_password_roll_through_console_keeps_console_key(
    cli: Cli, server: HTTPServer, host: str
) -> None:
    login(cli, server, host)
    server.expect_request("/racks").respond_with_json(RACKS)
    assert cli.run("switch", "acme/prod").returncode == 0
    server.clear()
    server.expect_request("/system", method="PUT").respond_with_json(SYSTEM)
    assert cli.run("rack", "params", "set", "Password=rolled-123").returncode == 0
    (request,) = requests(server)
    assert request.headers["Rack"] == "acme/prod"
    assert cli.auth() == {host: "console-key-1"}


def test_failed_password_roll_keeps_old_key(cli: Cli, server: HTTPServer, host: str) -> None:
    login(cli, server, host, key="old-rack-key")
    server.expect_request("/system", method="PUT").respond_with_json(
        {"error": "denied"}, status=403
    )
    proc = cli.run("rack", "params", "set", "Password=rolled-123")
    assert proc.returncode == 1 and proc.stderr == "ERROR: denied\n"
    assert cli.auth() == {host: "old-rack-key"}


# ----------------------------------------------------------------- logout


def test_logout_removes_only_the_current_host(cli: Cli, server: HTTPServer, host: str) -> None:
    cli.write("auth", json.dumps({"other.convox.test": "o1"}))
    login(cli, server, host)
    cli.write("rack", "acme/prod", 0o644)
    proc = cli.run("logout")
    assert proc.returncode == 0 and host in proc.stdout
    assert cli.auth() == {"other.convox.test": "o1"}
    assert cli.read("host") is None and cli.read("rack") is None
    before = cli.snapshot()
    proc = cli.run("logout")
    assert proc.returncode == 1 and "not logged in" in proc.stderr
    assert cli.snapshot() == before
    assert requests(server) == []
