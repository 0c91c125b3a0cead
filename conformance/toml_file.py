"""Reading a TOML file with one-line errors: the one TOML reader of the conformance side.

A user's files (a profile, an expectations or a builds file) go through
:func:`read`; the catalogue's own files (area files, faq-not-rules, covering
rules) through :func:`load`, whose errors say what broke so that each caller
keeps its own wording (tests pin every message). The fakes read their world
files themselves: ``fakes/`` never imports ``conformance/``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Protocol


class TomlFileError(Exception):
    """The file cannot be used as TOML; ``str()`` is one line."""


class NotUtf8(TomlFileError):
    """The bytes are not UTF-8; ``str()`` is the decoder's message."""


class NotToml(TomlFileError):
    """The text is not TOML; ``str()`` is the parser's message."""


class Readable(Protocol):
    """A file to read whole: a :class:`~pathlib.Path` or an ``importlib.resources`` entry."""

    def read_bytes(self) -> bytes: ...


def load(source: Readable, *, universal_newlines: bool = True) -> dict[str, Any]:
    """The TOML in ``source``: :class:`NotUtf8` or :class:`NotToml` when it is not.

    An ``OSError`` is the caller's to word, so it passes through. With
    ``universal_newlines`` every CR LF and lone CR becomes LF first, as
    ``read_text`` does; the catalogue's files are parsed as written.
    """
    data = source.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotUtf8(str(exc)) from None
    if universal_newlines:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise NotToml(str(exc)) from None


def read(path: Path, what: str, error: type[Exception] = TomlFileError) -> dict[str, Any]:
    """A user's TOML file; else ``error("<what> <path>: <cause>")``, one line."""
    try:
        return load(path)
    except FileNotFoundError:
        raise error(f"{what} {path}: file not found") from None
    except (OSError, NotUtf8) as exc:
        raise error(f"{what} {path}: cannot read: {exc}") from None
    except NotToml as exc:
        raise error(f"{what} {path}: not valid TOML: {exc}") from None
