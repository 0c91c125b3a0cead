"""The config files: where they live, how they are read, and atomic writes.

The classic CLI's layout (``host``, ``auth``, ``rack``, ``id`` in ``$CONVOX_CONFIG``
or ``~/.convox``). Every write goes through :func:`atomic_write`, so a reader or
a crash sees the old file or the new one, never half of one, and a key file is
never readable by others even for a moment. Read-modify-write cycles take the
lock of :mod:`reference_cli.lock` around these functions.
"""

from __future__ import annotations

import os

from reference_cli import errors

CONFIG_DIR_MODE = 0o700
AUTH_MODE = 0o600
PLAIN_FILE_MODE = 0o644
CONFIG_ENV = "CONVOX_CONFIG"


def config_dir() -> str:
    """``$CONVOX_CONFIG`` if set, else ``~/.convox``: the classic CLI's layout."""
    configured = os.environ.get(CONFIG_ENV, "")
    if configured:
        return configured
    return os.path.join(os.path.expanduser("~"), ".convox")


def config_path(name: str) -> str:
    """Path of one file (``host``, ``auth``, ``rack``, ``id``) in the config dir."""
    return os.path.join(config_dir(), name)


def read_text(path: str) -> str | None:
    """File contents, or None when it does not exist.

    Any other problem (permissions, a directory, bad UTF-8) is an error naming
    the file, because guessing would risk overwriting the user's data later.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise errors.CliError(f"cannot read {path}: {errors.os_reason(exc)}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.CliError(f"cannot read {path}: not valid UTF-8") from None


def read_host() -> str | None:
    """The host the user is logged in to (``host`` file), or None."""
    text = read_text(config_path("host"))
    if text is None:
        return None
    return text.strip() or None


def read_rack() -> str | None:
    """The selected ``org/name`` (``rack`` file), or None when nothing is selected."""
    text = read_text(config_path("rack"))
    if text is None:
        return None
    return text.strip() or None


def read_auth() -> dict[str, str]:
    """The ``auth`` file: JSON object host -> key; missing or empty means ``{}``.

    A file that is not such an object is reported (naming the file) instead of
    being treated as empty, so a later write can never destroy its keys.
    """
    import json

    path = config_path("auth")
    text = read_text(path)
    if text is None or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        raise errors.CliError(
            f"cannot read {path}: not valid JSON; fix or remove the file"
        ) from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise errors.CliError(f"cannot read {path}: expected a JSON object of host -> key")
    return data


def ensure_config_dir() -> str:
    """Create the config dir 0700 (and tighten an existing looser one) before writing.

    Keys live in it, so group/other must not even list it.
    """
    path = config_dir()
    try:
        os.makedirs(path, mode=CONFIG_DIR_MODE, exist_ok=True)
        os.chmod(path, CONFIG_DIR_MODE)  # makedirs leaves an existing dir's mode alone
    except OSError as exc:
        raise errors.CliError(
            f"cannot create config directory {path}: {errors.os_reason(exc)}"
        ) from None
    return path


def atomic_write(path: str, data: bytes, mode: int) -> None:
    """Write ``path`` via a temp file in the same dir and ``os.replace``.

    Readers (and a crash) see either the old or the new file, never half of
    one; the mode is set on the temp file before any byte is written, so the
    key is never readable by others even for a moment.
    """
    directory = os.path.dirname(path) or "."
    base = os.path.basename(path)
    tmp = os.path.join(directory, f".{base}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise errors.CliError(f"cannot write {path}: {errors.os_reason(exc)}") from None
    try:
        try:
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as exc:
        discard(tmp)
        if isinstance(exc, OSError):
            raise errors.CliError(f"cannot write {path}: {errors.os_reason(exc)}") from None
        raise
    sync_dir(directory)


def discard(path: str) -> None:
    """Remove a leftover temp file; failing to is not worth hiding the real error."""
    try:
        os.unlink(path)
    except OSError:
        return


def sync_dir(directory: str) -> None:
    """fsync the directory so the rename itself survives a crash (best effort)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_file(path: str) -> None:
    """Delete a file; a missing file is fine (the goal state is reached)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise errors.CliError(f"cannot remove {path}: {errors.os_reason(exc)}") from None


def auth_json(auth: dict[str, str]) -> bytes:
    """Serialise ``auth`` as the classic CLI does: two-space indented JSON, UTF-8."""
    import json

    text = json.dumps(auth, indent=2, ensure_ascii=False)  # mutation: equivalent (indent width)
    return text.encode("utf-8")


def write_auth(auth: dict[str, str]) -> None:
    """Replace the ``auth`` file atomically with mode 0600 (it holds every key)."""
    ensure_config_dir()
    atomic_write(config_path("auth"), auth_json(auth), AUTH_MODE)


def write_host(host: str) -> None:
    """Record the host the user is logged in to."""
    ensure_config_dir()
    atomic_write(config_path("host"), host.encode("utf-8"), PLAIN_FILE_MODE)


def write_rack(ref: str) -> None:
    """Record the selected rack as plain ``org/name``."""
    ensure_config_dir()
    atomic_write(config_path("rack"), ref.encode("utf-8"), PLAIN_FILE_MODE)


def write_id(ident: str) -> None:
    """Record the id Console returned at login (classic CLI's ``id`` file)."""
    ensure_config_dir()
    atomic_write(config_path("id"), ident.encode("utf-8"), PLAIN_FILE_MODE)


def clear_rack() -> None:
    """Forget the rack selection: it belongs to the previous login's Console."""
    remove_file(config_path("rack"))


def remove_host() -> None:
    """Delete the ``host`` file (logout)."""
    remove_file(config_path("host"))
