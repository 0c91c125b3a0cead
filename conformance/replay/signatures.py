"""What one step did, as data a replay can compare: a run's signature and hand edits.

A run's *signature* is its exit, its output, the files it changed and the
requests the fakes saw; the recorder writes it and the player computes the
same fields for the replayed run, so both go through these functions. Hand
edits are what a check changed in a home between two runs, found by
comparing snapshots so that no check has to announce them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from conformance.running.home_files import FileSnapshot

#: Characters of each output stream kept, and compared by a replay.
MAX_OUTPUT = 4000
#: Bytes of a hand-edited file kept for the replay.
MAX_EDIT_BYTES = 64 * 1024


def exit_signature(invocation: Any) -> str:
    """``"timeout"`` or the exit code, as text."""
    return "timeout" if invocation.timed_out else str(invocation.exit_code)


def change_signature(change: Any) -> list[Any]:
    """One file change: kind, path, mode and content (a digest when not text)."""
    after = change.after
    return [change.kind, change.path, oct(after.mode & 0o777) if after else None,
            _content(after)]


def _content(snap: FileSnapshot | None) -> str | None:
    if snap is None:
        return None
    if snap.kind != "file":
        return f"[{snap.describe()}]"
    try:
        return snap.observed.decode("utf-8")
    except UnicodeDecodeError:
        return "sha256:" + hashlib.sha256(snap.observed).hexdigest()[:16]


def request_signature(entry: Any, rename: Callable[[str], str] = str) -> str:
    """One request the fakes saw, as a replay compares it (the key as its identity)."""
    parts = [entry.hop or "", entry.server or "", entry.method or "", entry.path or "",
             str(entry.status), rename(entry.key_identity) if entry.key_identity else "-"]
    return " ".join(p for p in parts if p)


def hand_edits(previous: dict[str, FileSnapshot], now: dict[str, FileSnapshot]
               ) -> list[dict[str, Any]]:
    """What changed in a home between two invocations, as replayable edits."""
    edits: list[dict[str, Any]] = []
    for path in sorted(set(previous) | set(now)):
        old, new = previous.get(path), now.get(path)
        if old == new or path.endswith(".lock"):
            continue
        if new is None:
            edits.append({"action": "remove", "path": path})
        elif new.kind == "symlink":
            edits.append({"action": "symlink", "path": path, "target": new.target})
        elif new.kind == "file":
            edit: dict[str, Any] = {"action": "write", "path": path,
                                    "mode": oct(new.mode & 0o777)}
            try:
                edit["text"] = new.data.decode("utf-8")
            except UnicodeDecodeError:
                edit["hex"] = new.data[:MAX_EDIT_BYTES].hex()
            if new.truncated:
                edit["note"] = f"only the first {len(new.data)} of {new.size} bytes are replayed"
            edits.append(edit)
        else:
            edits.append({"action": "unsupported", "path": path, "what": new.describe()})
    return edits


__all__ = ["MAX_OUTPUT", "change_signature", "exit_signature", "hand_edits",
           "request_signature"]
