"""What Console and a rack share: the world's faults at the handshake and on each request,
and one journal entry per request.

Both servers consult the same fault plan the same way (a ``tls_failure``
refuses the handshake, an ``untrusted_certificate`` presents a certificate
from a CA nobody was given, a request fault replaces or breaks the answer)
and journal every request they answer; only the server's name and the hop
differ, so that is all a subclass says.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable

from fakes.http.faults import FaultPlan, apply_faults, hop_for_sni
from fakes.http.journal import Journal
from fakes.http.listener import App, Connection, HttpRequest, HttpResponse
from fakes.http.recording import record
from fakes.http.untrusted import untrusted_context
from fakes.model.world import World


class WorldServer(App):
    """A server of one world: ``server`` is its name in fault plans and the journal."""

    server: str
    world: World
    journal: Journal
    faults: FaultPlan

    def accept_tls(self, conn: Connection) -> bool:
        return self.faults.match_tls(self.server, hop_for_sni(conn.sni)) is None

    def tls_context(self, conn: Connection) -> ssl.SSLContext | None:
        fault = self.faults.match_tls(self.server, hop_for_sni(conn.sni), "untrusted_certificate")
        return None if fault is None else untrusted_context()

    def answered(self, request: HttpRequest, hop: str, request_id: str,
                 answer: Callable[[], HttpResponse]) -> HttpResponse:
        """``answer()``, unless a fault on this server and hop answers instead; journaled."""
        response, _ = apply_faults(
            self.faults, self.server, request.method, request.path, hop, answer
        )
        record(
            self.journal,
            self.world,
            request,
            server=self.server,
            hop=hop,
            request_id=request_id,
            status=response.status,
        )
        return response
