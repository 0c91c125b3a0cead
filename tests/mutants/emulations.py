"""Emulations of real Convox CLIs: the reference CLI made to behave like one of them.

The suite's verdicts about a real CLI are only as good as its precision, and
the real binaries are not on every machine. An emulation reproduces, on the
reference CLI, exactly the behaviour recorded for a real CLI (where nothing
was recorded it keeps the reference's), so the precision matrix can run the
whole suite against it in every ``tox`` and compare the verdicts with the
ones that behaviour implies. When a change to the suite turns one of them,
the suite has changed its mind about a real CLI, and the matrix says so.

Each emulation stands for one published build (``build=``): the precision
matrix holds its run, rule by rule, to the verdicts that build's page gives
(``docs/official-cli-results/``), and the pages come from runs of the real
builds. Here are the v2 CLI (convox/rack tag 20260421192651, ``convox-rack``
profile) and the classic CLI (convox/rack tag 20171228145523,
``convox-classic`` profile); ``emulation_v3`` has the v3 CLI. Each override
names the observed behaviour it reproduces.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator

from reference_cli import (
    calls,
    errors,
    files,
    hosts,
    lock,
    login_state,
    output,
    responses,
    transport,
)
from reference_cli.commands import about, login, rack, switch
from tests.mutants import Zoo

zoo = Zoo()

V2_VERSION = "20260421192651"
#: Bytes the v2 CLI leaves as they are when it escapes a key for basic auth.
V2_UNESCAPED = frozenset(
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~+;&=$,"
)


def v2_escape(key: str) -> str:
    """The key as the v2 CLI puts it in the Basic credentials: percent-escaped.

    Observed: ``a+b/c@d e%f`` arrives as ``a+b%2Fc%40d+e%25f``: letters,
    digits and ``- _ . ~ + ; & = $ ,`` pass, a space becomes ``+``, every
    other byte (non-ASCII UTF-8 included) becomes ``%XX``.
    """
    escaped = []
    for byte in key.encode("utf-8"):
        if byte == 0x20:
            escaped.append("+")
        elif byte in V2_UNESCAPED:
            escaped.append(chr(byte))
        else:
            escaped.append(f"%{byte:02X}")
    return "".join(escaped)


@zoo.emulation("today's official v2 CLI, convox/rack tag 20260421192651, as observed",
               build="convox-rack-20260421192651", profile="convox-rack")
def convox_rack_20260421192651() -> None:
    real_basic_auth = transport.basic_auth_header

    # --version prints the build tag (profiles use only that: `version` asks the rack).
    def cmd_version(args: list[str]) -> int:
        output.out(V2_VERSION)
        return 0

    about.cmd_version = cmd_version
    transport.VERSION = V2_VERSION
    transport.user_agent = lambda: f"convox.go/{V2_VERSION}"
    # The key is percent-escaped in transit (SECURITY-001); auth stores it unescaped.
    transport.basic_auth_header = lambda key: real_basic_auth(v2_escape(key))
    # No request timeout (RELIABILITY-007): a silent server is waited for until killed.
    transport.request_timeout = lambda: 24 * 3600.0
    # It verifies no certificate, Console's included: convox/stdsdk's DefaultClient,
    # which every v2 request goes through, sets InsecureSkipVerify (SECURITY-008).
    transport.tls_context = _unverified_tls_context
    # Every file it writes is 0600 (auth, host, id, racks); no lock (RELIABILITY-001).
    files.PLAIN_FILE_MODE = 0o600
    lock.locked = _no_lock
    files.read_auth = _read_auth_v2
    files.read_rack = _read_selection_v2
    files.write_rack = _write_selection_v2
    files.clear_rack = lambda: files.remove_file(files.config_path("rack"))
    # A project pins its rack in .convox2/rack, not .convox/rack (CONTEXT-001): stdcli's
    # local settings live in "." plus the engine's name, and cmd/convox/main.go names it
    # "convox2".
    login_state.PROJECT_RACK = os.path.join(".convox2", "rack")
    login.cmd_login = _cmd_login_v2
    login_state.current_state = _current_state_v2
    login_state.require_login = _require_host_v2
    responses.check_response = _check_response_v2
    switch.match_rack = _match_rack_v2
    switch.cmd_racks = _cmd_racks_v2
    # rack params set Password=NEW leaves the old key in auth (KEYROLL-008).
    rack.rolls_own_key = lambda state: False


def _unverified_tls_context() -> object:
    """Go's ``InsecureSkipVerify``: no certificate is checked, so no CA is ever loaded.

    Loading the system CAs only to ignore them costs about 24 ms a connection
    here; Go never loads them when it does not verify. Made as the reference's own
    contexts are (:mod:`reference_cli.tls`), so an emulation pays no more to start.
    """
    from reference_cli import tls

    context = tls.client_context()
    context.check_hostname = False
    context.verify_mode = tls.CERT_NONE
    return context


@contextlib.contextmanager
def _no_lock() -> Iterator[None]:
    yield


def _read_auth_v2() -> dict[str, str]:
    """A damaged auth gives Go's encoding/json error, naming no file (RELIABILITY-003).

    Observed for a truncated file only. For the other damage the message follows
    encoding/json (Go reads the bytes; it never fails on their encoding first):
    a stray byte is an ``invalid character``, a value that is no string cannot be
    unmarshalled into the map of host to key.
    """
    path = files.config_path("auth")
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return {}
    except OSError as exc:  # Go's os.ReadFile error names the path
        raise errors.CliError(f"open {path}: {errors.os_reason(exc).lower()}") from None
    text = raw.decode("utf-8", "replace")
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()):
            raise errors.CliError("unexpected end of JSON input") from None
        raise errors.CliError(
            f"invalid character {text[exc.pos]!r} looking for beginning of value") from None
    if not isinstance(data, dict):
        raise errors.CliError(f"json: cannot unmarshal {_go_kind(data)} into Go value of type "
                              "map[string]string")
    for value in data.values():
        if value is not None and not isinstance(value, str):  # Go skips a null
            raise errors.CliError(
                f"json: cannot unmarshal {_go_kind(value)} into Go value of type string")
    return {host: value for host, value in data.items() if isinstance(value, str)}


def _go_kind(value: object) -> str:
    """encoding/json's name for the kind of a JSON value, as its errors give it."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return {list: "array", dict: "object", str: "string"}.get(type(value), "value")


