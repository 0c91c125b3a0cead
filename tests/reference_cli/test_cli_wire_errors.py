"""Wire tests of failures: every server error, TLS refusal and broken or silent
answer ends the reference CLI with one ERROR line and nothing written.

Servers that misbehave below HTTP are conftest.RawTlsServer; the rest use
pytest-httpserver over TLS. Also ``--version``, ``--help`` and an unknown command.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import trustme
from pytest_httpserver import HTTPServer

from tests.reference_cli.conftest import Cli, RawTlsServer
from tests.reference_cli.wire_support import login, serve_auth

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


# ----------------------------------------------------------------- misc


def test_version_help_and_unknown(cli: Cli) -> None:
    from reference_cli.transport import VERSION

    assert cli.run("--version").stdout.strip().endswith(VERSION)
    assert "login" in cli.run("--help").stdout
    proc = cli.run("frobnicate")
    assert proc.returncode == 1 and "unknown command" in proc.stderr
    assert not cli.config.exists()
