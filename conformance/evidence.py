"""What a check leaves behind for the reports: invocations, journal, file diffs.

Evidence is turned into plain, redacted JSON-able data in the worker that ran
the check, because under pytest-xdist only such data travels back to the
controller that writes the reports. Redaction happens here, once, so no
report writer can forget it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from conformance.runner import FileChange, Invocation

EVIDENCE_PROPERTY = "conformance.evidence"
MAX_FILE_BYTES = 4096


class Redactor:
    """Replaces every secret of a run with a stable placeholder."""

    def __init__(self, secrets: Iterable[str], label: Any = None) -> None:
        # Longest first, so a key that contains another key is replaced whole.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self.label = label

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                name = self.label(secret) if self.label else "key"
                text = text.replace(secret, f"<{name}>")
        return text


def invocation_data(invocation: Invocation, redact: Redactor) -> dict[str, Any]:
    return {
        "operation": invocation.operation,
        "argv": [redact(part) for part in invocation.argv],
        "exit_code": invocation.exit_code,
        "timed_out": invocation.timed_out,
        "duration": round(invocation.duration, 4),
        "started_at": round(invocation.started_at, 4),
        "stdout": redact(invocation.stdout),
        "stderr": redact(invocation.stderr),
        "echo_off": invocation.echo_off,
        "files": [change_data(change, redact) for change in invocation.changes],
    }


def change_data(change: FileChange, redact: Redactor) -> dict[str, Any]:
    def side(snapshot: Any) -> dict[str, Any] | None:
        if snapshot is None:
            return None
        text = snapshot.data[:MAX_FILE_BYTES].decode("utf-8", "replace")
        return {"mode": oct(snapshot.mode), "content": redact(text)}

    return {"path": change.path, "change": change.kind, "before": side(change.before),
            "after": side(change.after)}


def evidence_data(
    invocations: list[Invocation], journal: list[dict[str, Any]], redact: Redactor
) -> dict[str, Any]:
    return {
        "invocations": [invocation_data(inv, redact) for inv in invocations],
        "journal": [
            {k: redact(v) if isinstance(v, str) else v for k, v in entry.items()}
            for entry in journal
        ],
    }
