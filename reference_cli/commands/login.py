"""``convox login [HOST] [--password KEY]``: find the key, try it, then store it.

The key comes from the flag, ``$CONVOX_PASSWORD``, the key stored for the host
or a no-echo prompt, in that order; it is tried with ``GET /auth`` before any
file is written, and only then stored under the lock.
"""

from __future__ import annotations

import os

from reference_cli import calls, errors, files, hosts, lock, output, responses

DEFAULT_HOST = "console.convox.com"
PASSWORD_ENV = "CONVOX_PASSWORD"
#: Linux's terminal line buffer: a canonical-mode line is never longer.
LINE_MAX = 4096  # mutation: equivalent (any size above the longest key typed reads it whole)


def parse_login_args(args: list[str]) -> tuple[str | None, str | None]:
    """``[HOST] [--password KEY | -p KEY]`` -> (host, key).

    The value after ``--password`` is taken whatever it looks like, so a key may
    start with ``-``; other spellings (``--password=KEY``) are left out because
    profiles give the argv and no rule is about them.
    """
    host: str | None = None
    key: str | None = None
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg in ("--password", "-p"):
            if not rest:
                raise errors.CliError(f"{arg} needs a value")
            key = rest.pop(0)
        elif arg.startswith("-"):
            raise errors.CliError(f"unknown option for login: {arg}")
        elif host is None:
            host = arg
        else:
            raise errors.CliError(f"login takes one host, got another: {arg}")
    return host, key


def prompt_password(prompt: str = "Password: ") -> str | None:
    """Ask on the terminal (``/dev/tty``) with echo off; None when there is no terminal.

    Reading the controlling terminal (not stdin) is what ``getpass`` does; doing
    it here means there is never an echoing fallback. The terminal stays in
    canonical mode, so one read returns the whole line, its newline (the terminal
    turns Enter's CR into one) included.
    """
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return None
    import termios

    try:
        try:
            old = termios.tcgetattr(fd)
        except termios.error:
            return None
        new = list(old)
        new[3] = new[3] & ~termios.ECHO
        termios.tcsetattr(fd, termios.TCSADRAIN, new)
        try:
            os.write(fd, prompt.encode("utf-8"))
            data = os.read(fd, LINE_MAX)
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, old)
            os.write(fd, b"\n")
    finally:
        os.close(fd)
    try:
        return data.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise errors.CliError("the key typed at the prompt is not valid UTF-8") from None


def decode_key(value: str) -> str:
    """The key's exact UTF-8 text from argv or the environment, whatever the locale.

    Python decodes argv/env with the locale's encoding; going back to the raw
    bytes and decoding them as UTF-8 keeps a non-ASCII key byte-exact.
    """
    try:
        raw = os.fsencode(value)
    except UnicodeEncodeError:
        return value
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.CliError("the key is not valid UTF-8") from None


def resolve_login_key(host: str, flag_key: str | None, stored: dict[str, str]) -> str:
    """Key precedence: flag, ``$CONVOX_PASSWORD``, key stored for host, prompt."""
    if flag_key is not None:
        if not flag_key:
            raise errors.CliError("--password is empty")
        return decode_key(flag_key)
    env_key = os.environ.get(PASSWORD_ENV, "")
    if env_key:
        return decode_key(env_key)
    if stored.get(host):
        return stored[host]
    typed = prompt_password("Password: ")
    if typed is None:
        raise errors.CliError(
            f"no key for {host}: pass --password KEY or set {PASSWORD_ENV} "
            "(there is no terminal to prompt on)"
        )
    if not typed:
        raise errors.CliError("no key entered")
    return typed


def validate_login(host: str, key: str) -> str:
    """``GET /auth`` with the key before anything is written; returns the id (or "").

    A refusal says the host rejected the key and how to log in again, as for
    any command (:func:`responses.check_response`)."""
    resp = calls.send_request(host, key, "GET", "/auth")
    responses.check_response(resp, host)
    return login_id(resp.body)


def login_id(body: bytes) -> str:
    """The id in a ``/auth`` answer, or "": any 200 means the key was accepted.

    Racks answer ``/auth`` with text (``ok`` today, ``{"success":true}`` in
    2017, ``OK`` before), so only a JSON object that has an id yields one.
    """
    import json

    try:
        data = json.loads(body.decode("utf-8"))
    except ValueError:
        return ""
    ident = data.get("id") if isinstance(data, dict) else None
    if ident is None or isinstance(ident, (dict, list, bool)):
        return ""
    return str(ident)


def store_login(host: str, key: str, ident: str) -> None:
    """Under the lock: add host -> key to ``auth`` (others kept), write ``host``,
    clear the rack selection, write ``id`` when Console returned one."""
    with lock.locked():
        auth = files.read_auth()
        auth[host] = key
        files.write_auth(auth)
        files.write_host(host)
        files.clear_rack()
        if ident:
            files.write_id(ident)


def login_success_message(host: str) -> str:
    """The one success line (the classic CLI's wording)."""
    return "Logged in successfully."


def cmd_login(args: list[str]) -> int:
    """``login [HOST] [--password KEY]``: validate first, then store; never print the key."""
    host_arg, flag_key = parse_login_args(args)
    host = hosts.normalize_host(host_arg if host_arg is not None else DEFAULT_HOST)
    errors.remember_secret(flag_key)
    stored = files.read_auth()  # a corrupt auth fails here, before any request
    key = resolve_login_key(host, flag_key, stored)
    errors.remember_secret(key)
    ident = validate_login(host, key)
    store_login(host, key, ident)
    output.out(login_success_message(host))
    return 0
