"""Run one CLI operation safely: isolated home, scrubbed environment, timeout.

Why so careful: the suite runs somebody else's binary that manages real
credentials. It must never see the caller's ``~/.convox``, ``CONVOX_*``
variables or proxy settings (a leaked ``CONVOX_PASSWORD`` would make a broken
CLI look conformant, and a real key could be sent to our fakes), and a CLI
that hangs must not hang the suite. Every invocation of one test shares one
home so state carries from ``login`` to ``switch``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from conformance.running.capture import DEFAULT_MAX_OUTPUT, RETAINED_OUTPUT, BoundedCapture, reclip
from conformance.running.cli_files import CliState, FileSnapshot, snapshot_tree
from conformance.running.output_reader import pump
from conformance.running.profiles import Operation, Profile

DEFAULT_TIMEOUT = 20.0

#: The only variables taken from the caller; everything else is dropped.
PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONPATH", "SYSTEMROOT")

#: Dropped even if a profile's own environment is built on top of the caller's.
NEVER_PASSED = ("CONVOX_", "RACK_URL", "SSL_", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def is_forbidden(name: str) -> bool:
    upper = name.upper()
    return upper.startswith(NEVER_PASSED) or upper.endswith("_PROXY")


def scrubbed_environ(source: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment reduced to what a CLI needs to start."""
    source = os.environ if source is None else source
    return {
        name: source[name]
        for name in PASSED_THROUGH
        if name in source and not is_forbidden(name)
    }


class CliNotRunnable(Exception):
    """The CLI binary is missing or not executable; ``str()`` is one line."""


def check_runnable(profile: Profile) -> None:
    """Fail early, once, instead of failing every check the same way."""
    argv = profile.command_argv()
    program = argv[0]
    if os.sep in program:
        path = Path(program)
        if not path.exists():
            raise CliNotRunnable(f"CLI not found: {program} (profile {profile.name})")
        if not path.is_file() or not os.access(path, os.X_OK):
            raise CliNotRunnable(f"CLI is not an executable file: {program}")
    elif shutil.which(program, path=scrubbed_environ().get("PATH")) is None:
        raise CliNotRunnable(
            f"CLI {program!r} is not on PATH (profile {profile.name}); give --cli /path/to/it"
        )


@dataclass(frozen=True)
class FileChange:
    path: str
    before: FileSnapshot | None
    after: FileSnapshot | None

    @property
    def kind(self) -> str:
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


