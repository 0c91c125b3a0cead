"""Wire tests: the reference CLI as a subprocess against a loopback TLS server.

Each test uses a fresh HOME/CONVOX_CONFIG (see conftest.Cli) and a trustme CA
given through SSL_CERT_FILE; requests are inspected in pytest-httpserver's log.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pexpect
import pytest
import trustme
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.reference_cli.conftest import Cli, RawTlsServer, basic, snapshot

RACKS = [
    {"name": "prod", "organization": {"name": "acme"}, "status": "running"},
    {"name": "staging", "organization": {"name": "acme"}, "status": "running"},
    {"name": "prod", "organization": {"name": "beta"}, "status": "updating"},
]
APPS = [{"name": "web", "status": "running", "release": "RABC", "generation": "2"}]
SYSTEM = {
    "name": "prod",
    "status": "running",
    "version": "20240101",
    "region": "us-east-1",
    "count": 3,
    "type": "t3.small",
    "parameters": {"Password": "hidden", "Autoscale": "Yes"},
}
ODD_KEYS = [
    "plus+slash/at@colon:percent%25 space",
    "ключ-ñ-🔑-日本",
    " leading and trailing ",
    "=?&#\\\"'",
]


def requests(server: HTTPServer) -> list[Request]:
    return [request for request, _response in server.log]


def serve_auth(server: HTTPServer, body: object = None, status: int = 200) -> None:
    server.expect_request("/auth", method="GET").respond_with_json(
        {"id": "user-1"} if body is None else body, status=status
    )


def login(cli: Cli, server: HTTPServer, host: str, key: str = "console-key-1") -> None:
    serve_auth(server)
    proc = cli.run("login", host, "--password", key)
    assert proc.returncode == 0, proc.stderr
    server.clear()


# ----------------------------------------------------------------- login


def test_login_validates_then_stores(cli: Cli, server: HTTPServer, host: str) -> None:
    serve_auth(server)
    key = "k" * 40
    proc = cli.run("login", host, "--password", key)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Logged in successfully.\n"
    assert key not in proc.stdout + proc.stderr
    (request,) = requests(server)
    assert request.method == "GET" and request.path == "/auth"
    assert request.headers["Authorization"] == basic(key)
    assert request.headers["Host"] == host
    assert request.headers["Version"]
    assert request.headers["User-Agent"].startswith("convox-reference/")
    assert "Rack" not in request.headers
    assert cli.auth() == {host: key}
    assert cli.read("host") == host
    assert cli.read("id") == "user-1"
    assert cli.config.stat().st_mode & 0o777 == 0o700
    assert (cli.config / "auth").stat().st_mode & 0o777 == 0o600
    assert (cli.config / "auth").read_text() == json.dumps({host: key}, indent=2)


@pytest.mark.parametrize("key", ODD_KEYS)
@pytest.mark.parametrize("how", ["flag", "env"])
def test_odd_keys_are_sent_and_stored_byte_exact(
    cli: Cli, server: HTTPServer, host: str, key: str, how: str
) -> None:
    serve_auth(server)
    if how == "flag":
        proc = cli.run("login", host, "--password", key)
    else:
        proc = cli.run("login", host, env={"CONVOX_PASSWORD": key})
    assert proc.returncode == 0, proc.stderr
    (request,) = requests(server)
    assert request.headers["Authorization"] == basic(key)
    assert cli.auth() == {host: key}
    assert key not in proc.stdout + proc.stderr
    # and the stored key is used unchanged afterwards
    server.clear()
    server.expect_request("/apps").respond_with_json(APPS)
    assert cli.run("apps").returncode == 0
    (request,) = requests(server)
    assert request.headers["Authorization"] == basic(key)


def test_key_precedence_flag_env_stored(cli: Cli, server: HTTPServer, host: str) -> None:
    serve_auth(server)
    assert (
        cli.run("login", host, "-p", "flag-key", env={"CONVOX_PASSWORD": "env-key"}).returncode == 0
    )
    assert cli.run("login", host, env={"CONVOX_PASSWORD": "env-key"}).returncode == 0
    assert cli.run("login", host).returncode == 0  # the stored key, no prompt
    sent = [r.headers["Authorization"] for r in requests(server)]
    assert sent == [basic("flag-key"), basic("env-key"), basic("env-key")]
    assert cli.auth() == {host: "env-key"}


@pytest.mark.parametrize(
    ("status", "body"),
    [(401, {"error": "invalid key"}), (500, {"error": "boom"}), (403, "forbidden")],
)
def test_failed_login_writes_nothing(
    cli: Cli, server: HTTPServer, host: str, status: int, body: object
) -> None:
    if isinstance(body, str):
        server.expect_request("/auth").respond_with_data(body, status=status)
    else:
        server.expect_request("/auth").respond_with_json(body, status=status)
    key = "bad-key-123456"
    proc = cli.run("login", host, "--password", key)
    assert proc.returncode == 1
    assert key not in proc.stdout + proc.stderr
    assert not cli.config.exists()
    if status == 401:
        assert f"convox login {host}" in proc.stderr
    else:
        assert proc.stderr == f"ERROR: {body['error'] if isinstance(body, dict) else body}\n"


def test_failed_login_keeps_previous_state(cli: Cli, server: HTTPServer, host: str) -> None:
    cli.write("auth", json.dumps({"other.convox.test": "o1", host: "old"}, indent=2))
    cli.write("host", "other.convox.test", 0o644)
    cli.write("rack", "acme/prod", 0o644)
    before = cli.snapshot()
    server.expect_request("/auth").respond_with_json({"error": "nope"}, status=401)
    assert cli.run("login", host, "--password", "new-bad-key").returncode == 1
    assert cli.snapshot() == before


def test_login_clears_rack_selection_and_keeps_other_hosts(
    cli: Cli, server: HTTPServer, host: str
) -> None:
    cli.write("auth", json.dumps({"other.convox.test": "o1"}))
    cli.write("rack", "acme/prod", 0o644)
    serve_auth(server, body={})
    assert cli.run("login", host, "--password", "rack-key").returncode == 0
    assert cli.auth() == {"other.convox.test": "o1", host: "rack-key"}
    assert cli.read("rack") is None
    assert cli.read("id") is None  # a Rack returns no id


@pytest.mark.parametrize(
    "body",
    [b"ok\n", b'{"success":true}', b"OK", b"{not json", b"[1, 2", b"\xff\xfe", b""],
    ids=["today", "2017", "older", "bad", "truncated-json", "binary", "empty"],
)
def test_any_200_from_auth_is_an_accepted_key(
    cli: Cli, server: HTTPServer, host: str, body: bytes
) -> None:
    # Racks answer /auth with text, never an id (convox/rack#2114): the status decides.
    server.expect_request("/auth").respond_with_data(body, content_type="text/plain")
    proc = cli.run("login", host, "--password", "some-key-1")
    assert proc.returncode == 0, proc.stderr
    assert cli.auth() == {host: "some-key-1"}
    assert cli.read("id") is None


@pytest.mark.parametrize("body", [b'{"id": "u-42"}', b'{"id": 42}'])
def test_auth_id_is_read_from_a_json_object(
    cli: Cli, server: HTTPServer, host: str, body: bytes
) -> None:
    server.expect_request("/auth").respond_with_data(body, content_type="application/json")
    assert cli.run("login", host, "--password", "some-key-1").returncode == 0
    assert (cli.read("id") or "").strip() in ("u-42", "42")


def test_login_defaults_to_console_through_resolve_seam(cli: Cli, server: HTTPServer) -> None:
    serve_auth(server)
    env = {"CONVOX_REFERENCE_RESOLVE": f"console.convox.com:443=127.0.0.1:{server.port}"}
    proc = cli.run("login", "--password", "ck", env=env)
    assert proc.returncode == 0, proc.stderr
    (request,) = requests(server)
    assert request.headers["Host"] == "console.convox.com"
    assert cli.read("host") == "console.convox.com"
    assert cli.auth() == {"console.convox.com": "ck"}


def test_resolve_wildcard_reaches_any_name(cli: Cli, server: HTTPServer) -> None:
    serve_auth(server, body={})
    env = {"CONVOX_REFERENCE_RESOLVE": f"*=127.0.0.1:{server.port}"}
    proc = cli.run("login", "rack1.convox.test:8443", "--password", "rk", env=env)
    assert proc.returncode == 0, proc.stderr
    (request,) = requests(server)
    assert request.headers["Host"] == "rack1.convox.test:8443"


def test_wildcard_does_not_divert_address_hosts(cli: Cli, server: HTTPServer, host: str) -> None:
    """The suite gives fakes as 127.0.0.1:port and maps `*` to its egress guard:
    an address needs no resolving, so it must still reach the fake itself."""
    serve_auth(server)
    env = {"CONVOX_REFERENCE_RESOLVE": "console.convox.com:443=127.0.0.1:9;*=127.0.0.1:9"}
    proc = cli.run("login", host, "--password", "kkkkkk", env=env)
    assert proc.returncode == 0, proc.stderr
    assert len(requests(server)) == 1


def test_prompt_login_through_a_terminal(cli: Cli, server: HTTPServer, host: str) -> None:
    serve_auth(server)
    key = "typed-secret-ключ"
    child = pexpect.spawn(
        sys.executable,
        ["-m", "reference_cli", "login", host],
        env=cli.env,
        cwd=str(cli.home),
        encoding="utf-8",
        timeout=20,
    )
    child.expect_exact("Password: ")
    child.sendline(key)
    child.expect(pexpect.EOF)
    output = child.before
    child.close()
    assert child.exitstatus == 0, output
    assert key not in output  # no echo, never printed
    assert "Logged in successfully." in output
    (request,) = requests(server)
    assert request.headers["Authorization"] == basic(key)
    assert cli.auth() == {host: key}


def test_no_terminal_and_no_key_fails_without_request(
    cli: Cli, server: HTTPServer, host: str
) -> None:
    proc = cli.run("login", host)
    assert proc.returncode == 1
    assert "--password" in proc.stderr
    assert requests(server) == []
    assert not cli.config.exists()


def test_concurrent_logins_to_different_hosts_lose_nothing(cli: Cli, server: HTTPServer) -> None:
    serve_auth(server)
    env = dict(cli.env, CONVOX_REFERENCE_RESOLVE=f"*=127.0.0.1:{server.port}")
    procs = [
        subprocess.Popen(
            cli.command("login", f"h{n}.convox.test", "--password", f"key-{n}"),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        for n in range(8)
    ]
    results = [(p.wait(timeout=60), p.stderr.read() if p.stderr else b"") for p in procs]
    for proc in procs:
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
    assert [code for code, _ in results] == [0] * 8, results
    assert cli.auth() == {f"h{n}.convox.test": f"key-{n}" for n in range(8)}
    assert cli.read("host") in {f"h{n}.convox.test" for n in range(8)}
    assert not [p for p in cli.config.iterdir() if p.name.endswith(".tmp")]


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


# ----------------------------------------------------------------- errors


def test_server_errors_are_one_line(cli: Cli, server: HTTPServer, host: str) -> None:
    login(cli, server, host)
    server.expect_oneshot_request("/apps").respond_with_json(
        {"error": "rack acme/prod: 502"}, status=502
    )
    assert cli.run("apps").stderr == "ERROR: rack acme/prod: 502\n"
    server.expect_oneshot_request("/apps").respond_with_data("plain text\nsecond line", status=500)
    assert cli.run("apps").stderr == "ERROR: plain text\n"
    server.expect_oneshot_request("/apps").respond_with_json({"error": "bad key"}, status=401)
    proc = cli.run("apps")
    assert proc.returncode == 1 and f"`convox login {host}`" in proc.stderr
    server.expect_oneshot_request("/apps").respond_with_data("{oops", status=200)
    assert "malformed JSON" in cli.run("apps").stderr


def test_untrusted_certificate_fails_cleanly(
    cli: Cli, server: HTTPServer, host: str, tmp_path: Path
) -> None:
    serve_auth(server)
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    proc = cli.run("login", host, "--password", "kkkkkk", env={"SSL_CERT_FILE": str(other)})
    assert proc.returncode == 1 and "could not be verified" in proc.stderr
    assert not cli.config.exists()


def test_plain_http_server_is_never_spoken_to_in_clear(cli: Cli) -> None:
    plain = HTTPServer(host="127.0.0.1", port=0)
    plain.expect_request("/auth").respond_with_json({"id": "x"})
    plain.start()
    try:
        proc = cli.run("login", f"127.0.0.1:{plain.port}", "--password", "kkkkkk")
    finally:
        plain.stop()
    assert proc.returncode == 1 and "TLS" in proc.stderr
    assert not cli.config.exists()


def test_connection_refused_is_one_line(cli: Cli) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = cli.run("login", f"127.0.0.1:{port}", "--password", "kkkkkk")
    assert proc.returncode == 1 and "connection refused" in proc.stderr


def test_truncated_body_is_an_error(
    cli: Cli, raw_server: Callable[[bytes | None], RawTlsServer]
) -> None:
    srv = raw_server(
        b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"id": "u'
    )
    proc = cli.run("login", f"127.0.0.1:{srv.port}", "--password", "kkkkkk")
    assert proc.returncode == 1 and "truncated" in proc.stderr
    assert not cli.config.exists()


def test_garbage_status_line_is_an_error(
    cli: Cli, raw_server: Callable[[bytes | None], RawTlsServer]
) -> None:
    srv = raw_server(b"SMTP ready\r\n\r\n")
    proc = cli.run("login", f"127.0.0.1:{srv.port}", "--password", "kkkkkk")
    assert proc.returncode == 1 and "invalid HTTP response" in proc.stderr


def test_silent_server_times_out(
    cli: Cli, raw_server: Callable[[bytes | None], RawTlsServer]
) -> None:
    srv = raw_server(None)
    proc = cli.run(
        "login", f"127.0.0.1:{srv.port}", "--password", "kkkkkk", env={"CONVOX_TIMEOUT": "0.5"}
    )
    # The CLI's own deadline ended it, not the test's: no wall-clock bound a busy machine
    # could break.
    assert proc.returncode == 1 and "timed out after 0.5s" in proc.stderr
    assert not cli.config.exists()


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


# ----------------------------------------------------------------- misc


def test_version_help_and_unknown(cli: Cli) -> None:
    from reference_cli.transport import VERSION

    assert cli.run("--version").stdout.strip().endswith(VERSION)
    assert "login" in cli.run("--help").stdout
    proc = cli.run("frobnicate")
    assert proc.returncode == 1 and "unknown command" in proc.stderr
    assert not cli.config.exists()
