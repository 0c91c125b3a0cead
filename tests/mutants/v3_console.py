"""How the v3 emulation reaches Console, and resolves a rack through Console's list.

Support for emulation_v3 (the zoo loads only ``zoo_*`` and ``emulation*``
modules, so this one declares no variant). Requests go to the Console host with
the ``Session`` header it keeps and meet a second-factor challenge once; answers
are read with stdsdk's and encoding/json's words; a rack is matched in
Console's ``GET /racks`` (pkg/rack/rack.go, pkg/rack/console.go).
"""

from __future__ import annotations

import json
import os
import sys

from reference_cli import errors, files, transport
from tests.mutants.v3_settings import read_sessions, read_setting, store_session

HOST_ENV = "CONVOX_HOST"
PASSWORD_ENV = "CONVOX_PASSWORD"
RACK_ENV = "CONVOX_RACK"
#: rack.Current's error when nothing names or selects a rack (pkg/rack/rack.go).
NO_CURRENT_RACK = ("no current rack, use `convox racks` to list and `convox switch <name>` "
                   "to select")


class AuthenticationError(errors.CliError):
    """console.AuthenticationError: opening a second-factor session failed.

    The one failure of ``GET /racks`` that listConsole passes on.
    """


# ------------------------------------------------------------------ requests


def error_text(resp: transport.Response) -> str:
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


def go_decode(resp: transport.Response) -> object:
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


def exchange(host: str, key: str, method: str, path: str, rack_name: str | None,
             extra: dict[str, str]) -> transport.Response:
    """One request; a body cut short is Go's ``unexpected EOF``."""
    try:
        return transport.exchange(host, key, method, path, rack_name, None, None, extra)
    except errors.TransportError as exc:
        if str(exc).startswith("truncated response"):
            raise errors.CliError("unexpected EOF") from None
        raise


def console_request(host: str, key: str, method: str, path: str,
                    rack_name: str | None) -> transport.Response:
    """consoleClient: the key for Console, ``Rack`` when a rack is named, and the
    session kept for this host; a session challenge is met once (pkg/console/auth.go).

    A refusal other than the challenge is returned to the caller as it came.
    """
    sid = read_sessions().get(host, "")
    resp = exchange(host, key, method, path, rack_name or None, {"Session": sid})
    if resp.status != 401:
        return resp
    from reference_cli import session

    found = session.CHALLENGE.match(resp.headers.get("www-authenticate", ""))
    if found is None:
        return resp
    if found.group(2).lower() == "true":
        raise AuthenticationError("a security token is required, which this emulation lacks")
    opened = exchange(host, key, "POST", found.group(1), None, {"Session": sid})
    if opened.status >= 400:
        raise AuthenticationError(error_text(opened))
    data = go_decode(opened)
    new_sid = data.get("id") if isinstance(data, dict) else None
    if not isinstance(new_sid, str) or not new_sid:
        raise errors.CliError("invalid session")
    errors.remember_secret(new_sid)
    store_session(host, new_sid)
    return exchange(host, key, method, path, rack_name or None, {"Session": new_sid})


def checked(resp: transport.Response) -> object:
    """A rack command's answer: the server's error for >= 400, else the decoded JSON."""
    if resp.status >= 400:
        raise errors.CliError(error_text(resp))
    return go_decode(resp)


# ------------------------------------------------------------------ racks


def current_console() -> str:
    """currentConsole: CONVOX_HOST, else the `console` file ("" for none)."""
    return os.environ.get(HOST_ENV, "") or read_setting("console")


def current_password(host: str) -> str:
    """currentPassword: CONVOX_PASSWORD, else auth's key for host ("" for none)."""
    key = os.environ.get(PASSWORD_ENV, "") or files.read_auth().get(host, "")
    errors.remember_secret(key)
    return key


class ConsoleRack:
    """One rack of Console's list, as rack.List holds it (``org/name``)."""

    __slots__ = ("host", "name", "provider", "status")

    def __init__(self, host: str, name: str, provider: str, status: str) -> None:
        self.host = host
        self.name = name
        self.provider = provider
        self.status = status


def list_console() -> list[ConsoleRack]:
    """listConsole: Console's racks; any failure but a failed second factor (or an
    expired token) is an empty list, shown only with CONVOX_DEBUG."""
    host = current_console()
    if not host:
        return []
    key = current_password(host)
    try:
        data = checked(console_request(host, key, "GET", "/racks", None))
        racks = go_racks(host, data)
    except AuthenticationError:
        raise
    except errors.CliError as exc:
        if "cli token is expired" in str(exc):
            raise
        if os.environ.get("CONVOX_DEBUG") == "true":
            sys.stderr.write(f"debug: listConsole: unable to reach console at {host}: {exc}\n")
        return []
    return racks


def go_racks(host: str, data: object) -> list[ConsoleRack]:
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
        org = go_field(item, "organization")
        if org is None:
            org = {}
        if not isinstance(org, dict):
            raise errors.CliError("json: cannot unmarshal into Go struct field "
                                  "Rack.Organization of type console.Organization")
        name, org_name = go_string(item, "name"), go_string(org, "name")
        racks.append(ConsoleRack(host, f"{org_name}/{name}",
                                 go_string(item, "provider") or "unknown",
                                 go_string(item, "status")))
    return racks


def go_field(data: dict[str, object], name: str) -> object:
    """encoding/json's case-insensitive field match."""
    for key, value in data.items():
        if key.lower() == name:
            return value
    return None


def go_string(data: dict[str, object], name: str) -> str:
    """A string field as encoding/json reads it: absent is "", another type fails."""
    value = go_field(data, name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise errors.CliError(f"json: cannot unmarshal into Go struct field .{name} of type string")
    return value


def match_rack(name: str) -> ConsoleRack:
    """rack.Match: the rack named exactly, else the one whose name contains ``name``."""
    racks = sorted(list_console(), key=lambda r: r.name)
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


def named_rack(flag: str | None) -> str:
    """currentRack: --rack, CONVOX_RACK, ./.convox/rack, then $CONFIG/rack."""
    if flag:
        return flag
    if os.environ.get(RACK_ENV, ""):
        return os.environ[RACK_ENV]
    local = files.read_text(os.path.join(".convox", "rack"))
    if local is not None and local.strip():
        return local.strip()
    return read_setting("rack")


def current_rack(flag: str | None = None) -> ConsoleRack:
    """rack.Current: a named rack is matched; else `current` must select a Console rack."""
    name = named_rack(flag)
    if name:
        return match_rack(name)
    data = read_setting("current")
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
    for candidate in list_console():
        if candidate.name == wanted:
            return candidate
    raise errors.CliError(f"no such console rack: {wanted}")


def rack_request(target: ConsoleRack, path: str) -> object:
    """A command of a Console rack: to its Console with the Console key and ``Rack``."""
    key = current_password(target.host)
    return checked(console_request(target.host, key, "GET", path, target.name))
