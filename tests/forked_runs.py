"""Many ``convox-conformance run`` processes without paying the libraries' import each time.

The kill test and the precision matrix start the suite well over a hundred times.
Most of a short run's CPU is its start-up: the interpreter, then pytest,
Hypothesis, cryptography and the rest, the same for every run. A fork server
(``tests/fork_server.py``) imports those libraries once. Each run is then a child
forked from it which takes the run's environment, working directory and output
file, and calls the function ``python -m conformance`` calls, with the same
arguments. So a run is still a process of its own, with its own exit status and
results.json; only the libraries arrive already imported. The suite's own modules
are never preloaded: every run imports them fresh from the checkout, as
``PYTHONPATH`` would have it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

#: The third-party libraries (and the heavy standard modules) every run imports.
PRELOAD = (
    "ssl", "json", "email.parser", "http.server",
    "pytest", "_pytest.python", "_pytest.junitxml", "_pytest.terminal",
    "hypothesis", "hypothesis.stateful", "hypothesis.strategies",
    "cryptography.x509", "trustme", "pytest_httpserver", "xdist.plugin", "dns.message",
    "rich.console",
)


class RunTimedOut(Exception):
    """A forked run outlived its time limit (and was killed)."""


class ForkServer:
    """One fork server process, and the runs it has started (safe from several threads)."""

    def __init__(self, root: Path) -> None:
        self._process = subprocess.Popen(
            [sys.executable, str(root / "tests" / "fork_server.py"), *PRELOAD],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=root,
            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
        self._changed = threading.Condition()
        self._started: dict[int, int] = {}   # request number -> pid
        self._ended: dict[int, int] = {}     # pid -> exit status
        self._requests = 0
        self._gone = False
        self._reader = threading.Thread(target=self._read, name="fork-server-reader",
                                        daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            kind, number, value = line.decode().split()
            with self._changed:
                if kind == "started":
                    self._started[int(number)] = int(value)
                else:
                    self._ended[int(number)] = int(value)
                self._changed.notify_all()
        with self._changed:
            self._gone = True
            self._changed.notify_all()

    def _wait(self, table: dict[int, int], key: int, timeout: float | None) -> int | None:
        with self._changed:
            self._changed.wait_for(lambda: key in table or self._gone, timeout)
            if key not in table and self._gone:
                raise RuntimeError("the fork server ended")
            # Taken out: a later run may be given the same pid.
            return table.pop(key, None)

    def run(self, argv: Sequence[str], env: Mapping[str, str], cwd: Path, output: Path,
            path_first: Path, timeout: float) -> int:
        """``python -m conformance ARGV`` forked from the server; its exit status.

        Its stdout and stderr go, interleaved, to ``output``. A run that outlives
        ``timeout`` is killed with its process group and :class:`RunTimedOut` raised.
        """
        request = {"argv": list(argv), "env": dict(env), "cwd": str(cwd),
                   "output": str(output), "path_first": str(path_first)}
        assert self._process.stdin is not None
        with self._changed:
            self._requests += 1
            number = self._requests
            request["number"] = number
            self._process.stdin.write(json.dumps(request).encode() + b"\n")
            self._process.stdin.flush()
        pid = self._wait(self._started, number, None)
        assert pid is not None
        code = self._wait(self._ended, pid, timeout)
        if code is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            self._wait(self._ended, pid, None)
            raise RunTimedOut(f"convox-conformance {' '.join(argv[:3])} ... "
                              f"outlived {timeout:g} s")
        return code

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=60)
        self._reader.join(timeout=60)


@contextlib.contextmanager
def fork_server(root: Path) -> Iterator[ForkServer]:
    server = ForkServer(root)
    try:
        yield server
    finally:
        server.close()
