"""The child's side of the shadow: a forked process runs R on a call F already answered.

``judge`` forks children that run each mutant's R on the arguments of one call
of F, cut off from everything but memory (standard streams of their own, no
input, an audit hook that stops any reach outside), and compare what R did with
what F did: '=' when R answered that call as F did, else why not.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import sys
import time
from collections.abc import Callable
from typing import Any

from tests.mutants.shadow_state import STATE, Call, Deviation, Shadow
from tests.mutants.shadow_values import Opaque, closure_state, module_state, shape

#: Seconds a child may take to judge one call before it counts as a deviation.
CHILD_SECONDS = 10.0


class Recorder:
    """A child's sys.stdout or sys.stderr: keeps what R prints, to compare with F's."""

    def __init__(self, stream: int, log: list[tuple[int, str]]) -> None:
        self.stream = stream
        self.log = log

    def write(self, text: str) -> int:
        self.log.append((self.stream, text))
        return len(text)

    def flush(self) -> None:
        pass

    def fileno(self) -> int:
        return self.stream

    def isatty(self) -> bool:
        return False


class NoInput:
    """A child's sys.stdin: reading what the parent reads would take it from the parent."""

    def __getattr__(self, name: str) -> Any:
        raise Deviation(f"stdin.{name}")


def judge(call: Call, variants: list[tuple[str, Callable[..., Any]]]) -> dict[str, str]:
    """Each variant's verdict on this call: '' when R answers it as F did, else why not.

    One forked child judges variants in turn while they are equivalent (an equivalent
    R leaves memory as it found it); after a deviation a new child takes the rest.
    """
    verdicts: dict[str, str] = {}
    sink = STATE.sink()
    while len(verdicts) < len(variants):
        left = [(name, r) for name, r in variants if name not in verdicts]
        for name, message in in_child_process(call, left, sink):
            verdicts[name] = "" if message == "=" else f"{call.point.name}: {message}"
        if not any(name in verdicts for name, _ in left):
            for name, _ in left:
                verdicts[name] = f"{call.point.name}: the child judging it gave no answer"
    return verdicts


def in_child_process(call: Call, variants: list[tuple[str, Callable[..., Any]]],
                     sink: int) -> list[tuple[str, str]]:
    """Fork; the child judges variants until the first that deviates; their verdicts."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    read, write = os.pipe()
    try:
        pid = os.fork()
    except OSError as exc:
        os.close(read)
        os.close(write)
        return [(variants[0][0], f"cannot fork: {exc}")]
    if pid == 0:  # pragma: no cover - the child reports through the pipe, then _exits
        try:
            os.close(read)
            isolate(sink, write)
            for name, replacement in variants:
                try:
                    message = in_child(call, replacement, STATE.points_of.get(name, set()))
                except BaseException as exc:  # any failure is a deviation
                    message = f"{type(exc).__name__}: {exc}"
                os.write(write, json.dumps([name, message]).encode("utf-8", "replace") + b"\n")
                if message != "=":
                    break
        finally:
            os._exit(0)
    os.close(write)
    chunks = []
    deadline = time.monotonic() + CHILD_SECONDS * len(variants)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read], [], [], left)[0]:
                os.kill(pid, 9)
                break
            chunk = os.read(read, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read)
        os.waitpid(pid, 0)
    verdicts = []
    for line in b"".join(chunks).splitlines():
        try:
            name, message = json.loads(line)
        except ValueError:
            break
        verdicts.append((name, message))
    return verdicts


def isolate(sink: int, report: int) -> None:
    """Cut the child off from the parent's streams and every descriptor but two."""
    import gc

    # No collection in the child: it would touch, and so copy, every page of the heap.
    gc.disable()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.ftruncate(sink, 0)
    os.dup2(sink, 1)
    os.dup2(sink, 2)
    os.closerange(3, report)
    os.closerange(report + 1, 1 << 20)
    sys.stdin = NoInput()
    STATE.watches.clear()


def in_child(call: Call, replacement: Callable[..., Any],
             variant_points: set[tuple[str, str]]) -> str:
    """Run R on F's call, cut off from everything but memory; '=' when equivalent."""
    printed: list[tuple[int, str]] = []
    sys.stdout = Recorder(1, printed)
    sys.stderr = Recorder(2, printed)
    shadow = Shadow(call, variant_points)
    STATE.shadow = shadow
    STATE.aborted = ""
    modules_before = call.modules
    kept_before = closure_state(replacement)
    STATE.paused = 0
    STATE.block = True
    try:
        mine: tuple[str, Any] = ("return", replacement(*call.args, **call.kwargs))
    except Deviation as exc:
        mine = ("deviated", str(exc))
    except BaseException as exc:  # compared with what F raised
        mine = ("raise", exc)
    finally:
        STATE.block = False
        STATE.paused = 1
    outcome = call.outcome
    if STATE.aborted:
        return f"reached outside: {STATE.aborted}"
    if mine[0] == "deviated":
        return f"deviated: {mine[1]}"
    if mine[0] != outcome[0]:
        return (f"{'raised' if mine[0] == 'raise' else 'returned'} where F "
                f"{'raised' if outcome[0] == 'raise' else 'returned'}")
    # Compared with F's answer as it was when F gave it: R may hand back F's own object
    # after changing it in place.
    try:
        if shape(mine[1]) != call.answer:
            return "a different answer"
    except (Opaque, RecursionError, TypeError, ValueError) as exc:
        return f"an answer that cannot be compared ({exc})"
    for stream, what in ((1, "stdout"), (2, "stderr")):
        if ("".join(t for s, t in printed if s == stream)
                != "".join(t for s, t in call.written if s == stream)):
            return f"printed something else on {what}"
    if os.fstat(1).st_size:
        return "wrote to a standard stream directly"
    if call.effects and shadow.originals != 1:
        return f"called the original {shadow.originals} times where F reached out once"
    if call.point.arguments(call.args, call.kwargs) != call.pre:
        return "changed its arguments"
    if closure_state(replacement) != kept_before:
        return "changed what it keeps between calls"
    if module_state() != modules_before:
        return "changed the CLI's module state"
    return "="
