"""The CLI as an operating-system process: can it start, and start it, piped or on a terminal.

Either way the process gets a session of its own (so what it leaves running
can be found and killed) and its output is read into bounded captures until
it exits or ``deadline`` passes (:mod:`conformance.running.output_reader`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from conformance.running.capture import BoundedCapture, Captured
from conformance.running.invoke.environment import scrubbed_environ
from conformance.running.output_reader import pump
from conformance.running.profiles import Profile


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
class Exited:
    """How a CLI process ended and what was kept of its output."""

    exit_code: int | None
    timed_out: bool
    stdout: Captured
    stderr: Captured
    #: Processes it left running, named (and killed by then).
    leftovers: list[str]
    #: On a terminal: whether echo was off when the key was typed (None: never typed).
    echo_off: bool | None = None


@dataclass(frozen=True)
class Start:
    """What to run and how: ``launcher`` goes before ``argv`` but is never named."""

    argv: Sequence[str]
    launcher: Sequence[str]
    cwd: Path
    env: Mapping[str, str]
    deadline: float
    max_output: int
    #: The keys to look for in output that gets clipped, read once the process started.
    known: Callable[[], Iterable[str]]

    def cannot_start(self, exc: OSError) -> CliNotRunnable:
        return CliNotRunnable(f"cannot start CLI {self.argv[0]}: {exc.strerror}")


def run_piped(start: Start) -> Exited:
    """Run with stdin closed and stdout and stderr read apart."""
    try:
        process = subprocess.Popen(
            [*start.launcher, *start.argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=start.cwd,
            env=dict(start.env),
            start_new_session=True,
        )
    except OSError as exc:
        raise start.cannot_start(exc) from None
    assert process.stdout is not None and process.stderr is not None
    known = start.known()
    out = BoundedCapture(start.max_output, known)
    err = BoundedCapture(start.max_output, known)
    fds = {process.stdout.fileno(): out, process.stderr.fileno(): err}
    try:
        ended = pump(process, fds, start.deadline)
    finally:
        process.stdout.close()
        process.stderr.close()
    return Exited(exit_code=None if ended.timed_out else process.returncode,
                  timed_out=ended.timed_out, stdout=out.result(), stderr=err.result(),
                  leftovers=ended.leftovers)


def run_prompted(start: Start, prompt: str, key: str) -> Exited:
    """Drive a no-echo prompt through a real pseudo-terminal, typing ``key`` at ``prompt``.

    The CLI gets the pty as its controlling terminal, so getpass-style
    code that opens /dev/tty works; after the prompt appears we wait for
    echo to be turned off (Go CLIs print the prompt first) before typing.
    Everything it prints is one stream, kept as stdout with LF line ends.
    """
    # POSIX-only modules, imported when a prompt is driven: the rest runs without them.
    import pty
    import termios

    master, slave = pty.openpty()
    terminal = os.ttyname(slave)

    def controlling_tty() -> None:
        import fcntl

        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    try:
        process = subprocess.Popen(
            [*start.launcher, *start.argv],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=start.cwd,
            env={**start.env, "TERM": "dumb"},
            start_new_session=True,
            preexec_fn=controlling_tty,
        )
    except OSError as exc:
        os.close(master)
        os.close(slave)
        raise start.cannot_start(exc) from None
    os.close(slave)
    transcript = BoundedCapture(start.max_output, start.known())
    expected = prompt.encode()
    echo_off: bool | None = None
    typed = False
    recent = b""

    def answer(_fd: int, chunk: bytes) -> None:
        # Only the last few bytes are kept for the prompt: the transcript is bounded.
        nonlocal echo_off, typed, recent
        if typed:
            return
        recent = recent[-len(expected):] + chunk if expected else b""
        if expected in recent:
            echo_off = _wait_echo_off(master, min(start.deadline, time.monotonic() + 2.0))
            os.write(master, key.encode() + b"\n")
            typed = True

    try:
        ended = pump(process, {master: transcript}, start.deadline, on_chunk=answer,
                     terminals={terminal})
    finally:
        os.close(master)
    kept = transcript.result()
    return Exited(exit_code=None if ended.timed_out else process.returncode,
                  timed_out=ended.timed_out,
                  stdout=replace(kept, text=kept.text.replace("\r\n", "\n")),
                  stderr=Captured(""), leftovers=ended.leftovers,
                  echo_off=echo_off if typed else None)


def _wait_echo_off(fd: int, deadline: float) -> bool:
    import termios

    while True:
        with contextlib.suppress(termios.error):
            if not termios.tcgetattr(fd)[3] & termios.ECHO:
                return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
