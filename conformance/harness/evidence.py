"""What a check leaves behind for the reports: invocations, journal, file diffs.

Evidence is turned into plain, redacted JSON-able data in the worker that ran
the check, because under pytest-xdist only such data travels back to the
controller that writes the reports. Redaction happens here, once, so no
report writer can forget it. Bounds happen here too, so a whole run's
reports stay small whatever the CLI printed or wrote: each stream keeps a
head and tail of at most ``MAX_EVIDENCE_OUTPUT`` bytes (redacted first, so
no cut can split a key out of sight) and all streams of one check share
``CHECK_EVIDENCE_BUDGET``; each file shows at most ``MAX_FILE_BYTES`` and
each invocation at most ``MAX_FILE_CHANGES`` changed files.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from conformance.redaction import longest_first, replace_secrets
from conformance.running.capture import RETAINED_OUTPUT, reclip, trim_end
from conformance.running.cli_files import FileSnapshot
from conformance.running.invoke import FileChange, Invocation

MAX_FILE_BYTES = 4096
#: Per stream and invocation, in reports (a check itself sees up to --max-output).
MAX_EVIDENCE_OUTPUT = RETAINED_OUTPUT
#: Stream bytes one check's evidence may carry in all; past it, each stream
#: keeps only MIN_EVIDENCE_OUTPUT (a model check runs hundreds of invocations).
CHECK_EVIDENCE_BUDGET = 1 << 20
MIN_EVIDENCE_OUTPUT = 2048
MAX_FILE_CHANGES = 50


class Redactor:
    """Replaces every secret of a run with a stable placeholder: ``<key>``, or ``<label(key)>``."""

    def __init__(self, secrets: Iterable[str], label: Any = None) -> None:
        self.secrets = longest_first({s for s in secrets if s})
        self.label = label

    def __call__(self, text: str) -> str:
        return replace_secrets(text, self.secrets, self._placeholder)[0]

    def _placeholder(self, secret: str) -> str:
        return f"<{self.label(secret) if self.label else 'key'}>"


def bounded_text(
    text: str, redact: Redactor, dropped: int = 0, limit: int = MAX_EVIDENCE_OUTPUT
) -> tuple[str, int]:
    """``text`` redacted, then clipped to a head and tail; and the bytes dropped in all."""
    kept = reclip(redact(text), dropped, limit)
    return kept.text, kept.dropped


def invocation_data(
    invocation: Invocation, redact: Redactor, limit: int = MAX_EVIDENCE_OUTPUT
) -> dict[str, Any]:
    stdout, stdout_dropped = bounded_text(invocation.stdout, redact, invocation.stdout_dropped,
                                          limit)
    stderr, stderr_dropped = bounded_text(invocation.stderr, redact, invocation.stderr_dropped,
                                          limit)
    changes = invocation.changes[:MAX_FILE_CHANGES]
    files = [change_data(change, redact) for change in changes]
    if len(invocation.changes) > len(changes):
        files.append({"path": f"... {len(invocation.changes) - len(changes)} more changed "
                      "entries not listed", "change": "omitted", "before": None, "after": None})
    return {
        "operation": invocation.operation,
        "argv": [redact(part) for part in invocation.argv],
        "exit_code": invocation.exit_code,
        "timed_out": invocation.timed_out,
        "duration": round(invocation.duration, 4),
        "started_at": round(invocation.started_at, 4),
        "stdout": stdout,
        "stderr": stderr,
        "stdout_dropped": stdout_dropped,
        "stderr_dropped": stderr_dropped,
        "leftovers": [redact(line) for line in invocation.leftovers],
        "echo_off": invocation.echo_off,
        "files": files,
    }


def change_data(change: FileChange, redact: Redactor) -> dict[str, Any]:
    def side(snapshot: FileSnapshot | None) -> dict[str, Any] | None:
        if snapshot is None:
            return None
        # Links and special files were never read: the account of them is the content.
        if snapshot.kind != "file":
            text = f"({snapshot.describe()})"
        else:
            text = _file_text(snapshot, redact)
        return {"mode": oct(snapshot.mode), "kind": snapshot.kind, "size": snapshot.size,
                "target": snapshot.target, "content": text}

    return {"path": change.path, "change": change.kind, "before": side(change.before),
            "after": side(change.after)}


def _file_text(snapshot: FileSnapshot, redact: Redactor) -> str:
    """File content for a report: redacted whole, then clipped (a key cut by the clip goes)."""
    text = redact(snapshot.data.decode("utf-8", "replace"))
    if len(text) <= MAX_FILE_BYTES and not snapshot.truncated:
        return text
    shown = trim_end(text[:MAX_FILE_BYTES])
    return shown + f"\n[... {snapshot.describe()}; the first {len(shown)} characters shown]"


def _bounded_invocations(invocations: list[Invocation], redact: Redactor) -> list[Any]:
    """Every invocation's data, the streams sharing one check's budget in order."""
    left = CHECK_EVIDENCE_BUDGET
    found = []
    for invocation in invocations:
        limit = max(MIN_EVIDENCE_OUTPUT, min(MAX_EVIDENCE_OUTPUT, left // 2))
        data = invocation_data(invocation, redact, limit)
        left -= len(data["stdout"].encode()) + len(data["stderr"].encode())
        found.append(data)
    return found


def evidence_data(
    invocations: list[Invocation], journal: list[dict[str, Any]], redact: Redactor
) -> dict[str, Any]:
    return {
        "invocations": _bounded_invocations(invocations, redact),
        "journal": [
            {k: redact(v) if isinstance(v, str) else v for k, v in entry.items()}
            for entry in journal
        ],
    }
