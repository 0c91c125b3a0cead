"""TLS client connections made from ``_ssl`` and ``_socket``, the C modules under ``ssl``
and ``socket``.

Why not ``ssl`` and ``socket``: importing them turns some hundreds of OpenSSL's and
the kernel's constants into enums and loads ``selectors``, about 18 ms of CPU and a
fifth of a networked command, and the suite starts this CLI thousands of times in
one run of the project's tests. A request needs little of them: a verifying client
context, a TCP connection with a timeout, a handshake, reads and writes. Each step
here makes the call ``ssl`` and ``socket`` make, in their order, so the context's
settings, the certificate and host name checks, and every failure (``ssl.SSLError``
*is* ``_ssl.SSLError``) are exactly theirs; ``tests/reference_cli/test_tls.py``
holds the two side by side.

Any context whose class is ``ssl.SSLContext`` (a subclass of ``_ssl._SSLContext``)
works too: a variant of this CLI may hand one in.
"""

from __future__ import annotations

import _socket
import _ssl
import io
import sys

TYPE_CHECKING = False  # mutation: equivalent (True only imports a module sooner)
if TYPE_CHECKING:  # mutation: equivalent (annotations only; importing them costs start-up)
    from typing import Protocol

    class TlsObject(Protocol):
        """What ``_SSLContext._wrap_socket`` returns (typeshed has no stub for it)."""

        def do_handshake(self) -> None: ...
        def read(self, size: int, buffer: bytearray | memoryview) -> int: ...
        def write(self, data: memoryview) -> int: ...

Context = _ssl._SSLContext
SSLError = _ssl.SSLError
CertificateError = _ssl.SSLCertVerificationError
CERT_NONE = _ssl.CERT_NONE
#: What ``ssl.create_default_context`` adds to the context's verify flags from
#: Python 3.13 on (VERIFY_X509_STRICT | VERIFY_X509_PARTIAL_CHAIN).
STRICT_FLAGS = 0x20 | 0x80000


def client_context() -> Context:
    """A fresh client context with ``ssl.SSLContext(PROTOCOL_TLS_CLIENT)``'s defaults:
    TLS 1.2 or later, the certificate and the host name checked, no CA loaded yet."""
    return _ssl._SSLContext(_ssl.PROTOCOL_TLS_CLIENT)


def verifying_context(cafile: str | None) -> Context:
    """What ``ssl.create_default_context(cafile=cafile)`` makes: ``cafile`` replaces
    the system CAs. Raises ``OSError`` or :data:`SSLError` for a bundle it cannot load."""
    context = client_context()
    context.minimum_version = _ssl.PROTO_TLSv1_2
    if sys.version_info >= (3, 13):  # mutation: only Python 3.13 and later run this line
        context.verify_flags |= STRICT_FLAGS
    if cafile:
        context.load_verify_locations(cafile)
    else:
        context.set_default_verify_paths()
    return context


class _Socket(_socket.socket):
    """A plain ``_socket.socket``, but one a TLS object may hold a weak reference to."""


def tcp_connection(address: tuple[str, int], timeout: float) -> _Socket:
    """``socket.create_connection``: each address the name resolves to, in order; the
    first that connects, else the last one's error."""
    host, port = address
    error: OSError | None = None
    for family, kind, proto, _, sockaddr in _socket.getaddrinfo(host, port, 0,
                                                                _socket.SOCK_STREAM):
        sock = _Socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        return sock
    raise error or OSError("getaddrinfo returns an empty list")


class _Body(io.RawIOBase):
    """The decrypted stream, as ``SSLSocket.makefile("rb")`` reads it."""

    def __init__(self, tls: TlsObject) -> None:
        super().__init__()
        self._tls = tls

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            return self._tls.read(len(buffer), buffer)
        except SSLError as exc:
            # A peer that closes without TLS's close_notify ends the stream, as
            # ssl's suppress_ragged_eofs (its default) has it.
            if exc.args[0] == _ssl.SSL_ERROR_EOF:
                return 0
            raise


class Connection:
    """One TLS connection to ``address``, verified as ``context`` says for ``server_hostname``
    (also the SNI name when it is not an IP address)."""

    def __init__(self, address: tuple[str, int], timeout: float, context: Context,
                 server_hostname: str) -> None:
        self._sock = tcp_connection(address, timeout)
        try:
            name = server_hostname.encode("idna").decode("ascii")
            self._tls: TlsObject = context._wrap_socket(  # type: ignore[attr-defined]
                self._sock, False, name)
            self._tls.do_handshake()
        except BaseException:
            self._sock.close()
            raise

    def sendall(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[self._tls.write(view):]

    def reader(self) -> io.BufferedReader:
        return io.BufferedReader(_Body(self._tls))

    def close(self) -> None:
        self._sock.close()
