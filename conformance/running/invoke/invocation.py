"""What one CLI invocation did, as a user could observe it: output, exit, changed files."""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.running.cli_files import FileSnapshot


@dataclass(frozen=True)
class FileChange:
    """One entry of the isolated home that an invocation added, removed or modified."""

    path: str
    before: FileSnapshot | None
    after: FileSnapshot | None

    @property
    def kind(self) -> str:
        """``added``, ``removed`` or ``modified``."""
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "modified"


@dataclass
class Invocation:
    """What one CLI process did, as a user could observe it."""

    operation: str
    argv: list[str]
    exit_code: int | None
    stdout: str
    stderr: str
    duration: float
    timed_out: bool = False
    changes: list[FileChange] = field(default_factory=list)
    #: Prompt mode only: whether terminal echo was off when the key was typed.
    echo_off: bool | None = None
    #: Wall-clock start (epoch seconds): lets a reader merge invocations that overlapped.
    started_at: float = 0.0
    #: Bytes of each stream not kept (--max-output); the text has a marker where they were.
    stdout_dropped: int = 0
    stderr_dropped: int = 0
    #: Processes still running after the CLI exited (or timed out), killed by the harness.
    leftovers: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        """Both streams, stdout first."""
        return self.stdout + self.stderr

    def describe(self) -> str:
        """A short account for assertion messages (keys are never in argv here)."""
        code = "timed out" if self.timed_out else f"exit {self.exit_code}"
        lines = [f"$ {' '.join(self.argv)}  -> {code} in {self.duration:.2f}s"]
        for name, text in (("stdout", self.stdout), ("stderr", self.stderr)):
            if text.strip():
                lines.append(f"  {name}: {text.strip()[:500]}")
        for name, dropped in (("stdout", self.stdout_dropped), ("stderr", self.stderr_dropped)):
            if dropped:
                lines.append(f"  note: {name} was truncated, {dropped} bytes dropped "
                             "(--max-output): this check saw only its start and end")
        if self.leftovers:
            lines.append("  left running by the CLI, killed by the harness: "
                         + "; ".join(self.leftovers))
        return "\n".join(lines)


class CliTimeout(AssertionError):
    """A CLI that did not finish in time: a check failure, not a harness error."""


def file_changes(
    before: dict[str, FileSnapshot], after: dict[str, FileSnapshot]
) -> list[FileChange]:
    """The entries that differ between two snapshots of a tree, by path."""
    changes = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old != new:
            changes.append(FileChange(path, old, new))
    return changes
