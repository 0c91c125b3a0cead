"""The official v3 CLI (convox/convox tag 3.24.9), emulated on the reference CLI.

What the build did in its published run (docs/official-cli-results/convox-v3-3.24.9.md,
and the invocations and journal that run recorded), reproduced on
the reference CLI so the precision matrix can hold the suite to that page in every
``tox``; where the run observed nothing, the v3 source (pkg/cli/login.go,
pkg/rack/rack.go, pkg/rack/console.go, pkg/console/auth.go, sdk/sdk.go) decides.
Driven through the shipped ``convox-v3`` profile.

The v3 CLI knows Console only. ``login HOST`` checks the key with ``GET /auth``
and records HOST in ``console`` whatever HOST is; every rack command resolves its
rack through Console's ``GET /racks`` (``--rack``, ``CONVOX_RACK``, ``./.convox/rack``
and ``$CONFIG/rack`` name one to match, else the ``current`` JSON file selects one)
and goes to the Console host with the ``Rack`` header. Every failure of that list
but a failed second factor reads as an empty list. ``logout`` and ``rack params``
keep the reference's code: the profile never runs them.
"""

from __future__ import annotations

import json
import os
import sys

from reference_cli import errors, files, output, transport
from reference_cli.commands import about, login, rack, switch
from tests.mutants import Zoo
from tests.mutants.emulations import _read_auth_v2, _unverified_tls_context, v2_escape

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: ssl is imported when a request is made
    import ssl

zoo = Zoo()

#: The reference's header, taken before the emulation replaces it.
_REFERENCE_BASIC_AUTH = transport.basic_auth_header

V3_VERSION = "3.24.9"
DEFAULT_CONSOLE = "console.convox.com"
TOKEN_ENV = "CONVOX_TOKEN"
HOST_ENV = "CONVOX_HOST"
PASSWORD_ENV = "CONVOX_PASSWORD"
RACK_ENV = "CONVOX_RACK"
#: rack.Current's error when nothing names or selects a rack (pkg/rack/rack.go).
NO_CURRENT_RACK = ("no current rack, use `convox racks` to list and `convox switch <name>` "
                   "to select")
#: The v3 CLI's settings files (stdcli SettingWrite: os.WriteFile(path, data, 0600)).
SETTING_MODE = 0o600


class AuthenticationError(errors.CliError):
    """console.AuthenticationError: opening a second-factor session failed.

    The one failure of ``GET /racks`` that listConsole passes on.
    """


@zoo.emulation("the official v3 CLI, convox/convox tag 3.24.9, as observed",
               build="convox-v3-3.24.9", profile="convox-v3")
def convox_v3_3_24_9() -> None:
    # --version prints the bare tag, observed `3.24.9` (no rule; the page's `--version`).
    about.cmd_version = _cmd_version_v3
    # Requests carry Version: 3.24.9 and User-Agent convox.go/3.24.9 (sdk/sdk.go; no rule).
    transport.VERSION = V3_VERSION
    transport.user_agent = lambda: f"convox.go/{V3_VERSION}"
    # The key travels percent-escaped as userinfo, stored unescaped (SECURITY-001).
    transport.basic_auth_header = _basic_auth_v3
    # No request timeout: a login to a stalled Console waits until killed (RELIABILITY-007).
    transport.request_timeout = lambda: 24 * 3600.0
    # No certificate is verified, Console's included: InsecureSkipVerify (SECURITY-008).
    transport.tls_context = _tls_context
    # A damaged auth gives Go's JSON error, which names no file (RELIABILITY-003).
    files.read_auth = _read_auth_v3
    # auth is rewritten in place, unlocked, from a stale copy: entries lost (RELIABILITY-001).
    files.write_auth = _write_auth_v3
    # Every login failure is "invalid login", https:// kept as typed (LOGIN-012, LOGIN-016).
    login.cmd_login = _cmd_login_v3
    # switch matches Console's list by substring and writes `current` (SWITCH-006, SWITCH-008).
    switch.cmd_switch = _cmd_switch_v3
    # racks shows an empty table, exit 0, for a 503 or 401 (RELIABILITY-008, RELIABILITY-012).
    switch.cmd_racks = _cmd_racks_v3
    # apps: "no current rack" after a rack login (PROXY-006), no word of login (KEYROLL-002).
    rack.cmd_apps = _cmd_apps_v3
    # rack resolves its rack as apps does (observed `rack` output; PROXY-002).
    rack.cmd_rack = _cmd_rack_v3