def _read_selection_v2() -> str | None:
    """The ``racks`` map's entry for the current host, then the legacy ``rack`` file."""
    host = files.read_host()
    text = files.read_text(files.config_path("racks"))
    if host and text:
        with contextlib.suppress(ValueError):
            data = json.loads(text)
            if isinstance(data, dict) and isinstance(data.get(host), str) and data[host]:
                return str(data[host])
    legacy = files.read_text(files.config_path("rack"))
    return legacy.strip() or None if legacy is not None else None


def _write_selection_v2(ref: str) -> None:
    """``racks`` becomes ``{HOST: org/name}``, other hosts' entries kept."""
    host = files.read_host() or ""
    path = files.config_path("racks")
    try:
        current = json.loads(files.read_text(path) or "{}")
    except ValueError:
        current = {}
    entries = current if isinstance(current, dict) else {}
    entries[host] = ref
    files.ensure_config_dir()
    files.atomic_write(path, json.dumps(entries, indent=2).encode(), 0o600)


def _cmd_login_v2(args: list[str]) -> int:
    """``Authenticating with HOST... OK``; every failure ``... ERROR: invalid login``.

    The host is taken as typed: ``https://HOST`` becomes ``https://https://HOST/auth``,
    which fails as any other login does (LOGIN-016).

    auth is read before the request and rewritten from that copy afterwards,
    which is how concurrent logins lose entries without a lock.
    """
    host_arg, flag_key = login.parse_login_args(args)
    host = host_arg or login.DEFAULT_HOST
    stored = files.read_auth()
    key = login.resolve_login_key(host, flag_key, stored)
    errors.remember_secret(key)
    sys.stdout.write(f"Authenticating with {host}... ")
    sys.stdout.flush()
    try:
        resp = calls.send_request(host, key, "GET", "/auth?")
        if resp.status not in responses.SUCCESS:
            raise errors.CliError("refused")
    except errors.CliError:
        sys.stdout.write("\n")
        raise errors.CliError("invalid login") from None
    ident = login.login_id(resp.body)
    stored[host] = key
    files.write_auth(stored)
    files.write_host(host)
    files.clear_rack()
    if ident:
        files.write_id(ident)
    output.out("OK")
    return 0


def _current_state_v2() -> login_state.State:
    """With a host file but no key for it, the key is empty (and still sent).

    The environment and a project's ``.convox/rack`` come first, as the
    reference's (the protocol notes give that precedence for this CLI; what it
    does with them against the fakes was not observed).
    """
    host = login_state.target_host()
    key = login_state.environment_key()
    if key is None:
        key = files.read_auth().get(host, "") if host else None
    errors.remember_secret(key)
    return login_state.State(host, key, login_state.selected_rack())


def _require_host_v2(state: login_state.State) -> tuple[str, str]:
    if not state.host:
        raise errors.NotLoggedIn("no racks found, try `convox login`")
    return state.host, state.key or ""


def _check_response_v2(resp: transport.Response, host: str) -> None:
    """The server's error text after ``ERROR:``, a 401 included (no word of login)."""
    if resp.status not in responses.SUCCESS:
        raise errors.CliError(responses.error_message(resp))


def _match_rack_v2(refs: list[str], wanted: str) -> str:
    """An exact ``org/name``, else a unique substring."""
    if wanted in refs:
        return wanted
    matches = [ref for ref in refs if wanted in ref]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise errors.CliError(f"ambiguous rack name: {wanted}")
    raise errors.CliError(f"could not find rack: {wanted}")


