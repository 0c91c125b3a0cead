"""The login state: what the files say right now (host, its key, selected rack).

Built fresh from the files on every invocation, never cached, so a logout or
login done by another process is honoured at once; :func:`require_login` is the
one gate every authenticated request passes before it is built.
"""

from __future__ import annotations

from fakes.reference_cli import errors, files


class State:
    """What the files say right now: host, its key, selected rack.

    Built fresh on every invocation from the files (no cache), so an external
    logout or login is honoured immediately.
    """

    __slots__ = ("host", "key", "rack")

    def __init__(self, host: str | None, key: str | None, rack: str | None) -> None:
        self.host = host
        self.key = key
        self.rack = rack


def current_state() -> State:
    """Read ``host``, then its key from ``auth``, then ``rack``."""
    host = files.read_host()
    key = None
    if host is not None:
        key = files.read_auth().get(host) or None
    errors.remember_secret(key)
    return State(host, key, files.read_rack())


def require_login(state: State) -> tuple[str, str]:
    """(host, key) or :class:`NotLoggedIn`: checked before any request is built."""
    if not state.host or not state.key:
        raise errors.NotLoggedIn()
    return state.host, state.key
