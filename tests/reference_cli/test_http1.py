"""The reference CLI's HTTP/1.1 client reads and refuses answers as http.client does."""

from __future__ import annotations

import io

import pytest

from reference_cli import http1


def answer(raw: bytes, method: str = "GET") -> http1.Response:
    return http1.Response(io.BytesIO(raw), method)


def test_a_body_framed_by_content_length() -> None:
    resp = answer(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 2\r\n\r\n[]")
    assert (resp.status, resp.reason, resp.getheader("content-type")) == (
        200, "OK", "application/json")
    assert resp.read() == b"[]" and resp.length == 0 and resp.read() == b""


def test_a_body_cut_short_leaves_bytes_expected() -> None:
    resp = answer(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n[1,")
    assert resp.read(65536) == b"[1," and resp.read(65536) == b""
    assert resp.length == 7  # read_body turns this into "truncated response"


def test_a_chunked_body_with_extensions_and_trailers() -> None:
    resp = answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n")
    assert resp.read(2) + resp.read(65536) == b"abcde" and resp.read() == b""


def test_a_chunk_cut_short_is_an_incomplete_read() -> None:
    resp = answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab")
    with pytest.raises(http1.IncompleteRead):
        resp.read()


def test_a_body_until_the_connection_ends_and_none_after_head_or_204() -> None:
    assert answer(b"HTTP/1.0 200 OK\r\n\r\nall of it").read() == b"all of it"
    assert answer(b"HTTP/1.1 204 No Content\r\n\r\nignored").read() == b""
    assert answer(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", "HEAD").read() == b""


def test_interim_answers_are_skipped_and_folded_headers_joined() -> None:
    resp = answer(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 401 Unauthorized\r\n"
                  b"WWW-Authenticate: Session\r\n path=\"/session\"\r\nContent-Length: 0\r\n\r\n")
    assert resp.status == 401 and resp.getheader("www-authenticate") == 'Session path="/session"'


@pytest.mark.parametrize(("raw", "error"), [
    (b"", http1.RemoteDisconnected),
    (b"garbage\r\n\r\n", http1.BadStatusLine),
    (b"HTTP/1.1 abc OK\r\n\r\n", http1.BadStatusLine),
    (b"HTTP/1.1 20 OK\r\n\r\n", http1.BadStatusLine),
    (b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70000 + b"\r\n\r\n", http1.LineTooLong),
    (b"HTTP/1.1 200 OK\r\n" + b"X: 1\r\n" * 101 + b"\r\n", http1.HTTPException),
])
def test_answers_http_client_refuses_are_refused(raw: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        answer(raw)


@pytest.mark.parametrize(("path", "headers"), [
    ("/apps HTTP/1.1\r\nX: y", {}),
    ("/apps", {"Rack": "acme/production\r\nAuthorization: Basic eA=="}),
    ("/apps", {"X-Bad\nName": "v"}),
])
def test_a_request_that_would_split_is_refused_before_connecting(path, headers) -> None:
    conn = http1.Connection("127.0.0.1", 9, 1.0, context=None)  # type: ignore[arg-type]
    with pytest.raises(http1.InvalidRequest):
        conn.request("GET", path, headers=headers)


def test_the_host_header_names_the_port_unless_it_is_443() -> None:
    assert http1.host_header("console.convox.com", 443) == "console.convox.com"
    assert http1.host_header("127.0.0.1", 8443) == "127.0.0.1:8443"
    assert http1.host_header("::1", 8443) == "[::1]:8443"
