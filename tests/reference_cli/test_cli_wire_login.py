"""Wire tests of ``login``: the reference CLI as a subprocess against a loopback TLS server.

How a key is validated, sent and stored (flag, environment, terminal prompt),
what a failed login leaves, and how the resolve seam reaches Console. Each test
uses a fresh HOME/CONVOX_CONFIG (see conftest.Cli) and a trustme CA given
through SSL_CERT_FILE; requests are inspected in pytest-httpserver's log.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pexpect
import pytest
from pytest_httpserver import HTTPServer

from tests.reference_cli.conftest import Cli, basic
from tests.reference_cli.wire_support import APPS, requests, serve_auth

ODD_KEYS = [
    "plus+slash/at@colon:percent%25 space",
    "ключ-ñ-🔑-日本",
    " leading and trailing ",
    "=?&#\\\"'",
]


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
