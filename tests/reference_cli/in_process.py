"""An isolated config directory for tests that run the reference CLI's modules in-process.

Those tests call the CLI's functions (and ``main.main``) in the test's own
process, so the environment they read is the test's: a temp HOME, CONVOX_CONFIG
inside it, and none of the caller's ``CONVOX_*`` variables.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI's config directory under a fresh HOME in ``tmp_path`` (not yet created)."""
    home = tmp_path / "home"
    home.mkdir()
    for name in list(os.environ):
        if name.startswith("CONVOX_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    path = home / ".convox"
    monkeypatch.setenv("CONVOX_CONFIG", str(path))
    return path
