"""What checks observe, in the forms they compare and print.

Which of the CLI's files differ between two snapshots, a file's bytes (or None
when it is absent), the file changes an invocation recorded, and journal
entries one a line. Shared by the check modules so that a reason reads the same
wherever it comes from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from conformance.running.invoke import Invocation
from fakes.http.journal import JournalEntry


def changed_files(before: Mapping[str, bytes], after: Mapping[str, bytes]) -> list[str]:
    """The paths of two ``convox.files()`` snapshots whose bytes differ (or exist in one)."""
    return sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))


def read_bytes(path: Path) -> bytes | None:
    """A file's bytes, or None when it does not exist."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def file_changes(*invocations: Invocation) -> list[str]:
    """The file changes the invocations recorded, as ``"<kind> <path>"``."""
    return [f"{change.kind} {change.path}" for invocation in invocations
            for change in invocation.changes]


def described(entries: Iterable[JournalEntry], indent: str = "  ") -> str:
    """Journal entries one a line, each indented by ``indent``."""
    return "\n".join(f"{indent}{entry.describe()}" for entry in entries)
