"""The login state: what the environment and the files say right now (host, key, rack).

Built fresh on every invocation, never cached, so a logout or login done by
another process is honoured at once; :func:`require_login` is the one gate
every authenticated request passes before it is built. The environment comes
first (a CI job has no files: ``CONVOX_HOST`` and ``CONVOX_PASSWORD``, and
``CONVOX_RACK`` for one command), then a project directory's ``.convox/rack``
for the rack, then the config files: the rack CLI's precedence in the protocol
notes; a command's own ``--rack`` flag comes before all of them. Nothing here
writes a file, so credentials from the environment never end up on disk.
"""

from __future__ import annotations

import os

from reference_cli import errors, files

HOST_ENV = "CONVOX_HOST"
KEY_ENV = "CONVOX_PASSWORD"
RACK_ENV = "CONVOX_RACK"
#: Relative to where the command runs: a project pins its own rack here.
PROJECT_RACK = os.path.join(".convox", "rack")
#: The rack named by this command's ``--rack`` flag (set by :func:`take_rack_flag`).
_rack_flag: str | None = None


class State:
    """What the environment and files say right now: host, its key, selected rack.

    Built fresh on every invocation (no cache), so an external logout or login
    is honoured immediately.
    """

    __slots__ = ("host", "key", "rack")

    def __init__(self, host: str | None, key: str | None, rack: str | None) -> None:
        self.host = host
        self.key = key
        self.rack = rack


def from_environment(name: str) -> str | None:
    """A variable's value, or None when it is unset or blank."""
    return os.environ.get(name, "").strip() or None


def target_host() -> str | None:
    """``CONVOX_HOST``, else the ``host`` file."""
    return from_environment(HOST_ENV) or files.read_host()


def environment_key() -> str | None:
    """``CONVOX_PASSWORD`` (a deploy key in CI), or None to use the stored key."""
    return os.environ.get(KEY_ENV) or None


def project_rack() -> str | None:
    """The rack the project directory the command runs in pins, or None."""
    text = files.read_text(PROJECT_RACK)
    return text.strip() or None if text is not None else None


def take_rack_flag(args: list[str]) -> list[str]:
    """Remove ``--rack ORG/NAME`` from a command's arguments and remember it as this
    command's rack; the other arguments are returned (a second ``--rack`` stays among
    them, so the command's usage check refuses it)."""
    global _rack_flag
    if "--rack" not in args:
        return args
    rest = list(args)
    at = rest.index("--rack")
    rest.pop(at)
    value = rest.pop(at).strip() if at < len(rest) else ""
    if not value:
        raise errors.CliError("--rack needs a rack: --rack ORG/NAME")
    _rack_flag = value
    return rest


def flag_rack() -> str | None:
    """The rack this command's ``--rack`` flag names, or None."""
    return _rack_flag


def selected_rack() -> str | None:
    """``--rack``, else ``CONVOX_RACK``, else the project's ``.convox/rack``, else the
    ``rack`` file."""
    return flag_rack() or from_environment(RACK_ENV) or project_rack() or files.read_rack()


def credentials_from_environment() -> bool:
    """True when this command's key comes from the environment (a CI job's): then
    nothing it learns may be written to the files."""
    return environment_key() is not None


def current_state() -> State:
    """The host, then its key (environment, else ``auth``), then the rack."""
    host = target_host()
    key = environment_key()
    if key is None and host is not None:
        key = files.read_auth().get(host) or None
    errors.remember_secret(key)
    return State(host, key, selected_rack())


def require_login(state: State) -> tuple[str, str]:
    """(host, key) or :class:`NotLoggedIn`: checked before any request is built."""
    if not state.host or not state.key:
        raise errors.NotLoggedIn()
    return state.host, state.key
