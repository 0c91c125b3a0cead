"""The fake Console's HTTP layer: its own routes plus real proxying to racks.

Console answers `/auth`, `/racks` and `/racks/<org>/<name>` itself (under
`/racks/` nothing else: the fake keeps no installs, syncs or updates). Any other
request must name a
rack in its `Rack` header; Console then authorises the user for that rack
(the model decides: plan, membership, role) and forwards the request over
real HTTPS to the rack with the rack key it keeps in its vault. The proxy
hop is a genuine network call so that a rack refusing the stored key, a
rack that is down, or a fault on the Console->Rack hop reaches the CLI the
way it would in production: as a 502 that names the rack and the cause.
"""

from __future__ import annotations

import base64
import http.client
import socket
import ssl

from fakes.http.faults import PROXY_SNI, FaultPlan
from fakes.http.journal import Journal
from fakes.http.listener import (
    HttpRequest,
    HttpResponse,
    basic_auth_password,
    error_response,
    json_response,
)
from fakes.http.recording import REQUEST_ID_HEADER, new_request_id
from fakes.model.world import Principal, ProxyTarget, World, WorldError
from fakes.servers.world_server import WorldServer

CONSOLE_ROUTES = ("/auth", "/racks")
#: Console's records of single racks, GET /racks/<org>/<name> (what v3 reads before it
#: changes a rack's parameters).
RACK_RECORDS = "/racks/"
#: Where a CLI opens a second-factor session, and the challenge naming it (no
#: hardware key: token="false"), as Console sends them.
SESSION_PATH = "/session"
SESSION_CHALLENGE = f'Session path="{SESSION_PATH}" token="false"'

# Request headers worth passing to the rack; authentication is Console's own.
FORWARDED_HEADERS = ("Accept", "Content-Type", "User-Agent", "Version")


class _ProxyConnection(http.client.HTTPSConnection):
    """HTTPS to a rack, sending PROXY_SNI so the rack can tell the proxy hop apart."""

    def __init__(
        self, host: str, port: int | None, context: ssl.SSLContext, timeout: float
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._proxy_context = context

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.sock = self._proxy_context.wrap_socket(sock, server_hostname=PROXY_SNI)
        except BaseException:
            sock.close()
            raise


class ConsoleApp(WorldServer):
    """The Console of one world.

    `client_context` verifies the racks' certificates (the session CA);
    `proxy_timeout` bounds each proxy hop so a stalled rack becomes a 502.
    """

    server = "console"

    def __init__(
        self,
        world: World,
        journal: Journal,
        faults: FaultPlan,
        client_context: ssl.SSLContext,
        proxy_timeout: float = 10.0,
    ) -> None:
        self.world = world
        self.journal = journal
        self.faults = faults
        self.client_context = client_context
        self.proxy_timeout = proxy_timeout

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = new_request_id()
        return self.answered(request, "cli", request_id, lambda: self._answer(request, request_id))

    def _answer(self, request: HttpRequest, request_id: str) -> HttpResponse:
        try:
            principal = self.world.authenticate(basic_auth_password(request.headers))
            if principal is None:
                return error_response(401, "invalid authentication")
            if request.path == SESSION_PATH:
                if request.method != "POST":
                    return error_response(405, f"{SESSION_PATH} only answers POST")
                return json_response(200, {"id": self.world.open_session(principal)})
            # Never on GET /auth: both current official CLIs check a key at login without
            # their session authenticator (pkg/cli/login.go in convox/rack and convox/convox),
            # so a Console that challenged logins would lock out every second-factor user.
            if request.path != "/auth" and self.world.session_missing(
                    principal, request.headers.get("Session")):
                refusal = error_response(401, "a second-factor session is required")
                refusal.headers["WWW-Authenticate"] = SESSION_CHALLENGE
                return refusal
            if request.path in CONSOLE_ROUTES or request.path.startswith(RACK_RECORDS):
                return self._console_route(request, principal)
            rack = (request.headers.get("Rack") or "").strip()
            if not rack:
                return error_response(
                    400,
                    f"{request.method} {request.path} is a rack route: no rack selected "
                    "(send a Rack: <org>/<name> header, e.g. after `convox switch`)",
                )
            target = self.world.authorize_proxy(principal, rack, request.method, request.path)
            return self._proxy(request, target, request_id)
        except WorldError as exc:
            return error_response(exc.status, exc.message)

    def _console_route(self, request: HttpRequest, principal: Principal) -> HttpResponse:
        if request.method != "GET":
            return error_response(405, f"{request.path} only answers GET")
        if request.path == "/auth":
            return json_response(200, {"id": principal.id})
        if request.path.startswith(RACK_RECORDS):
            ref = request.path[len(RACK_RECORDS):]
            if ref.count("/") != 1:
                return error_response(404, f"no Console route {request.path}")
            return json_response(200, self.world.console_rack(principal, ref))
        return json_response(200, self.world.racks_for(principal))

    def _proxy(self, request: HttpRequest, target: ProxyTarget, request_id: str) -> HttpResponse:
        ref = target.ref
        host, port = _split_host(target.host)
        credentials = base64.b64encode(f"convox:{target.key}".encode()).decode("ascii")
        headers = {
            name: request.headers[name] for name in FORWARDED_HEADERS if name in request.headers
        }
        headers["Authorization"] = f"Basic {credentials}"
        headers[REQUEST_ID_HEADER] = request_id
        url = request.path + (f"?{request.query}" if request.query else "")
        conn = _ProxyConnection(host, port, self.client_context, self.proxy_timeout)
        try:
            conn.request(request.method, url, body=request.body or None, headers=headers)
            answer = conn.getresponse()
            body = answer.read()
            status = answer.status
            content_type = answer.getheader("Content-Type")
        except Exception as exc:  # every way a network call can fail becomes a 502
            return error_response(
                502, f"Console could not reach rack {ref}: {_describe(exc, self.proxy_timeout)}"
            )
        finally:
            conn.close()
        if status == 401:
            return error_response(
                502,
                f"rack {ref} refused the API key Console holds for it (401): Console has lost "
                "access to this rack. A key roll still in progress causes this until the rack "
                "update finishes; if the rack's Password was changed by hand, remove the rack "
                "from Console and add it again with its current key.",
            )
        return HttpResponse(status, {"Content-Type": content_type} if content_type else {}, body)


def _split_host(host: str) -> tuple[str, int | None]:
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit() and name:
        return name.strip("[]"), int(port)
    return host, 443


def _describe(exc: Exception, timeout: float) -> str:
    """A cause a user can act on, without any secret in it."""
    if isinstance(exc, http.client.RemoteDisconnected):
        # Python's ssl reports a TCP reset under TLS as an end of file, so the two
        # cannot be told apart here; name both.
        return "the rack closed or reset the connection without answering"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the rack running?)"
    if isinstance(exc, ConnectionResetError):
        return "the connection was reset"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"no answer within {timeout:g} s (timeout)"
    if isinstance(exc, http.client.IncompleteRead):
        return "the rack's answer was cut short"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake with the rack failed ({exc.reason or type(exc).__name__})"
    if isinstance(exc, http.client.HTTPException):
        return f"the rack's answer was not valid HTTP ({type(exc).__name__})"
    if isinstance(exc, OSError):
        return f"network error ({exc.strerror or type(exc).__name__})"
    return f"proxy error ({type(exc).__name__})"
