"""The v3 emulation's settings files: stdcli's reads and in-place writes, Go's JSON.

Support for emulation_v3 (the zoo loads only ``zoo_*`` and ``emulation*``
modules, so this one declares no variant). What the v3 CLI keeps in its config
directory, written as stdcli writes it: in place and unlocked, encoding/json's
bytes; auth read as the v2 CLI reads it, with Go's words for a bad byte.
"""

from __future__ import annotations

import json
import os

from reference_cli import errors, files
from tests.mutants.emulations import _read_auth_v2

#: The v3 CLI's settings files (stdcli SettingWrite: os.WriteFile(path, data, 0600)).
SETTING_MODE = 0o600


def read_setting(name: str) -> str:
    """stdcli SettingRead: the file's text trimmed, "" when there is none."""
    text = files.read_text(files.config_path(name))
    return text.strip() if text is not None else ""


def write_setting(name: str, value: str) -> None:
    write_file(files.config_path(name), value.encode("utf-8"))


def write_file(path: str, data: bytes) -> None:
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


def read_auth_v3() -> dict[str, str]:
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


def go_json(data: object, indent: bool) -> bytes:
    """encoding/json's output: keys sorted, <, > and & escaped, UTF-8 kept."""
    text = json.dumps(data, indent=2 if indent else None, sort_keys=True, ensure_ascii=False,
                      separators=(",", ": ") if indent else (",", ":"))
    for char, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text.encode("utf-8")


def write_auth_v3(auth: dict[str, str]) -> None:
    write_file(files.config_path("auth"), go_json(auth, indent=True))


def read_sessions() -> dict[str, str]:
    """The `session` settings file, host -> id; unreadable reads as none (``sid, _ :=``)."""
    try:
        data = json.loads(read_setting("session") or "{}")
    except (ValueError, errors.CliError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {host: sid for host, sid in data.items() if isinstance(sid, str)}


def store_session(host: str, sid: str) -> None:
    """SettingWriteKey("session", host, id): other hosts' sessions kept."""
    sessions = read_sessions()
    sessions[host] = sid
    write_file(files.config_path("session"), go_json(sessions, indent=True))
