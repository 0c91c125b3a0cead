"""Run facts: what was tested, with which suite, where and when.

A result is only comparable to another when both name the suite version and
a digest of the rules and checks that produced them; a matrix mixing runs of
different catalogues says so instead of silently comparing apples to pears.
"""

from __future__ import annotations

import hashlib
import platform
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import conformance


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def tree_digest(root: Path, patterns: Iterable[str]) -> str:
    """SHA-256 over the relative paths and bytes of matching files, in order."""
    sha = hashlib.sha256()
    if root.is_dir():
        files = sorted({p for pattern in patterns for p in root.rglob(pattern) if p.is_file()})
        for path in files:
            if "__pycache__" in path.parts:
                continue
            sha.update(path.relative_to(root).as_posix().encode() + b"\0")
            sha.update(path.read_bytes() + b"\0")
    return sha.hexdigest()


def suite_digest() -> dict[str, str]:
    """Digests of ``specs/`` and of the check modules, and of both together."""
    from conformance.catalogue import default_checks_dir, default_specs_dir

    specs_root = default_specs_dir()
    specs = tree_digest(Path(str(specs_root)), ("*.toml", "*.txt", "*.md"))
    checks = tree_digest(default_checks_dir(), ("*.py", "*.ini"))
    combined = hashlib.sha256(f"{specs}:{checks}".encode()).hexdigest()
    return {"algorithm": "sha256", "specs": specs, "checks": checks, "combined": combined}


def platform_info() -> dict[str, str]:
    return {
        "system": platform.system(),
        "release": platform.release(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
    }


def seed_info(config: Any) -> dict[str, Any]:
    """Random seeds a rerun needs: hypothesis's (and pytest-randomly's) if given."""
    seeds: dict[str, Any] = {}
    for name, option in (("hypothesis", "hypothesis_seed"), ("randomly", "randomly_seed")):
        try:
            value = config.getoption(option)
        except (ValueError, AttributeError):
            continue
        if value is not None:
            text = str(value)
            seeds[name] = int(text) if text.lstrip("-").isdigit() else text
    return seeds


def version_text(stdout: str, stderr: str, exit_code: int | None, timed_out: bool = False,
                 limit: int = 200) -> str:
    """What a CLI's version operation printed, whatever its exit code.

    A version command that needs a login still tells the reader which CLI
    ran, and an error it prints is worth more than "version failed"; a
    non-zero exit or a timeout is named beside the text, never instead of it.
    """
    lines = [line.strip() for line in (stdout + "\n" + stderr).splitlines() if line.strip()]
    first = lines[0][:limit] if lines else ""
    if timed_out:
        return f"{first} (timed out)" if first else "(no output, timed out)"
    if exit_code not in (0, None):
        return f"{first} (exit {exit_code})" if first else f"(no output, exit {exit_code})"
    return first or "(no output)"


def suite_version() -> str:
    return conformance.__version__
