"""Second-factor sessions: meeting Console's ``WWW-Authenticate: Session`` challenge.

Console may refuse a request with 401 and ``WWW-Authenticate: Session
path="/session" token="false"``: it wants a session before it serves this
user. The CLI then POSTs to that path with its key, keeps the returned id in
the ``session`` file (JSON host -> id, private like ``auth``) and sends the
request again with ``Session: <id>``. An id belongs to the host that issued it
and goes nowhere else. Kept apart from :mod:`transport`, which only moves
bytes, because what a challenge asks for is a judgement about the answer.
"""

from __future__ import annotations

import re

from reference_cli import errors, files, lock, login_state, responses, transport

SESSION_FILE = "session"
HEADER = "Session"
#: The challenge's ``token``: does Console want a hardware security key too?
TOKEN_WANTED = {"true": True, "false": False}
CHALLENGE = re.compile(r'^\s*Session\s+path="(/[^"]*)"\s+token="(true|false)"\s*$', re.IGNORECASE)


def challenge(resp: transport.Response) -> tuple[str, bool] | None:
    """(path, hardware token wanted) when ``resp`` demands a session, else None."""
    if resp.status != 401:
        return None
    found = CHALLENGE.match(resp.headers.get("www-authenticate", ""))
    if found is None:
        return None
    return found.group(1), TOKEN_WANTED[found.group(2).lower()]


def read_sessions() -> dict[str, str]:
    """host -> session id from the ``session`` file ({} when there is none)."""
    import json

    path = files.config_path(SESSION_FILE)
    text = files.read_text(path)
    if text is None or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        raise errors.CliError(f"{path} is damaged: not valid JSON") from None
    if not isinstance(data, dict):
        raise errors.CliError(f"{path} is damaged: expected a JSON object of host -> session")
    return {str(host): str(sid) for host, sid in data.items() if isinstance(sid, str)}


def stored(host: str) -> str | None:
    """The session id kept for ``host``, or None."""
    sid = read_sessions().get(host) or None
    errors.remember_secret(sid)
    return sid


def store(host: str, sid: str) -> None:
    """Keep ``sid`` for ``host`` (other hosts' kept), unless the key came from the
    environment: a CI job's command writes no file."""
    if login_state.credentials_from_environment():
        return
    import json

    with lock.locked():
        sessions = read_sessions()
        sessions[host] = sid
        files.ensure_config_dir()
        text = json.dumps(sessions, indent=2)  # mutation: equivalent (indent width)
        files.atomic_write(files.config_path(SESSION_FILE), text.encode("utf-8"), files.AUTH_MODE)


def open_session(host: str, key: str, path: str, token: bool) -> str | None:
    """POST to the challenge's path; the new id, or None when Console refuses the key."""
    import json

    if token:
        raise errors.CliError(f"{host} asks for a hardware security key to open a session, "
                              "which this CLI cannot use")
    resp = transport.exchange(host, key, "POST", path, None, b"", None, {})
    if resp.status == 401:
        return None
    if resp.status not in responses.SUCCESS:
        raise errors.CliError(f"{host} did not open a session (status {resp.status})")
    try:
        data = json.loads(resp.body.decode("utf-8"))
    except ValueError:
        data = None
    sid = data.get("id") if isinstance(data, dict) else None
    if not isinstance(sid, str) or not sid.strip():
        raise errors.CliError(f"invalid response from {host}: the session has no id")
    errors.remember_secret(sid)
    return sid


def headers_for(host: str) -> dict[str, str]:
    """The ``Session`` header of ``host``'s own session, if it has one."""
    sid = stored(host)
    return {HEADER: sid} if sid else {}
