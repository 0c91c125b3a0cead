"""Reading a user's TOML file (a profile, an expectations or a builds file) with one-line errors."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


class TomlFileError(Exception):
    """The file cannot be read as TOML; ``str()`` is one line naming it and the cause."""


def read(path: Path, what: str) -> dict[str, Any]:
    """The file's TOML; :class:`TomlFileError` as ``"<what> <path>: <cause>"`` otherwise."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TomlFileError(f"{what} {path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TomlFileError(f"{what} {path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise TomlFileError(f"{what} {path}: not valid TOML: {exc}") from None
