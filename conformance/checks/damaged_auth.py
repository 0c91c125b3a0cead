"""How the reliability checks damage the auth file, and how they tell it was named.

A disk that filled up mid-write, an edit that left JSON of the wrong shape, an
editor that saved it as UTF-16, and whether a mode 000 file is unreadable here
at all (it is not for root). Kept apart from ``test_reliability.py`` so that the
module holds the checks and this one the ways of breaking a file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from conformance.harness.handle import Convox
from conformance.running.invoke import Invocation

#: How an auth file gets damaged: a disk that filled up mid-write (cut in half), an
#: edit that left valid JSON of the wrong shape (each key wrapped in a list), and an
#: editor that saved it again as UTF-16 (a byte-order mark, then two bytes a character).
DAMAGE = ("truncated", "wrong_shape", "utf16")


def corrupt_auth(convox: Convox, damage: str) -> bytes:
    """Damage the auth file the way ``damage`` names and return its new bytes."""
    path = convox.state.auth_path
    good = path.read_bytes()
    if damage == "truncated":
        damaged = good[: len(good) // 2]
    elif damage == "wrong_shape":
        entries = json.loads(good)
        shape = ({host: [key] for host, key in entries.items()} if isinstance(entries, dict)
                 else [entries])  # a profile whose auth is no object: wrap it whole
        damaged = json.dumps(shape, indent=2).encode()
    else:
        damaged = good.decode("utf-8").encode("utf-16")
    path.write_bytes(damaged)
    return damaged


def mentions_auth_file(convox: Convox, invocation: Invocation) -> bool:
    """Whether the invocation's output names the auth file: its path, or its name as a word."""
    path = convox.state.auth_path
    name = re.escape(path.name)
    return str(path) in invocation.output or (
        re.search(rf"(?<![\w.-]){name}(?![\w-])", invocation.output, re.IGNORECASE) is not None
    )


def mode_000_is_readable(probe: Path) -> bool:
    """Whether this process (and so the CLI it starts, as the same user) reads a mode 000 file."""
    probe.write_bytes(b"probe")
    probe.chmod(0)
    try:
        with probe.open("rb"):
            return True
    except PermissionError:
        return False
    finally:
        probe.chmod(0o600)
        probe.unlink()