class CliSession:
    """One isolated home and the invocations made in it."""

    def __init__(
        self,
        profile: Profile,
        root: Path,
        *,
        extra_env: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_output: int = DEFAULT_MAX_OUTPUT,
        watch: Callable[[], Iterable[str]] | None = None,
        launcher: Sequence[str] = (),
    ) -> None:
        self.profile = profile
        #: Prepended to every CLI argv but never shown (the network sandbox's per-run mounts).
        self.launcher = list(launcher)
        self.root = root
        self.home = root / "home"
        self.xdg_config_home = self.home / ".config"
        self.config_dir = self.home / profile.layout.config_dir
        self.workdir = self.home / "work"
        for directory in (self.home, self.xdg_config_home, self.workdir):
            directory.mkdir(parents=True, exist_ok=True)
        self.extra_env = dict(extra_env or {})
        self.timeout = timeout
        self.max_output = max_output
        #: More keys to look for in output that is clipped (the world's).
        self.watch = watch
        self.state = CliState(profile.layout, self.config_dir, within=self.home)
        self.invocations: list[Invocation] = []
        #: Every secret this session passed to the CLI, for redaction.
        # Checks run commands from several threads (concurrent logins): each run adds its
        # key while others read every key known, so the set is only touched under a lock.
        self._secrets: set[str] = set()
        self._secrets_lock = threading.Lock()
        #: The check's trail (conformance.replay.record), told of every invocation.
        self.trail: Any = None

    @contextlib.contextmanager
    def working_directory(self, path: Path) -> Iterator[None]:
        """Run the invocations inside the block in ``path`` (a project directory).

        Only directories inside the isolated home are allowed: a CLI reads
        project files (``.convox/rack``) from where it runs, and must never be
        started among the user's own.
        """
        resolved = path.resolve()
        if not resolved.is_dir() or not resolved.is_relative_to(self.home.resolve()):
            raise ValueError(f"not a directory inside the isolated home: {path}")
        saved, self.workdir = self.workdir, resolved
        try:
            yield
        finally:
            self.workdir = saved

    # environment -----------------------------------------------------------
    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = scrubbed_environ()
        places = {
            "home": str(self.home),
            "config_dir": str(self.config_dir),
            "xdg_config_home": str(self.xdg_config_home),
        }
        env.update(
            HOME=str(self.home),
            XDG_CONFIG_HOME=str(self.xdg_config_home),
            TMPDIR=str(self.root),
            LANG=env.get("LANG", "C.UTF-8"),
            NO_COLOR="1",
        )
        env.update({k: v.format(**places) for k, v in self.profile.layout.env.items()})
        env.update(self.extra_env)
        env.update(extra or {})
        return env

    # running ---------------------------------------------------------------
    @property
    def secrets(self) -> frozenset[str]:
        """Every key this session was handed so far (a snapshot)."""
        with self._secrets_lock:
            return frozenset(self._secrets)

    def remember(self, secret: str) -> None:
        """Treat ``secret`` as a key: redacted in reports, named if output drops it."""
        with self._secrets_lock:
            self._secrets.add(secret)

    def run(
        self,
        operation: str,
        *,
        host: str | None = None,
        key: str | None = None,
        rack: str | None = None,
        password: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Invocation:
        """Run a profile operation; placeholders come from the keywords."""
        op = self.profile.operations.get(operation)
        if op is None:
            raise KeyError(f"profile {self.profile.name} has no operation {operation!r}")
        values = {"host": host, "key": key, "rack": rack, "password": password}
        for secret in (key, password):
            if secret:
                self.remember(secret)
        args = [self._fill(op, part, values) for part in op.argv]
        op_env = {name: self._fill(op, value, values) for name, value in op.env.items()}
        op_env.update(env or {})
        if op.prompt is not None:
            return self._run_prompt(op, args, op_env, key or "", timeout)
        return self._run(op.name, args, op_env, timeout)

    def run_args(
        self,
        args: Iterable[str],
        *,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Invocation:
        """Run the CLI with raw arguments (for checks outside the operations)."""
        return self._run("raw", list(args), dict(env or {}), timeout)

    def _fill(self, op: Operation, template: str, values: Mapping[str, str | None]) -> str:
        def value(name: str) -> str:
            got = values[name]
            if got is None:
                raise ValueError(f"operation {op.name} needs {name}=")
            return got

        names = {name: value(name) for name in ("host", "key", "rack", "password")
                 if "{" + name + "}" in template}
        return template.format(**names)

    def _display(self, args: list[str]) -> list[str]:
        return [self._redact(part) for part in self.profile.command_argv() + args]

    def _retained(self, invocation: Invocation) -> Invocation:
        """The copy kept for evidence: big streams clipped to RETAINED_OUTPUT.

        The check gets the whole capture; keeping that for every invocation
        of a long check would make memory grow with what the CLI prints.
        Known keys (the session's and ``watch``'s) that only the clipped part
        held are named in its marker, so checks that scan ``invocations`` for
        printed keys still find them.
        """
        if (len(invocation.stdout) <= RETAINED_OUTPUT
                and len(invocation.stderr) <= RETAINED_OUTPUT):
            return invocation
        watch = {*self.secrets, *(self.watch() if self.watch else ())}
        out = reclip(invocation.stdout, invocation.stdout_dropped, RETAINED_OUTPUT, watch)
        err = reclip(invocation.stderr, invocation.stderr_dropped, RETAINED_OUTPUT, watch)
        return replace(invocation, stdout=out.text, stderr=err.text,
                       stdout_dropped=out.dropped, stderr_dropped=err.dropped)

    def _redact(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "<redacted>")
        return text

    def _run(
        self, name: str, args: list[str], op_env: Mapping[str, str], timeout: float | None
    ) -> Invocation:
        argv = self.profile.command_argv() + args
        limit = timeout or self.timeout
        before = snapshot_tree(self.home)
        if self.trail is not None:
            self.trail.started()
        started_at = time.time()
        started = time.monotonic()
        try:
            process = subprocess.Popen(
                [*self.launcher, *argv],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=self.workdir,
                env=self.environment(op_env),
                start_new_session=True,
            )
        except OSError as exc:
            raise CliNotRunnable(f"cannot start CLI {argv[0]}: {exc.strerror}") from None
        assert process.stdout is not None and process.stderr is not None
        known = self.secrets
        out = BoundedCapture(self.max_output, known)
        err = BoundedCapture(self.max_output, known)
        fds = {process.stdout.fileno(): out, process.stderr.fileno(): err}
        try:
            ended = pump(process, fds, started + limit)
        finally:
            process.stdout.close()
            process.stderr.close()
        stdout, stderr = out.result(), err.result()
        after = snapshot_tree(self.home)
        invocation = Invocation(
            operation=name,
            argv=self._display(args),
            exit_code=None if ended.timed_out else process.returncode,
            stdout=stdout.text,
            stderr=stderr.text,
            duration=time.monotonic() - started,
            timed_out=ended.timed_out,
            changes=_diff(before, after),
            started_at=started_at,
            stdout_dropped=stdout.dropped,
            stderr_dropped=stderr.dropped,
            leftovers=[self._redact(line) for line in ended.leftovers],
        )
        if self.trail is not None:
            self.trail.ran(self, name, args, op_env, timeout, None, before, after, invocation)
        self._record(invocation, limit)
        return invocation

    def _run_prompt(
        self,
        op: Operation,
        args: list[str],
        op_env: Mapping[str, str],
        key: str,
        timeout: float | None,
    ) -> Invocation:
        """Drive a no-echo prompt through a real pseudo-terminal.

        The CLI gets the pty as its controlling terminal, so getpass-style
        code that opens /dev/tty works; after the prompt appears we wait for
        echo to be turned off (Go CLIs print the prompt first) before typing.
        """
        import pty
        import termios

        argv = self.profile.command_argv() + args
        limit = timeout or self.timeout
        before = snapshot_tree(self.home)
        if self.trail is not None:
            self.trail.started()
        started_at = time.time()
        started = time.monotonic()
        master, slave = pty.openpty()
        terminal = os.ttyname(slave)

        def controlling_tty() -> None:
            import fcntl

            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        try:
            process = subprocess.Popen(
                [*self.launcher, *argv],
                stdin=slave,
                stdout=slave,
                stderr=slave,
                cwd=self.workdir,
                env={**self.environment(op_env), "TERM": "dumb"},
                start_new_session=True,
                preexec_fn=controlling_tty,
            )
        except OSError as exc:
            os.close(master)
            os.close(slave)
            raise CliNotRunnable(f"cannot start CLI {argv[0]}: {exc.strerror}") from None
        os.close(slave)
        deadline = started + limit
        transcript = BoundedCapture(self.max_output, self.secrets)
        prompt = (op.prompt or "").encode()
        echo_off: bool | None = None
        typed = False
        recent = b""

        def answer(_fd: int, chunk: bytes) -> None:
            # Only the last few bytes are kept for the prompt: the transcript is bounded.
            nonlocal echo_off, typed, recent
            if typed:
                return
            recent = recent[-len(prompt):] + chunk if prompt else b""
            if prompt in recent:
                echo_off = _wait_echo_off(master, min(deadline, time.monotonic() + 2.0))
                os.write(master, key.encode() + b"\n")
                typed = True

        try:
            ended = pump(process, {master: transcript}, deadline, on_chunk=answer,
                         terminals={terminal})
        finally:
            os.close(master)
        kept = transcript.result()
        after = snapshot_tree(self.home)
        invocation = Invocation(
            operation=op.name,
            argv=self._display(args),
            exit_code=None if ended.timed_out else process.returncode,
            stdout=kept.text.replace("\r\n", "\n"),
            stderr="",
            duration=time.monotonic() - started,
            timed_out=ended.timed_out,
            changes=_diff(before, after),
            echo_off=echo_off if typed else None,
            started_at=started_at,
            stdout_dropped=kept.dropped,
            leftovers=[self._redact(line) for line in ended.leftovers],
        )
        if self.trail is not None:
            self.trail.ran(self, op.name, args, op_env, timeout, key, before, after, invocation)
        self._record(invocation, limit)
        return invocation

    def _record(self, invocation: Invocation, limit: float) -> None:
        self.invocations.append(self._retained(invocation))
        if invocation.timed_out:
            raise CliTimeout(
                f"CLI timed out after {limit:g}s and was killed: {' '.join(invocation.argv)}"
            )


def _wait_echo_off(fd: int, deadline: float) -> bool:
    import termios

    while True:
        with contextlib.suppress(termios.error):
            if not termios.tcgetattr(fd)[3] & termios.ECHO:
                return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def _diff(before: dict[str, FileSnapshot], after: dict[str, FileSnapshot]) -> list[FileChange]:
    changes = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old != new:
            changes.append(FileChange(path, old, new))
    return changes

