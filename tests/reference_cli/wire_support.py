"""What the wire tests share: canned Console and Rack answers, and logging in.

The answers are the shapes the reference CLI reads (``GET /racks``, ``/apps``,
``/system``); ``login`` leaves a CLI logged in to ``host`` with the server's
log cleared, so a test sees only the requests of the command it is about.
"""

from __future__ import annotations

from pytest_httpserver import HTTPServer
from werkzeug import Request

from tests.reference_cli.conftest import Cli

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
