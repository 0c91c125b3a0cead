"""``convox apps``, ``convox rack``, ``rack params`` and ``rack params set``.

The commands that talk to the current rack (directly or proxied by Console
with the ``Rack`` header). ``rack params set Password=NEW`` on a rack the user
is logged in to directly rolls that rack's key, so the new key is stored or the
user would be locked out.
"""

from __future__ import annotations

from reference_cli import calls, errors, files, lock, login_state, output


def cmd_apps(args: list[str]) -> int:
    """``apps [--rack ORG/NAME]``: the apps of the current rack (directly or through
    Console)."""
    args = login_state.take_rack_flag(args)
    if args:
        raise errors.CliError("usage: convox apps")
    state = login_state.current_state()
    data = calls.api(state, "GET", "/apps")
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise errors.CliError(f"invalid response from {state.host}: expected a JSON list of apps")
    if not data:
        output.out("no apps")
        return 0
    rows = [
        [
            output.text_of(a.get("name")),
            output.text_of(a.get("status")),
            output.text_of(a.get("release")),
        ]
        for a in data
    ]
    output.out(output.format_table(["APP", "STATUS", "RELEASE"], rows))
    return 0


def fetch_system(state: login_state.State) -> dict[str, object]:
    """``GET /system``: the rack's description (name, status, version, parameters)."""
    data = calls.api(state, "GET", "/system")
    if not isinstance(data, dict):
        raise errors.CliError(f"invalid response from {state.host}: expected a JSON object")
    return data


def cmd_rack(args: list[str]) -> int:
    """``rack [--rack ORG/NAME]``: system information of the current rack."""
    args = login_state.take_rack_flag(args)
    if args:
        raise errors.CliError("usage: convox rack | rack params | rack params set KEY=VALUE...")
    state = login_state.current_state()
    system = fetch_system(state)
    rows = [["Rack", state.rack]] if state.rack else []
    rows += [[field.capitalize(), output.text_of(system[field])]
             for field in ("name", "status", "version", "region", "type", "count")
             if field in system]
    if not rows:
        output.out("(no system information)")
        return 0
    for label, value in rows:
        output.out(f"{label:<8}  {value}".rstrip())
    return 0


def cmd_rack_params(args: list[str]) -> int:
    """``rack params``: the rack's parameters from ``GET /system``."""
    if args:
        raise errors.CliError("usage: convox rack params")
    params = fetch_system(login_state.current_state()).get("parameters")
    if not isinstance(params, dict) or not params:
        output.out("no parameters")
        return 0
    width = max(len(str(k)) for k in params)
    for name in sorted(params):
        shown = "********" if name == "Password" else output.text_of(params[name])
        output.out(f"{str(name).ljust(width)}  {shown}".rstrip())
    return 0


def parse_params(args: list[str]) -> list[tuple[str, str]]:
    """``KEY=VALUE`` arguments -> pairs; ``Password=`` must not be empty."""
    if not args:
        raise errors.CliError("usage: convox rack params set KEY=VALUE...")
    pairs: list[tuple[str, str]] = []
    for arg in args:
        name, sep, value = arg.partition("=")
        if not sep or not name:
            raise errors.CliError("parameters must look like KEY=VALUE")
        if name == "Password":
            errors.remember_secret(value)
            if not value:
                raise errors.CliError("Password must not be empty")
        pairs.append((name, value))
    return pairs


def encode_params(pairs: list[tuple[str, str]]) -> bytes:
    """Form body ``parameters=<urlencoded K=V pairs>`` (``parameters=Password%3DNEW``)."""
    from urllib.parse import urlencode

    inner = urlencode(sorted(pairs))
    return urlencode({"parameters": inner}).encode("ascii")


def rolls_own_key(state: login_state.State) -> bool:
    """True when logged in to the rack itself (no Console rack selected): then the
    new Password is this host's key and must be stored or the user is locked out.
    A key from the environment (a CI job's) is never stored: the job owns it."""
    return not state.rack and not login_state.credentials_from_environment()


def store_rolled_key(host: str, key: str) -> None:
    """Under the lock: replace host's key in ``auth`` with the new rack key."""
    with lock.locked():
        auth = files.read_auth()
        auth[host] = key
        files.write_auth(auth)


def cmd_rack_params_set(args: list[str]) -> int:
    """``rack params set KEY=VALUE...``: ``PUT /system``; keep ``auth`` usable after a
    direct key roll (a lost rack key cannot be recovered)."""
    pairs = parse_params(args)
    state = login_state.current_state()
    host, _key = login_state.require_login(state)
    new_key = dict(pairs).get("Password")
    own = new_key is not None and rolls_own_key(state)
    try:
        calls.api(
            state, "PUT", "/system", encode_params(pairs), "application/x-www-form-urlencoded"
        )
    except errors.TransportError as exc:
        if own:
            raise errors.TransportError(
                f"{exc}; the rack may already use the new Password: if `convox apps` "
                f"fails, run `convox login {host} --password <new password>`"
            ) from None
        raise
    if own and new_key is not None:
        store_rolled_key(host, new_key)
    output.out("Updating parameters... OK")
    return 0