def _cmd_racks_v2(args: list[str]) -> int:
    """Whatever Console answers short of success, only the table header, exit 0.

    remoteRacks (pkg/cli/helpers.go) drops every error of ``GET /racks`` but a
    failed second factor: a refused key reads as no racks (RELIABILITY-011), and
    a 503's message is lost (RELIABILITY-012).
    """
    state = login_state.current_state()
    host, key = login_state.require_login(state)
    resp = calls.send_request(host, key, "GET", "/racks", state.rack)
    racks: list[dict[str, object]] = []
    if resp.status in responses.SUCCESS:
        data = responses.parse_json(resp, host)
        racks = [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []
    rows = [[switch.rack_ref(item), output.text_of(item.get("status"))] for item in racks]
    output.out(output.format_table(["NAME", "STATUS"], rows))
    return 0



# ------------------------------------------------------------------ classic

CLASSIC_VERSION = "20171228145523"


@zoo.emulation("the classic CLI, convox/rack tag 20171228145523, as observed",
               build="convox-classic-20171228145523", profile="convox-classic")
def convox_classic_20171228145523() -> None:
    # --version prints "client: TAG", then asks the rack and fails without a login.
    def cmd_version(args: list[str]) -> int:
        output.out(f"client: {CLASSIC_VERSION}")
        return 1

    about.cmd_version = cmd_version
    transport.VERSION = CLASSIC_VERSION
    transport.user_agent = lambda: f"convox.go/{CLASSIC_VERSION}"
    # No request timeout (RELIABILITY-007).
    transport.request_timeout = lambda: 24 * 3600.0
    # Verifies console.convox.com's certificate only, every other host unverified
    # (client/client.go requiresVerification): no rule asks more of a rack's.
    transport.open_connection = _classic_open_connection
    # auth is rewritten with no lock, from what login read first (RELIABILITY-001); a
    # damaged file gives Go's JSON error naming no file (RELIABILITY-003).
    lock.locked = _no_lock
    files.read_auth = _read_auth_v2
    login.cmd_login = _cmd_login_classic
    # At login CONVOX_PASSWORD wins over --password (LOGIN-013, cmd/convox/login.go).
    login.resolve_login_key = _resolve_login_key_classic
    # With the host's key gone from auth the empty key is still sent (LOGOUT-006);
    # no host or no auth file at all is "... config found, try `convox login`".
    login_state.current_state = _current_state_classic
    login_state.require_login = _require_login_classic
    # A refusal is the server's error field, or "response status: N BODY" (KEYROLL-002).
    responses.check_response = _check_response_classic
    # rack params set Password=NEW leaves the old key in auth (KEYROLL-008).
    rack.rolls_own_key = lambda state: False


_real_open_connection = transport.open_connection


def _classic_open_connection(host: str, timeout: float) -> object:
    if hosts.split_host(host)[0] == login.DEFAULT_HOST:
        return _real_open_connection(host, timeout)
    real_context = transport.tls_context
    transport.tls_context = _unverified_tls_context
    try:
        return _real_open_connection(host, timeout)
    finally:
        transport.tls_context = real_context


def _resolve_login_key_classic(host: str, flag_key: str | None, stored: dict[str, str]) -> str:
    env_key = os.environ.get(login.PASSWORD_ENV, "")
    if env_key:
        return login.decode_key(env_key)
    return _real_resolve_login_key(host, flag_key, stored)


_real_resolve_login_key = login.resolve_login_key


CLASSIC_INVALID_LOGIN = "invalid login\nHave you created an account at https://convox.com/signup?"


def _cmd_login_classic(args: list[str]) -> int:
    """Validate, then write auth from the copy read before the request."""
    host_arg, flag_key = login.parse_login_args(args)
    host = hosts.normalize_host(host_arg if host_arg is not None else login.DEFAULT_HOST)
    errors.remember_secret(flag_key)
    stored = files.read_auth()
    key = login.resolve_login_key(host, flag_key, stored)
    errors.remember_secret(key)
    try:
        ident = login.validate_login(host, key)
    except errors.CliError as exc:
        # Any failure whose text holds "401" is "invalid login", a refused connection to
        # a port such as 14010 included (LOGIN-012, cmd/convox/login.go).
        if "401" in str(exc):
            raise errors.CliError(CLASSIC_INVALID_LOGIN) from None
        raise
    stored[host] = key
    files.write_auth(stored)
    files.write_host(host)
    files.clear_rack()
    if ident:
        files.write_id(ident)
    output.out("Logged in successfully.")
    return 0


def _current_state_classic() -> login_state.State:
    host = login_state.target_host()
    key = login_state.environment_key()
    if key is None and host and os.path.exists(files.config_path("auth")):
        key = files.read_auth().get(host, "")
    errors.remember_secret(key)
    return login_state.State(host, key, login_state.selected_rack())


def _require_login_classic(state: login_state.State) -> tuple[str, str]:
    if not state.host:
        raise errors.NotLoggedIn("no host config found, try `convox login`")
    if state.key is None:
        raise errors.NotLoggedIn("no auth config found, try `convox login`")
    return state.host, state.key


def _check_response_classic(resp: transport.Response, host: str) -> None:
    if resp.status in responses.SUCCESS:
        return
    try:
        data = json.loads(resp.body.decode("utf-8"))
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        raise errors.CliError(data["error"])
    body = resp.body.decode("utf-8", "replace")
    raise errors.CliError(f"response status: {resp.status} {body}")
