"""Transport: one verified HTTPS request, and one readable line when it fails.

TLS is always verified (``$SSL_CERT_FILE`` replaces the system CAs), every
request carries the same headers (auth, ``Version``, ``Rack``), bodies are read
whole within the timeout, and any network, TLS or framing failure becomes a
:class:`~reference_cli.errors.TransportError` with one line naming the
host. TLS (:mod:`tls`, not ``ssl``) and the small HTTP/1.1 client (:mod:`http1`,
not ``http.client``, whose import alone costs a third of a command's time) are
imported only when a request is made, so ``--help`` stays fast; a process makes
one TLS context.
"""

from __future__ import annotations

import os

from reference_cli import errors, hosts

TYPE_CHECKING = False  # mutation: equivalent (True only imports two modules sooner)
if TYPE_CHECKING:  # mutation: equivalent (annotations only; importing them costs start-up)
    from reference_cli import http1, tls


VERSION = "1.0.0"
"""Sent as the ``Version`` header and printed by ``--version``."""


DEFAULT_TIMEOUT = 10.0  # mutation: no rule fixes the default (checks set one)
MAX_RESPONSE_BYTES = 16 * 1024 * 1024  # mutation: no rule bounds the size of a server's answer
TIMEOUT_ENV = "CONVOX_TIMEOUT"
CA_ENV = "SSL_CERT_FILE"


class Response:
    """A fully read HTTP response (the body is read before the connection closes)."""

    __slots__ = ("body", "headers", "reason", "status")

    def __init__(self, status: int, reason: str, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body


def request_timeout() -> float:
    """Seconds allowed per request (``$CONVOX_TIMEOUT``, default 10): never hang."""
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        raise errors.CliError(f"invalid {TIMEOUT_ENV}: {text!r} (seconds expected)") from None
    if not value > 0 or value != value or value == float("inf"):
        raise errors.CliError(f"invalid {TIMEOUT_ENV}: {text!r} (positive seconds expected)")
    return value


def tls_context() -> tls.Context:
    """A verifying TLS client context; ``$SSL_CERT_FILE`` replaces the system CAs.

    Real Convox CLIs skip verification; the reference does not copy that. Made once
    per process: a command that meets a session challenge sends three requests.
    """
    from reference_cli import tls

    cafile = os.environ.get(CA_ENV) or None
    cached = _CONTEXTS.get(cafile)
    if cached is not None:
        return cached
    try:
        context = tls.verifying_context(cafile)
    except (OSError, tls.SSLError) as exc:
        raise errors.CliError(f"cannot load CA bundle {CA_ENV}={cafile}: {exc}") from None
    _CONTEXTS[cafile] = context
    return context


_CONTEXTS: dict[str | None, tls.Context] = {}


def basic_auth_header(key: str) -> str:
    """``Basic base64("convox:" + key)``: the key's UTF-8 bytes exactly, never escaped.

    ``binascii`` is what ``base64.b64encode`` calls, without the ``base64`` module's import.
    """
    import binascii

    try:
        raw = key.encode("utf-8")
    except UnicodeEncodeError:
        raise errors.CliError("the key is not valid UTF-8") from None
    return "Basic " + binascii.b2a_base64(b"convox:" + raw, newline=False).decode("ascii")


def user_agent() -> str:
    """Identify the reference CLI honestly (real CLIs send ``convox.go/<version>``)."""
    return f"convox-reference/{VERSION}"


def request_headers(key: str, rack: str | None, content_type: str | None = None) -> dict[str, str]:
    """Headers of every request: auth, Version, User-Agent and ``Rack`` when selected.

    The ``Rack`` header is how Console knows which rack to proxy to.
    """
    headers = {
        "Authorization": basic_auth_header(key),
        "Version": VERSION,
        "User-Agent": user_agent(),
        "Accept": "application/json",
    }
    if rack:
        headers["Rack"] = rack
    if content_type:
        headers["Content-Type"] = content_type
    return headers


def open_connection(host: str, timeout: float) -> http1.Connection:
    """A connection to ``host`` (HTTPS only), honouring the resolve map."""
    from reference_cli import http1

    name, port = hosts.split_host(host)
    return http1.Connection(name, port, timeout, tls_context(),
                            hosts.resolve_address(name, port))


def describe_transport_error(exc: BaseException, host: str, timeout: float) -> str:
    """One readable line for a network/TLS/framing failure (no traceback, no key)."""
    from reference_cli import http1, tls

    if isinstance(exc, tls.CertificateError):
        return f"TLS certificate of {host} could not be verified: {exc}"
    if isinstance(exc, tls.SSLError):
        return f"TLS error talking to {host}: {exc}"
    if isinstance(exc, TimeoutError):
        return f"timed out after {timeout:g}s talking to {host}"
    if isinstance(exc, http1.IncompleteRead):
        return f"truncated response from {host}"
    if isinstance(exc, http1.HTTPException):
        return f"invalid HTTP response from {host}: {type(exc).__name__} {exc}".strip()
    if isinstance(exc, ConnectionRefusedError):
        return f"cannot connect to {host}: connection refused"
    if isinstance(exc, OSError):
        return f"network error talking to {host}: {errors.os_reason(exc)}"
    if isinstance(exc, UnicodeError):
        return f"invalid host: {host}"
    return f"request to {host} failed: {type(exc).__name__}"


def read_body(resp: http1.Response, deadline: float, host: str) -> bytes:
    """Read the whole body within the deadline; a short body is an error, not data."""
    import time

    chunks: list[bytes] = []
    size = 0  # mutation: no rule bounds the size of a server's answer
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError()
        chunk = resp.read(65536)  # mutation: equivalent (chunk size only)
        if not chunk:
            break
        size += len(chunk)  # mutation: no rule bounds the size of a server's answer
        if size > MAX_RESPONSE_BYTES:  # mutation: no rule bounds the size of a server's answer
            raise errors.TransportError(f"response from {host} is too large")
        chunks.append(chunk)
    if resp.length:
        raise errors.TransportError(f"truncated response from {host}")
    return b"".join(chunks)


def exchange(
    host: str,
    key: str,
    method: str,
    path: str,
    rack: str | None,
    body: bytes | None,
    content_type: str | None,
    extra_headers: dict[str, str],
) -> Response:
    """One request and its answer, nothing more (:func:`calls.send_request` meets a
    challenge)."""
    import time

    timeout = request_timeout()
    headers = {**request_headers(key, rack, content_type), **extra_headers}
    deadline = time.monotonic() + timeout
    conn = open_connection(host, timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = read_body(resp, deadline, host)
        response_headers = {k.lower(): v for k, v in resp.getheaders()}
        return Response(resp.status, resp.reason, response_headers, data)
    except errors.CliError:
        raise
    except Exception as exc:
        raise errors.TransportError(describe_transport_error(exc, host, timeout)) from None
    finally:
        conn.close()
