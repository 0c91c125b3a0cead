"""HTTP/1.1 over one TLS connection: the part of ``http.client`` the CLI uses.

Why not ``http.client``: importing it loads the ``email`` package for header
parsing, about 50 ms and a third of a command's CPU time, and the suite starts
this CLI hundreds of times per run. What a request needs is small: one
request, the status line, the headers and a body framed by ``Content-Length``,
``chunked`` or the end of the connection. The names, limits and failures
follow ``http.client`` (``BadStatusLine``, ``IncompleteRead``,
``RemoteDisconnected``, 64 KiB lines, 100 headers) so an answer it refuses
is refused here too, with the same words.
"""

from __future__ import annotations

from reference_cli import tls

TYPE_CHECKING = False  # mutation: equivalent (True only imports a module sooner)
if TYPE_CHECKING:  # mutation: equivalent (annotations only; importing them costs start-up)
    from typing import BinaryIO

MAX_LINE = 65536
MAX_HEADERS = 100
#: Methods that send a body, and so a Content-Length even when it is empty.
BODY_METHODS = frozenset({"PATCH", "POST", "PUT"})


class HTTPException(Exception):  # http.client's name, kept for its messages
    """The server's answer is not HTTP/1.x as a client can read it."""


class BadStatusLine(HTTPException):
    pass


class LineTooLong(HTTPException):
    pass


class RemoteDisconnected(BadStatusLine):
    pass


class IncompleteRead(HTTPException):
    pass


class InvalidRequest(ValueError):
    """A header or path holding a control character: sending it would split the request."""


def _clean(text: str, what: str) -> str:
    if any(ch in text for ch in "\r\n\0"):
        raise InvalidRequest(f"{what} holds a line break or NUL")
    return text


def host_header(name: str, port: int) -> str:
    shown = f"[{name}]" if ":" in name else name
    return shown if port == 443 else f"{shown}:{port}"


class Response:
    """A response whose head has been read; ``read`` takes the body."""

    def __init__(self, stream: BinaryIO, method: str) -> None:
        self._stream = stream
        self.status, self.reason = self._status_line()
        while 100 <= self.status < 200:  # interim answers (100 Continue) precede the real one
            self._headers()
            self.status, self.reason = self._status_line()
        self.headers = self._headers()
        self.chunked = self.getheader("transfer-encoding", "").lower() == "chunked"
        self._chunk_left: int | None = None
        self._done = False
        #: Body bytes still expected (None: until the connection ends or chunked).
        self.length: int | None = None
        if method == "HEAD" or self.status in (204, 304):
            self.length = 0
        elif not self.chunked:
            try:
                length = int(self.getheader("content-length", ""))
            except ValueError:
                length = -1
            self.length = length if length >= 0 else None

    def _line(self) -> bytes:
        line = self._stream.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise LineTooLong("header line")
        return line

    def _status_line(self) -> tuple[int, str]:
        line = self._line()
        if not line:
            raise RemoteDisconnected("Remote end closed connection without response")
        text = line.decode("iso-8859-1").rstrip("\r\n")
        parts = text.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise BadStatusLine(repr(text))
        try:
            status = int(parts[1])
        except ValueError:
            raise BadStatusLine(repr(text)) from None
        if not 100 <= status <= 999:
            raise BadStatusLine(repr(text))
        return status, parts[2] if len(parts) > 2 else ""

    def _headers(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        while True:
            line = self._line()
            if line in (b"\r\n", b"\n", b""):
                return found
            if len(found) >= MAX_HEADERS:
                raise HTTPException(f"got more than {MAX_HEADERS} headers")
            text = line.decode("iso-8859-1").rstrip("\r\n")
            if text[:1] in (" ", "\t") and found:  # an obsolete folded continuation
                name, value = found[-1]
                found[-1] = (name, f"{value} {text.strip()}")
                continue
            name, sep, value = text.partition(":")
            if sep:
                found.append((name.strip(), value.strip()))

    def getheaders(self) -> list[tuple[str, str]]:
        return list(self.headers)

    def getheader(self, name: str, default: str | None = None) -> str:
        wanted = name.lower()
        values = [v for k, v in self.headers if k.lower() == wanted]
        return ", ".join(values) if values else (default or "")

    def read(self, amount: int = -1) -> bytes:
        """Up to ``amount`` bytes of the body (all when negative); b"" at its end. A body
        cut short leaves ``length`` above zero, as ``http.client`` does."""
        if self._done:
            return b""
        if self.chunked:
            return self._read_chunked(amount)
        if self.length is not None:
            want = self.length if amount < 0 else min(amount, self.length)
            data = self._stream.read(want) if want else b""
            self.length -= len(data)
            if not data:
                self._done = True
            return data
        data = self._stream.read(amount)
        if not data:
            self._done = True
        return data

    def _read_chunked(self, amount: int) -> bytes:
        out = bytearray()
        while amount < 0 or len(out) < amount:
            if not self._chunk_left:
                line = self._line()
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise IncompleteRead("invalid chunk size") from None
                if size == 0:
                    self._headers()  # trailers, up to the blank line
                    self._done = True
                    break
                self._chunk_left = size
            want = self._chunk_left if amount < 0 else min(self._chunk_left, amount - len(out))
            data = self._stream.read(want)
            if not data:
                raise IncompleteRead(f"{len(out)} bytes read, chunk cut short")
            out += data
            self._chunk_left -= len(data)
            if not self._chunk_left:
                self._line()  # the CRLF after each chunk
        return bytes(out)


class Connection:
    """One HTTPS request to ``host``: TLS with SNI and verification as ``context`` says,
    to ``address`` when the resolve map sends the name elsewhere."""

    def __init__(self, host: str, port: int, timeout: float, context: tls.Context,
                 address: tuple[str, int] | None = None) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.context = context
        self.address = address or (host, port)
        self.sock: tls.Connection | None = None
        self._method = "GET"

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> None:
        if any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in path):
            raise InvalidRequest("the path holds a space or a control character")
        lines = [f"{_clean(method, 'the method')} {path} HTTP/1.1",
                 f"Host: {host_header(self.host, self.port)}", "Accept-Encoding: identity"]
        for name, value in (headers or {}).items():
            lines.append(f"{_clean(name, 'a header name')}: {_clean(value, 'a header value')}")
        if body is not None or method in BODY_METHODS:
            lines.append(f"Content-Length: {len(body or b'')}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="strict")
        self.sock = tls.Connection(self.address, self.timeout, self.context, self.host)
        self._method = method
        self.sock.sendall(head + (body or b""))

    def getresponse(self) -> Response:
        assert self.sock is not None, "getresponse before request"
        return Response(self.sock.reader(), self._method)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