def _cmd_version_v3(args: list[str]) -> int:
    output.out(V3_VERSION)
    return 0


def _basic_auth_v3(key: str) -> str:
    """The Authorization the v3 sdk sends: ``Basic base64(Endpoint.User.String())``.

    The endpoint is ``https://convox:QueryEscape(key)@host``; parsing it unescapes the
    password (a space, escaped as ``+``, stays ``+``) and User.String() escapes it again
    for userinfo. Through both, a byte ends up exactly as v2_escape writes it (letters,
    digits and ``- _ . ~ $ & + , ; =`` kept, a space as ``+``, the rest ``%XX``), which
    is not what QueryEscape alone would give (it escapes ``$ & + , ; =``).
    """
    return _REFERENCE_BASIC_AUTH(v2_escape(key))


def _tls_context() -> ssl.SSLContext:
    """The v2 emulation's unverifying context (Go's InsecureSkipVerify), typed as the
    reference's seam wants it."""
    import ssl

    context = _unverified_tls_context()
    assert isinstance(context, ssl.SSLContext)
    return context


# ------------------------------------------------------------------ settings


def _read_setting(name: str) -> str:
    """stdcli SettingRead: the file's text trimmed, "" when there is none."""
    text = files.read_text(files.config_path(name))
    return text.strip() if text is not None else ""


def _write_setting(name: str, value: str) -> None:
    _write_file(files.config_path(name), value.encode("utf-8"))


def _write_file(path: str, data: bytes) -> None:
    """stdcli's settings write: os.MkdirAll(dir, 0700), then os.WriteFile(path, data, 0600).

    In place (truncated, then written), so a concurrent reader may see it empty or
    half-written, and an existing file keeps its mode.
    """
    try:
        os.makedirs(files.config_dir(), mode=files.CONFIG_DIR_MODE, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, SETTING_MODE)
    except OSError as exc:
        raise errors.CliError(f"open {path}: {errors.os_reason(exc).lower()}") from None
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except OSError as exc:
        raise errors.CliError(f"write {path}: {errors.os_reason(exc).lower()}") from None
    finally:
        os.close(fd)


def _read_auth_v3() -> dict[str, str]:
    """The v2 CLI's reading of auth (the same stdcli code), but a byte that is no UTF-8
    is named as Go names it: the UTF-16 byte-order mark's 0xFF is ``'ÿ'`` (observed)."""
    try:
        return _read_auth_v2()
    except errors.CliError as exc:
        if not str(exc).startswith("invalid character "):
            raise
        try:
            with open(files.config_path("auth"), "rb") as handle:
                text = handle.read().decode("utf-8", "surrogateescape")
        except OSError:
            raise exc from None
        try:
            json.loads(text)
        except json.JSONDecodeError as bad:
            first = text[bad.pos].encode("utf-8", "surrogateescape")[0]
            raise errors.CliError(f"invalid character {chr(first)!r} looking for beginning "
                                  "of value") from None
        raise


def _go_json(data: object, indent: bool) -> bytes:
    """encoding/json's output: keys sorted, <, > and & escaped, UTF-8 kept."""
    text = json.dumps(data, indent=2 if indent else None, sort_keys=True, ensure_ascii=False,
                      separators=(",", ": ") if indent else (",", ":"))
    for char, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text.encode("utf-8")


def _write_auth_v3(auth: dict[str, str]) -> None:
    _write_file(files.config_path("auth"), _go_json(auth, indent=True))


def _read_sessions() -> dict[str, str]:
    """The `session` settings file, host -> id; unreadable reads as none (``sid, _ :=``)."""
    try:
        data = json.loads(_read_setting("session") or "{}")
    except (ValueError, errors.CliError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {host: sid for host, sid in data.items() if isinstance(sid, str)}


def _store_session(host: str, sid: str) -> None:
    """SettingWriteKey("session", host, id): other hosts' sessions kept."""
    sessions = _read_sessions()
    sessions[host] = sid
    _write_file(files.config_path("session"), _go_json(sessions, indent=True))


# ------------------------------------------------------------------ requests


def _error_text(resp: transport.Response) -> str:
    """stdsdk responseError: the JSON ``error``, else the trimmed body, else the status."""
    text = resp.body.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for name, value in data.items():
            if name.lower() == "error" and isinstance(value, str) and value:
                return value
    return text.strip() or f"response status {resp.status}"


def _go_decode(resp: transport.Response) -> object:
    """json.Unmarshal of a 2xx body, failing with encoding/json's words."""
    text = resp.body.decode("utf-8", "replace")
    if not text.strip():
        raise errors.CliError("unexpected end of JSON input")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()):
            raise errors.CliError("unexpected end of JSON input") from None
        raise errors.CliError(
            f"invalid character {text[exc.pos]!r} looking for beginning of value") from None


