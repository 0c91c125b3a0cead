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

Here are the registration and the commands; the settings files are in
v3_settings, the requests to Console and the rack resolved through it in
v3_console (neither is a zoo module: the zoo loads ``zoo_*`` and ``emulation*``).
"""

from __future__ import annotations

import json
import os
import sys

from reference_cli import errors, files, output, transport
from reference_cli.commands import about, login, rack, switch
from tests.mutants import Zoo
from tests.mutants.emulations import _unverified_tls_context, v2_escape
from tests.mutants.v3_console import (
    current_rack,
    error_text,
    exchange,
    go_field,
    go_string,
    list_console,
    match_rack,
    rack_request,
)
from tests.mutants.v3_settings import go_json, read_auth_v3, write_auth_v3, write_setting

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: tls is imported when a request is made
    from reference_cli import tls

zoo = Zoo()

#: The reference's header, taken before the emulation replaces it.
_REFERENCE_BASIC_AUTH = transport.basic_auth_header

V3_VERSION = "3.24.9"
DEFAULT_CONSOLE = "console.convox.com"
TOKEN_ENV = "CONVOX_TOKEN"


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
    files.read_auth = read_auth_v3
    # auth is rewritten in place, unlocked, from a stale copy: entries lost (RELIABILITY-001).
    files.write_auth = write_auth_v3
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


def _tls_context() -> tls.Context:
    """The v2 emulation's unverifying context (Go's InsecureSkipVerify), typed as the
    reference's seam wants it."""
    from reference_cli import tls

    context = _unverified_tls_context()
    assert isinstance(context, tls.Context)
    return context


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
        resp = exchange(host, password, "GET", endpoint.path + "/auth", None, {})
        if resp.status >= 400:
            raise errors.CliError(error_text(resp))
    except errors.CliError as exc:
        if "cli token is expired" in str(exc):
            raise
        raise errors.CliError("invalid login") from None
    ident = _auth_id(resp.body)
    stored[hostname] = password
    files.write_auth(stored)
    write_setting("console", hostname)
    if ident:
        write_setting("id", ident)
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
    value = go_field(data, "id")
    return value if isinstance(value, str) else ""


def _cmd_switch_v3(args: list[str]) -> int:
    """pkg/cli/switch.go: without a name print rack.Current's, else match and write `current`."""
    if len(args) > 1:
        raise errors.CliError("too many args")
    if not args or not args[0]:
        output.out(current_rack().name)
        return 0
    found = match_rack(args[0])
    write_setting("current", go_json({"name": found.name, "type": "console"},
                                     indent=False).decode("utf-8"))
    output.out(f"Switched to {found.name}")
    return 0


def _cmd_racks_v3(args: list[str]) -> int:
    """pkg/cli/racks.go: NAME PROVIDER STATUS of rack.List (an empty table on any error
    listConsole swallows)."""
    if args:
        raise errors.CliError("too many args")
    racks = sorted(list_console(), key=lambda r: r.name)
    rows = [[r.name, r.provider, r.status] for r in racks]
    output.out(output.format_table(["NAME", "PROVIDER", "STATUS"], rows))
    return 0


def _cmd_apps_v3(args: list[str]) -> int:
    """pkg/cli/apps.go: APP STATUS RELEASE of the current rack's ``GET /apps``."""
    flag, rest = _flag(args, "rack", "r")
    if rest:
        raise errors.CliError("too many args")
    data = rack_request(current_rack(flag), "/apps")
    if data is None:
        data = []
    if not isinstance(data, list):
        raise errors.CliError("json: cannot unmarshal into Go value of type structs.Apps")
    rows = []
    for item in data:
        app = item if isinstance(item, dict) else {}
        rows.append([go_string(app, "name"), go_string(app, "status"), go_string(app, "release")])
    output.out(output.format_table(["APP", "STATUS", "RELEASE"], rows))
    return 0


def _cmd_rack_v3(args: list[str]) -> int:
    """pkg/cli/rack.go Rack: the current rack's ``GET /system`` as stdcli's info block."""
    flag, rest = _flag(args, "rack", "r")
    if rest:
        raise errors.CliError("too many args")
    data = rack_request(current_rack(flag), "/system")
    system = data if isinstance(data, dict) else {}
    rows = [("Name", go_string(system, "name")), ("Provider", go_string(system, "provider"))]
    if go_string(system, "region"):
        rows.append(("Region", go_string(system, "region")))
    if go_string(system, "domain"):
        rows.append(("Router", go_string(system, "domain")))
    rows += [("Status", go_string(system, "status")), ("Version", go_string(system, "version"))]
    width = max(len(label) for label, _ in rows) + 2
    for label, value in rows:
        output.out(f"{label.ljust(width)}{value}")
    return 0
