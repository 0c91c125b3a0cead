"""``convox logout``: forget the current host's key, keep every other host's.

The classic and rack CLIs have no logout; a CLI that adds one must log out in
the FAQ's sense (LOGOUT-010, LOGOUT-011), and this is that rule in code.
"""

from __future__ import annotations

from reference_cli import errors, files, lock, login_state, output


def remove_login(host: str) -> None:
    """Under the lock: drop host's key from ``auth`` (others kept), delete ``host``
    and the rack selection."""
    with lock.locked():
        auth = files.read_auth()
        auth.pop(host, None)
        files.write_auth(auth)
        files.remove_host()
        files.clear_rack()


def cmd_logout(args: list[str]) -> int:
    """``logout``: forget the current host's key; not logged in changes nothing."""
    if args:
        raise errors.CliError("usage: convox logout")
    state = login_state.current_state()
    if not state.host or not state.key:
        raise errors.NotLoggedIn("not logged in, nothing to log out of (try `convox login`)")
    remove_login(state.host)
    output.out(f"Logged out of {state.host}.")
    return 0