def _exchange(host: str, key: str, method: str, path: str, rack_name: str | None,
              extra: dict[str, str]) -> transport.Response:
    """One request; a body cut short is Go's ``unexpected EOF``."""
    try:
        return transport.exchange(host, key, method, path, rack_name, None, None, extra)
    except errors.TransportError as exc:
        if str(exc).startswith("truncated response"):
            raise errors.CliError("unexpected EOF") from None
        raise


def _console_request(host: str, key: str, method: str, path: str,
                     rack_name: str | None) -> transport.Response:
    """consoleClient: the key for Console, ``Rack`` when a rack is named, and the
    session kept for this host; a session challenge is met once (pkg/console/auth.go).

    A refusal other than the challenge is returned to the caller as it came.
    """
    sid = _read_sessions().get(host, "")
    resp = _exchange(host, key, method, path, rack_name or None, {"Session": sid})
    if resp.status != 401:
        return resp
    from reference_cli import session

    found = session.CHALLENGE.match(resp.headers.get("www-authenticate", ""))
    if found is None:
        return resp
    if found.group(2).lower() == "true":
        raise AuthenticationError("a security token is required, which this emulation lacks")
    opened = _exchange(host, key, "POST", found.group(1), None, {"Session": sid})
    if opened.status >= 400:
        raise AuthenticationError(_error_text(opened))
    data = _go_decode(opened)
    new_sid = data.get("id") if isinstance(data, dict) else None
    if not isinstance(new_sid, str) or not new_sid:
        raise errors.CliError("invalid session")
    errors.remember_secret(new_sid)
    _store_session(host, new_sid)
    return _exchange(host, key, method, path, rack_name or None, {"Session": new_sid})


def _checked(resp: transport.Response) -> object:
    """A rack command's answer: the server's error for >= 400, else the decoded JSON."""
    if resp.status >= 400:
        raise errors.CliError(_error_text(resp))
    return _go_decode(resp)


# ------------------------------------------------------------------ racks


def _current_console() -> str:
    """currentConsole: CONVOX_HOST, else the `console` file ("" for none)."""
    return os.environ.get(HOST_ENV, "") or _read_setting("console")


def _current_password(host: str) -> str:
    """currentPassword: CONVOX_PASSWORD, else auth's key for host ("" for none)."""
    key = os.environ.get(PASSWORD_ENV, "") or files.read_auth().get(host, "")
    errors.remember_secret(key)
    return key


class ConsoleRack:
    __slots__ = ("host", "name", "provider", "status")

    def __init__(self, host: str, name: str, provider: str, status: str) -> None:
        self.host = host
        self.name = name
        self.provider = provider
        self.status = status


def _list_console() -> list[ConsoleRack]:
    """listConsole: Console's racks; any failure but a failed second factor (or an
    expired token) is an empty list, shown only with CONVOX_DEBUG."""
    host = _current_console()
    if not host:
        return []
    key = _current_password(host)
    try:
        data = _checked(_console_request(host, key, "GET", "/racks", None))
        racks = _go_racks(host, data)
    except AuthenticationError:
        raise
    except errors.CliError as exc:
        if "cli token is expired" in str(exc):
            raise
        if os.environ.get("CONVOX_DEBUG") == "true":
            sys.stderr.write(f"debug: listConsole: unable to reach console at {host}: {exc}\n")
        return []
    return racks


def _go_racks(host: str, data: object) -> list[ConsoleRack]:
    """Console's list as console.Racks unmarshals it: a value of the wrong type fails it all."""
    if data is None:
        return []
    if not isinstance(data, list):
        raise errors.CliError("json: cannot unmarshal into Go value of type console.Racks")
    racks = []
    for item in data:
        if item is None:
            item = {}
        if not isinstance(item, dict):
            raise errors.CliError("json: cannot unmarshal into Go value of type console.Rack")
        org = _field(item, "organization")
        if org is None:
            org = {}
        if not isinstance(org, dict):
            raise errors.CliError("json: cannot unmarshal into Go struct field "
                                  "Rack.Organization of type console.Organization")
        name, org_name = _text(item, "name"), _text(org, "name")
        racks.append(ConsoleRack(host, f"{org_name}/{name}", _text(item, "provider") or "unknown",
                                 _text(item, "status")))
    return racks


