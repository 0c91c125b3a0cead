"""Read and edit a CLI's files through its profile's layout.

Checks speak of "the login target", "the stored keys" and "the selected
rack"; each CLI generation keeps those in differently named and formatted
files. This module is the one translation, so a check reads the same against
``host`` + ``rack`` (classic), ``host`` + ``racks`` (v2) or ``console`` +
``current`` (v3).
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

from conformance.running.home_files import FileSnapshot, NotConfined, read_capped, snapshot_tree
from conformance.running.profiles import Layout

__all__ = ["CliState", "FileSnapshot", "StateError", "snapshot_tree"]

#: A login-state file larger than this is not a CLI's config: refuse to read it.
MAX_STATE_BYTES = 1 << 20


class StateError(Exception):
    """A CLI file exists but cannot be understood; ``str()`` is one line."""


class CliState:
    """The observable login state of one CLI home."""

    def __init__(self, layout: Layout, config_dir: Path, *, within: Path | None = None) -> None:
        self.layout = layout
        self.config_dir = config_dir
        #: Nothing outside this directory (the CLI's home) is read or written.
        self.within = within if within is not None else config_dir.parent

    # paths -----------------------------------------------------------------
    @property
    def target_path(self) -> Path:
        return self.config_dir / self.layout.target_file

    @property
    def auth_path(self) -> Path:
        return self.config_dir / self.layout.auth_file

    @property
    def selection_path(self) -> Path:
        return self.config_dir / self.layout.selection

    def mode(self, path: Path) -> int | None:
        """Permission bits of ``path`` itself (a symlink's own, never its target's)."""
        try:
            return path.lstat().st_mode & 0o777
        except FileNotFoundError:
            return None

    # reading ---------------------------------------------------------------
    def target(self) -> str | None:
        """The host the CLI sends requests to, or None when there is none."""
        text = self._read_text(self.target_path)
        return text.strip() or None if text is not None else None

    def auth(self) -> dict[str, str] | None:
        """host -> key, or None when the auth file does not exist."""
        return self._host_map(self.auth_path, "key")

    def sessions(self) -> dict[str, str] | None:
        """host -> second-factor session id from the layout's session file, or None
        when there is no such file (or the layout names none)."""
        if self.layout.session_file is None:
            return None
        return self._host_map(self.config_dir / self.layout.session_file, "session id")

    def _host_map(self, path: Path, value: str) -> dict[str, str] | None:
        """A JSON object of host -> ``value`` read from ``path`` (empty file: {}), or
        None when it does not exist; anything else is a one-line StateError."""
        text = self._read_text(path)
        if text is None:
            return None
        if not text.strip():
            return {}
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StateError(f"{path}: not valid JSON: {exc}") from None
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()
        ):
            raise StateError(f"{path}: must be a JSON object of host -> {value}")
        return data

    def keys(self) -> dict[str, str]:
        """Like :meth:`auth` but empty when there is no file."""
        return self.auth() or {}

    def selection(self, host: str | None = None) -> str | None:
        """The selected rack (``org/name``) for ``host`` (default: the target)."""
        text = self._read_text(self.selection_path)
        if text is None or not text.strip():
            return None
        if self.layout.selection_kind == "rack":
            return text.strip()
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StateError(f"{self.selection_path}: not valid JSON: {exc}") from None
        if self.layout.selection_kind == "racks":
            host = host if host is not None else self.target()
            value = data.get(host) if isinstance(data, dict) and host else None
        else:
            value = data.get("name") if isinstance(data, dict) else None
        return value if isinstance(value, str) and value else None

    def logged_in_host(self) -> str | None:
        """The FAQ's definition: host names a host that auth has a key for."""
        host = self.target()
        if host is None:
            return None
        return host if self.keys().get(host) else None

    # editing by hand (what a user does to log out, per the FAQ) ------------
    def write_auth(self, entries: dict[str, str]) -> None:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self._write_text(self.auth_path, json.dumps(entries, indent=2) + "\n")

    def remove_key(self, host: str) -> None:
        entries = self.keys()
        entries.pop(host, None)
        self.write_auth(entries)

    def remove_target(self) -> None:
        self.target_path.unlink(missing_ok=True)

    def write_target(self, host: str) -> None:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self._write_text(self.target_path, host + "\n")

    def write_selection(self, rack: str, host: str | None = None) -> None:
        """Select ``rack`` by hand, as the docs say overwriting the file may.

        ``racks`` layouts keep one selection per host, so the entry is written
        for ``host`` (default: the current target) and other hosts' are kept.
        """
        self.config_dir.mkdir(parents=True, exist_ok=True)
        if self.layout.selection_kind == "rack":
            text = rack + "\n"
        elif self.layout.selection_kind == "racks":
            host = host if host is not None else self.target()
            if host is None:
                raise StateError("a racks selection needs a host: no target is recorded")
            try:
                current = json.loads(self._read_text(self.selection_path) or "{}")
            except json.JSONDecodeError:
                current = {}
            entries = current if isinstance(current, dict) else {}
            entries[host] = rack
            text = json.dumps(entries, indent=2) + "\n"
        else:
            text = json.dumps({"name": rack, "type": "console"}) + "\n"
        self._write_text(self.selection_path, text)

    def _read_text(self, path: Path) -> str | None:
        # Confined: a CLI that made its auth file a link to ~/.ssh/id_rsa gets
        # "is a symlink to ..." in the report, never the file's content.
        try:
            return read_capped(path, self.within, MAX_STATE_BYTES).decode("utf-8")
        except FileNotFoundError:
            return None
        except NotConfined as exc:
            raise StateError(str(exc)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise StateError(f"{path}: cannot read: {exc}") from None

    def _write_text(self, path: Path, text: str) -> None:
        """Write as a user editing by hand would, but never through a link out of the home."""
        real_dir = Path(os.path.realpath(path.parent))
        if not real_dir.is_relative_to(os.path.realpath(self.within)):
            raise StateError(f"{path.parent} leads outside the CLI's home (to {real_dir}); "
                             "not written")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_NONBLOCK
        try:
            fd = os.open(real_dir / path.name, flags, 0o666)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise StateError(f"{path} is a symlink; not written through") from None
            raise StateError(f"{path}: cannot write: {exc.strerror}") from None
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
