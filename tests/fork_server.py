"""The fork server of ``tests/forked_runs.py``: ``python fork_server.py MODULE...``.

Imports the MODULEs, then reads one JSON request per line on stdin and forks a
child for each, which becomes a ``python -m conformance`` run (environment,
working directory, output file, arguments) and ends with its exit status. It
answers ``started N PID`` for request N and ``ended PID STATUS`` when that child
ends (STATUS as ``subprocess`` gives it: negative for a signal). It runs one
thread only, so a fork never copies a lock another thread holds, and it ends when
its stdin closes.

Only the standard library is imported here besides the MODULEs, and none of the
suite's modules: a run must import those itself, fresh.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import sys
from typing import Any


def become_the_run(request: dict[str, Any], server_fds: list[int]) -> None:
    """In the child: take the run's place and run it; never returns."""
    import atexit
    import tempfile

    code = 1
    try:
        # A group of its own: a run that outlives its limit is killed with what it started.
        os.setpgrp()
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in server_fds:
            os.close(fd)
        # The server's stdin and stdout are its pipes to the tests: replaced, not shared.
        null = os.open(os.devnull, os.O_RDONLY)
        output = os.open(request["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(null, 0)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(null)
        os.close(output)
        os.environ.clear()
        os.environ.update(request["env"])
        tempfile.tempdir = None  # read again from the run's TMPDIR
        os.chdir(request["cwd"])
        # What PYTHONPATH does for `python -m conformance`: the checkout's modules first.
        sys.path.insert(0, request["path_first"])
        sys.argv = [sys.executable, "-m", "conformance", *request["argv"]]
        from conformance.commands.main import main

        code = main(request["argv"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # the run's own failure, as the interpreter would print it
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
            # The interpreter would run these at exit; os._exit does not.
            atexit._run_exitfuncs()
        os._exit(code)


def reap(answer: Any) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        answer(f"ended {pid} {os.waitstatus_to_exitcode(status)}")


def serve() -> None:
    # Started as a script: its own directory (tests/) must not shadow any module.
    if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]
    for name in sys.argv[1:]:
        with contextlib.suppress(ImportError):
            __import__(name)
    requests = sys.stdin.fileno()
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    answers = sys.stdout.fileno()

    def answer(line: str) -> None:
        os.write(answers, (line + "\n").encode())

    pending = b""
    while True:
        ready, _, _ = select.select([requests, wake_read], [], [])
        if wake_read in ready:
            with contextlib.suppress(BlockingIOError):
                while os.read(wake_read, 512):
                    pass
        reap(answer)
        if requests not in ready:
            continue
        chunk = os.read(requests, 1 << 16)
        if not chunk:
            return
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            request = json.loads(line)
            pid = os.fork()
            if pid == 0:
                become_the_run(request, [wake_read, wake_write])
            answer(f"started {request['number']} {pid}")


if __name__ == "__main__":
    serve()