def _field(data: dict[str, object], name: str) -> object:
    """encoding/json's case-insensitive field match."""
    for key, value in data.items():
        if key.lower() == name:
            return value
    return None


def _text(data: dict[str, object], name: str) -> str:
    value = _field(data, name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise errors.CliError(f"json: cannot unmarshal into Go struct field .{name} of type string")
    return value


def _match(name: str) -> ConsoleRack:
    """rack.Match: the rack named exactly, else the one whose name contains ``name``."""
    racks = sorted(_list_console(), key=lambda r: r.name)
    matches = []
    for candidate in racks:
        if candidate.name == name:
            return candidate
        if name in candidate.name:
            matches.append(candidate)
    if not matches:
        raise errors.CliError(f"could not find rack: {name}")
    if len(matches) > 1:
        raise errors.CliError(f"ambiguous rack name: {name}")
    return matches[0]


def _named_rack(flag: str | None) -> str:
    """currentRack: --rack, CONVOX_RACK, ./.convox/rack, then $CONFIG/rack."""
    if flag:
        return flag
    if os.environ.get(RACK_ENV, ""):
        return os.environ[RACK_ENV]
    local = files.read_text(os.path.join(".convox", "rack"))
    if local is not None and local.strip():
        return local.strip()
    return _read_setting("rack")


def _current(flag: str | None = None) -> ConsoleRack:
    """rack.Current: a named rack is matched; else `current` must select a Console rack."""
    name = _named_rack(flag)
    if name:
        return _match(name)
    data = _read_setting("current")
    if not data:
        raise errors.CliError(NO_CURRENT_RACK)
    try:
        attrs = json.loads(data)
    except ValueError:
        raise errors.CliError("invalid character looking for beginning of value") from None
    if not isinstance(attrs, dict):
        raise errors.CliError("json: cannot unmarshal into Go value of type map[string]string")
    kind = attrs.get("type") or ""
    if kind != "console":
        raise errors.CliError(f"unknown rack type: {kind}")
    wanted = attrs.get("name") or ""
    for candidate in _list_console():
        if candidate.name == wanted:
            return candidate
    raise errors.CliError(f"no such console rack: {wanted}")


def _rack_request(target: ConsoleRack, path: str) -> object:
    """A command of a Console rack: to its Console with the Console key and ``Rack``."""
    key = _current_password(target.host)
    return _checked(_console_request(target.host, key, "GET", path, target.name))


# ------------------------------------------------------------------ commands


def _flag(args: list[str], long: str, short: str) -> tuple[str | None, list[str]]:
    """stdcli's string flag: ``--long V``, ``--long=V`` or ``-s V``; the rest returned."""
    value: str | None = None
    rest: list[str] = []
    items = list(args)
    while items:
        arg = items.pop(0)
        if arg in (f"--{long}", f"-{short}"):
            if not items:
                raise errors.CliError(f"flag needs an argument: {arg}")
            value = items.pop(0)
        elif arg.startswith(f"--{long}="):
            value = arg.partition("=")[2]
        else:
            rest.append(arg)
    return value, rest


def _cmd_login_v3(args: list[str]) -> int:
    """pkg/cli/login.go: key from --token, CONVOX_TOKEN, auth, or the "CLI Token: " prompt;
    every failure of ``GET /auth`` is ``invalid login``; then auth, console and id are
    written and the `rack` setting deleted. `current` is left as it was (observed).

    The host is taken as typed (``https://HOST`` makes the endpoint's host ``https:``,
    observed: the request went to the egress guard). auth is read before the request
    and rewritten from that copy afterwards, which is how concurrent logins lose
    entries without a lock.
    """
    token, rest = _flag(args, "token", "t")
    if len(rest) > 1:
        raise errors.CliError("too many args")
    hostname = rest[0] if rest else DEFAULT_CONSOLE
    stored = files.read_auth()
    password = (login.decode_key(token) if token else "") or (
        login.decode_key(os.environ[TOKEN_ENV]) if os.environ.get(TOKEN_ENV) else "") or (
        stored.get(hostname, ""))
    if not password:
        sys.stdout.write("CLI Token: ")
        sys.stdout.flush()
        typed = login.prompt_password("")
        if typed is None:
            raise errors.CliError("inappropriate ioctl for device")
        password = typed
    errors.remember_secret(password)
    sys.stdout.write(f"Authenticating with {_tag(hostname, 247)}... ")
    sys.stdout.flush()
    from urllib.parse import urlsplit

    endpoint = urlsplit(f"https://convox:{v2_escape(password)}@{hostname}")
    host = endpoint.netloc.rpartition("@")[2]
    host = host[:-1] if host.endswith(":") else host
    try:
        resp = _exchange(host, password, "GET", endpoint.path + "/auth", None, {})
        if resp.status >= 400:
            raise errors.CliError(_error_text(resp))
    except errors.CliError as exc:
        if "cli token is expired" in str(exc):
            raise
        raise errors.CliError("invalid login") from None
    ident = _auth_id(resp.body)
    stored[hostname] = password
    files.write_auth(stored)
    _write_setting("console", hostname)
    if ident:
        _write_setting("id", ident)
    files.remove_file(files.config_path("rack"))
    output.out(_tag("OK", 46))
    return 0


def _tag(text: str, color: int) -> str:
    """stdcli's tags (<info>, <ok>) render in 256 colours only on a terminal (observed
    under the prompt's pty)."""
    return f"\x1b[38;5;{color}m{text}\x1b[0m" if sys.stdout.isatty() else text


def _auth_id(body: bytes) -> str:
    """sdk Auth(): the ``Id`` of a JSON object, "" for anything else."""
    try:
        data = json.loads(body.decode("utf-8"))
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    value = _field(data, "id")
    return value if isinstance(value, str) else ""


def _cmd_switch_v3(args: list[str]) -> int:
    """pkg/cli/switch.go: without a name print rack.Current's, else match and write `current`."""
    if len(args) > 1:
        raise errors.CliError("too many args")
    if not args or not args[0]:
        output.out(_current().name)
        return 0
    found = _match(args[0])
    _write_setting("current", _go_json({"name": found.name, "type": "console"},
                                       indent=False).decode("utf-8"))
    output.out(f"Switched to {found.name}")
    return 0


def _cmd_racks_v3(args: list[str]) -> int:
    """pkg/cli/racks.go: NAME PROVIDER STATUS of rack.List (an empty table on any error
    listConsole swallows)."""
    if args:
        raise errors.CliError("too many args")
    racks = sorted(_list_console(), key=lambda r: r.name)
    rows = [[r.name, r.provider, r.status] for r in racks]
    output.out(output.format_table(["NAME", "PROVIDER", "STATUS"], rows))
    return 0


def _cmd_apps_v3(args: list[str]) -> int:
    """pkg/cli/apps.go: APP STATUS RELEASE of the current rack's ``GET /apps``."""
    flag, rest = _flag(args, "rack", "r")
    if rest:
        raise errors.CliError("too many args")
    data = _rack_request(_current(flag), "/apps")
    if data is None:
        data = []
    if not isinstance(data, list):
        raise errors.CliError("json: cannot unmarshal into Go value of type structs.Apps")
    rows = []
    for item in data:
        app = item if isinstance(item, dict) else {}
        rows.append([_text(app, "name"), _text(app, "status"), _text(app, "release")])
    output.out(output.format_table(["APP", "STATUS", "RELEASE"], rows))
    return 0


def _cmd_rack_v3(args: list[str]) -> int:
    """pkg/cli/rack.go Rack: the current rack's ``GET /system`` as stdcli's info block."""
    flag, rest = _flag(args, "rack", "r")
    if rest:
        raise errors.CliError("too many args")
    data = _rack_request(_current(flag), "/system")
    system = data if isinstance(data, dict) else {}
    rows = [("Name", _text(system, "name")), ("Provider", _text(system, "provider"))]
    if _text(system, "region"):
        rows.append(("Region", _text(system, "region")))
    if _text(system, "domain"):
        rows.append(("Router", _text(system, "domain")))
    rows += [("Status", _text(system, "status")), ("Version", _text(system, "version"))]
    width = max(len(label) for label, _ in rows) + 2
    for label, value in rows:
        output.out(f"{label.ljust(width)}{value}")
    return 0
