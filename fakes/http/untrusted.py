"""A server certificate from a CA that no CLI was given: the impostor's.

The `untrusted_certificate` fault makes a fake present this certificate
instead of the run's. It names exactly the hosts the run's certificate names
(console.convox.com included), so the only thing wrong with it is who issued
it: a CLI that still sends a key after such a handshake does not verify
certificates at all. The CA exists only in this process's memory; its
certificate is never written anywhere a CLI could be pointed at.
"""

from __future__ import annotations

import ssl
import threading

#: The names of the run's certificate (fakes.backends.in_process.CERT_NAMES), repeated here so the
#: impostor differs from it in nothing but its issuer.
NAMES = ("127.0.0.1", "::1", "localhost", "console.convox.com", "*.convox.test")

_lock = threading.Lock()
_context: ssl.SSLContext | None = None


def untrusted_context() -> ssl.SSLContext:
    """A server context presenting a certificate from a CA made for nobody (cached)."""
    global _context
    with _lock:
        if _context is None:
            import trustme  # only a run that injects this fault pays for importing it

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.set_alpn_protocols(["http/1.1"])
            trustme.CA().issue_cert(*NAMES).configure_cert(context)
            _context = context
        return _context
