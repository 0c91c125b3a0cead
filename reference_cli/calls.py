"""Calls: a request as a command sends it, and a logged-in call checked and decoded.

Sits above :mod:`transport` (bytes), :mod:`responses` (what an answer means) and
:mod:`session` (Console's second-factor challenge), so that none of those has to
reach up to another: a request goes out with its host's session, a challenge is
met once, and :func:`api` judges the answer the way every rack command does.
"""

from __future__ import annotations

from reference_cli import login_state, responses, session, transport


def send_request(
    host: str,
    key: str,
    method: str,
    path: str,
    rack: str | None = None,
    body: bytes | None = None,
    content_type: str | None = None,
) -> transport.Response:
    """One HTTPS request to ``https://<host><path>``; any transport failure -> TransportError.

    ``host``'s own second-factor session goes with it; when Console demands one
    (see :mod:`session`), it is opened and the request sent again once.
    """
    resp = transport.exchange(host, key, method, path, rack, body, content_type,
                              session.headers_for(host))
    demanded = session.challenge(resp)
    if demanded is None:
        return resp
    sid = session.open_session(host, key, *demanded)
    if sid is None:
        return resp
    session.store(host, sid)
    return transport.exchange(host, key, method, path, rack, body, content_type,
                              {session.HEADER: sid})


def api(
    state: login_state.State,
    method: str,
    path: str,
    body: bytes | None = None,
    content_type: str | None = None,
) -> object:
    """A logged-in request to the current host (with ``Rack`` if selected): a read's
    JSON answer, or None for a change.

    A change (a request with a body, ``PUT /system``) is answered with text: today's
    rack API says ``ok`` (stdapi ``RenderOK``), so only its status means anything.
    """
    host, key = login_state.require_login(state)
    resp = send_request(host, key, method, path, state.rack, body, content_type)
    responses.check_response(resp, host)
    if body is not None:
        return None
    return responses.parse_json(resp, host)
