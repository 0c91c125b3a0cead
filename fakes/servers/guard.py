"""The egress guard: a catch-all listener for hosts that are not in the world.

A CLI under test must talk only to the hosts it was told about. The resolve
map sends every other name here, and the guard journals each connection
(with the server name the client asked for) and each request it receives,
under server "guard", so a check can prove "no egress" with one
`journal.expect_none(server="guard")`. It journals at handshake time too,
because a CLI that verifies certificates will give up before sending any
HTTP when it sees our certificate for a host like an analytics service.
"""

from __future__ import annotations

from fakes.http.journal import Journal
from fakes.http.listener import App, Connection, HttpRequest, HttpResponse, error_response
from fakes.http.recording import new_request_id, record
from fakes.model.world import World

SERVER = "guard"


class GuardApp(App):
    """Refuses everything, remembers everything."""

    def __init__(self, world: World, journal: Journal) -> None:
        self.world = world
        self.journal = journal

    def accept_tls(self, conn: Connection) -> bool:
        self._connection(conn, "TLS")
        return True

    def tls_failed(self, conn: Connection, error: str) -> None:
        if not conn.hello_seen:  # not TLS at all (e.g. plain HTTP): still an egress attempt
            self._connection(conn, "RAW")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        host = request.headers.get("Host") or request.sni or "?"
        response = error_response(
            403,
            f"egress guard: {host} is not part of the conformance world; "
            "the CLI tried to reach a host it was not given",
        )
        record(
            self.journal,
            self.world,
            request,
            server=SERVER,
            hop="cli",
            request_id=new_request_id(),
            status=response.status,
        )
        return response

    def _connection(self, conn: Connection, method: str) -> None:
        self.journal.record(
            request_id=new_request_id(),
            server=SERVER,
            address=conn.local,
            host_header=conn.sni or "",
            hop="cli",
            method=method,
            path="",
            status=0,
        )
